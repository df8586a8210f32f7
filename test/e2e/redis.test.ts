/**
 * The end-to-end workflow behaviours on a real Redis, in real time: every
 * worker and client here goes through `Connection.connect({ redis, namespace })`,
 * and the workers and the client use *separate* connections, so everything
 * they share travels through Redis (streams, commits, timers, pub/sub).
 *
 * Durations are short (50 ms retry intervals, 300 ms timeouts). Nothing
 * sleeps to synchronise: tests wait for results, for activities to arrive at
 * a gate the test opens, or for an observable condition with a deadline.
 * The behaviours that need virtual time stay in the in-memory tests.
 */
import { Effect, Layer } from "effect"
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  Client,
  Connection,
  Store,
  type StoreShape,
  TerminatedFailure,
  Worker,
  type WorkerOptions,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "hotmesh"
import { Context } from "hotmesh/activity"
import { Redis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { makeKeys } from "../../src/stores/redis/keys.ts"
import { makeRedisStore } from "../../src/stores/redis/layer.ts"
import { entriesOf, eventually, historyOf, rejectionOf, unique, useMesh, within } from "../fixtures/e2e-support.ts"
import * as workflows from "../redis/fixtures/workflows.ts"
import { gates, streamsDrained } from "../redis/fixtures/redisSupport.ts"
import type { RedisTestActivities } from "../redis/fixtures/workflows.ts"
import { useRedis } from "../support/redisServer.ts"

const redis = await useRedis()
// The workers' connection and the client's are separate: everything they share goes through Redis.
const mesh = useMesh({ backend: "redis", redis, prefix: "e2e" })
const { namespace } = mesh
const admin = new Redis(redis.url)
afterAll(() => admin.disconnect())
const drained = (taskQueue: string) => streamsDrained(admin, namespace, taskQueue)

/** Activities that record their calls; `gate(label)` waits until the test opens that gate. */
const testActivities = () => {
  const calls: Array<{ readonly type: string; readonly attempt: number; readonly at: number }> = []
  const gated = gates()
  const record = (type: string) => calls.push({ type, attempt: Context.current().info.attempt, at: Date.now() })
  const activities: Omit<RedisTestActivities, "heartbeating"> = {
    async greet(name) {
      record("greet")
      return `Hello, ${name}!`
    },
    async flaky(failures) {
      record("flaky")
      const { attempt } = Context.current().info
      if (attempt <= failures) throw ApplicationFailure.retryable(`attempt ${attempt} failed`, "Transient")
      return attempt
    },
    async decline(reason) {
      record("decline")
      throw ApplicationFailure.nonRetryable(reason, "CardDeclined")
    },
    async gate(label) {
      record("gate")
      return await gated.gate(label)
    },
    async cleanup(label) {
      record("cleanup")
      return `cleaned up ${label}`
    },
    async crashy(input) {
      record("crashy")
      return input
    },
  }
  return {
    activities,
    calls,
    arrived: gated.arrived,
    open: gated.open,
  }
}

/** Run a worker (on the worker connection, a fresh task queue) while `fn` runs. */
const withWorker = async <T>(options: Partial<WorkerOptions>, fn: (taskQueue: string) => Promise<T>): Promise<T> => {
  const taskQueue = unique("redis-e2e")
  const worker = await Worker.create({ connection: mesh.connection, taskQueue, workflows, ...options })
  return await worker.runUntil(() => fn(taskQueue))
}

describe("activities", () => {
  it("runs an activity", async () => {
    const { activities } = testActivities()
    const result = await withWorker({ activities }, (taskQueue) =>
      mesh.client.workflow.execute(workflows.greeting, { taskQueue, workflowId: unique("greet"), args: ["Ada"] }))
    expect(result).toBe("Hello, Ada!")
  })

  it("retries a failing activity with backoff (50 ms, then 100 ms), never early", async () => {
    const { activities, calls } = testActivities()
    const workflowId = unique("retry")
    await withWorker({ activities }, async (taskQueue) => {
      const handle = await mesh.client.workflow.start(workflows.retrying, { taskQueue, workflowId, args: [2] })
      expect(await handle.result()).toBe(3)
      const history = await historyOf(handle)
      expect(entriesOf(history, "ActivityRetrying").map((e) => [e.attempt, e.delayMs])).toEqual([[2, 50], [3, 100]])
      expect(entriesOf(history, "ActivityCompleted")).toHaveLength(1)
    })
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3])
    // The retry timers fire by Redis TIME, which is this machine's clock too.
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(49)
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(99)
  })

  it("fails the workflow on a non-retryable failure, with the cause chain", async () => {
    const { activities, calls } = testActivities()
    const error = await withWorker({ activities }, (taskQueue) =>
      rejectionOf(mesh.client.workflow.execute(workflows.declined, { taskQueue, workflowId: unique("declined") })))
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).status).toBe("FAILED")
    expect(error.cause).toBeInstanceOf(ActivityFailure)
    expect(error.cause.cause).toBeInstanceOf(ApplicationFailure)
    expect(error.cause.cause.type).toBe("CardDeclined")
    expect(error.cause.cause.message).toBe("card declined")
    expect(calls.map((c) => c.attempt)).toEqual([1])
  })
})

describe("child workflows", () => {
  it("runs a child and returns its result to the parent", async () => {
    const { activities } = testActivities()
    const workflowId = unique("parent")
    await withWorker({ activities }, async (taskQueue) => {
      const handle = await mesh.client.workflow.start(workflows.parentOf, { taskQueue, workflowId, args: ["Bo"] })
      expect(await handle.result()).toBe("parent got: Hello, Bo!")
      const child = mesh.client.workflow.getHandle(`${workflowId}-child`)
      const description = await child.describe()
      expect(description.status).toBe("COMPLETED")
      expect(description.type).toBe("greeting")
      expect(description.parent?.workflowId).toBe(workflowId)
      expect(entriesOf(await historyOf(handle), "ChildCompleted")).toHaveLength(1)
    })
  })
})

describe("signals and queries", () => {
  it("keeps a signal sent before the workflow waits for it; queries answer while it runs and after it closes", async () => {
    const { activities, arrived, open } = testActivities()
    const gate = unique("gate")
    await withWorker({ activities }, async (taskQueue) => {
      const handle = await mesh.client.workflow.start(workflows.approval, {
        taskQueue,
        workflowId: unique("approval"),
        args: [{ timeout: "20s", gateLabel: gate }],
      })
      await arrived(gate)
      expect(await handle.query(workflows.status)).toBe("at the gate")
      // The workflow is busy in an activity: it is not waiting for the signal yet.
      await handle.signal(workflows.approve, "Grace")
      open(gate)
      expect(await handle.result()).toBe("approved by Grace")
      expect(await handle.query(workflows.status)).toBe("approved")
      const history = await historyOf(handle)
      const signal = entriesOf(history, "SignalReceived")
      expect(signal).toHaveLength(1)
      // Recorded before the gate activity completed: delivered while the workflow was busy.
      expect(history.indexOf(signal[0]!)).toBeLessThan(history.indexOf(entriesOf(history, "ActivityCompleted")[0]!))
    })
  })

  it("rejects a signal to a workflow that is not running", async () => {
    const error = await rejectionOf(mesh.client.workflow.getHandle(unique("nobody")).signal(workflows.approve, "x"))
    expect(error).toBeInstanceOf(WorkflowNotFoundError)
  })

  it("times out a condition after its short timeout, not before", async () => {
    const { activities } = testActivities()
    await withWorker({ activities }, async (taskQueue) => {
      const handle = await mesh.client.workflow.start(workflows.approval, { taskQueue, workflowId: unique("timeout"), args: [{ timeout: "300ms" }] })
      expect(await handle.result()).toBe("timed out")
      expect(await handle.query(workflows.status)).toBe("timed out")
      const history = await historyOf(handle)
      const [started] = entriesOf(history, "TimerStarted")
      const [fired] = entriesOf(history, "TimerFired")
      expect(started?.durationMs).toBe(300)
      const lateness = fired!.at - started!.at - 300
      expect(lateness).toBeGreaterThanOrEqual(0)
      // Timers fire by Redis TIME as soon as they are due: milliseconds late, not a polling period.
      expect(lateness).toBeLessThan(1000)
    })
  })
})

describe("cancellation and termination", () => {
  it("cancels a sleeping workflow: result() rejects with a CancelledFailure", async () => {
    const { activities } = testActivities()
    await withWorker({ activities }, async (taskQueue) => {
      const handle = await mesh.client.workflow.start(workflows.sleeper, { taskQueue, workflowId: unique("cancel"), args: ["1 hour"] })
      await eventually(async () => (entriesOf(await historyOf(handle), "TimerStarted").length > 0 ? true : undefined), "the workflow to start its timer")
      await handle.cancel()
      const error = await rejectionOf(handle.result())
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect(error.status).toBe("CANCELLED")
      expect(error.cause).toBeInstanceOf(CancelledFailure)
      expect((await handle.describe()).status).toBe("CANCELLED")
      const history = await historyOf(handle)
      expect(entriesOf(history, "CancelRequested")).toHaveLength(1)
      expect(entriesOf(history, "TimerCancelled")).toHaveLength(1)
    })
  })

  it("lets a workflow catch its cancellation and clean up in a non-cancellable scope", async () => {
    const { activities, calls } = testActivities()
    await withWorker({ activities }, async (taskQueue) => {
      const handle = await mesh.client.workflow.start(workflows.cancellableWithCleanup, { taskQueue, workflowId: unique("cleanup") })
      await eventually(async () => (entriesOf(await historyOf(handle), "TimerStarted").length > 0 ? true : undefined), "the workflow to start its timer")
      await handle.cancel()
      expect(await handle.result()).toBe("cancelled, then cleaned up after cancel")
      expect((await handle.describe()).status).toBe("COMPLETED")
    })
    expect(calls.map((c) => c.type)).toEqual(["cleanup"])
  })

  it("terminates a workflow busy in an activity; its late completion changes nothing", async () => {
    const { activities, arrived, open } = testActivities()
    const gate = unique("gate")
    await withWorker({ activities }, async (taskQueue) => {
      const handle = await mesh.client.workflow.start(workflows.gated, { taskQueue, workflowId: unique("terminate"), args: [gate] })
      await arrived(gate)
      await handle.terminate("enough")
      const error = await rejectionOf(handle.result())
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect(error.status).toBe("TERMINATED")
      expect(error.cause).toBeInstanceOf(TerminatedFailure)
      expect(error.cause.message).toBe("enough")
      const length = (await historyOf(handle)).length
      open(gate)
      await drained(taskQueue)
      expect(await rejectionOf(handle.signal(workflows.approve, "late"))).toBeInstanceOf(WorkflowNotFoundError)
      const history = await historyOf(handle)
      expect(history).toHaveLength(length)
      expect(entriesOf(history, "WorkflowTerminated").map((e) => e.reason)).toEqual(["enough"])
      expect(entriesOf(history, "ActivityCompleted")).toHaveLength(0)
      expect(history.at(-1)?.type).toBe("WorkflowTerminated")
    })
  })
})

describe("workflow ids and describe()", () => {
  it("rejects a second start with a running workflow's id, and accepts it once the first run closed", async () => {
    const { activities, arrived, open } = testActivities()
    const workflowId = unique("dup")
    const gate = unique("gate")
    await withWorker({ activities }, async (taskQueue) => {
      const first = await mesh.client.workflow.start(workflows.gated, { taskQueue, workflowId, args: [gate] })
      await arrived(gate)
      const error = await rejectionOf(mesh.client.workflow.start(workflows.greeting, { taskQueue, workflowId, args: ["again"] }))
      expect(error).toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
      expect(error.workflowId).toBe(workflowId)
      expect(error.workflowType).toBe("gated")
      open(gate, "first run")
      expect(await first.result()).toBe("first run")

      const second = await mesh.client.workflow.start(workflows.greeting, { taskQueue, workflowId, args: ["again"] })
      expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId)
      expect(await second.result()).toBe("Hello, again!")
      expect((await mesh.client.workflow.getHandle(workflowId).describe()).runId).toBe(second.firstExecutionRunId)
    })
  })

  it("describes a running and a completed workflow", async () => {
    const { activities, arrived, open } = testActivities()
    const workflowId = unique("describe")
    const gate = unique("gate")
    await withWorker({ activities }, async (taskQueue) => {
      const before = Date.now()
      const handle = await mesh.client.workflow.start(workflows.gated, { taskQueue, workflowId, args: [gate] })
      await arrived(gate)
      const running = await handle.describe()
      expect(running).toMatchObject({ workflowId, runId: handle.firstExecutionRunId, type: "gated", taskQueue, status: "RUNNING" })
      expect(running.pendingActivities).toEqual([{ activityId: expect.any(String), activityType: "gate", attempt: 1, state: "STARTED" }])
      expect(running.historyLength).toBeGreaterThan(0)
      expect(running.closeTime).toBeUndefined()
      expect(running.startTime.getTime()).toBeGreaterThanOrEqual(before - 5)

      open(gate)
      await handle.result()
      const closed = await handle.describe()
      expect(closed.status).toBe("COMPLETED")
      expect(closed.pendingActivities).toEqual([])
      expect(closed.closeTime!.getTime()).toBeGreaterThanOrEqual(closed.startTime.getTime())
      expect(closed.historyLength).toBe((await historyOf(handle)).length)
    })
  })

  it("rejects describe() of an unknown workflow id", async () => {
    expect(await rejectionOf(mesh.client.workflow.getHandle(unique("missing")).describe())).toBeInstanceOf(WorkflowNotFoundError)
  })
})

describe("workers come and go", () => {
  it("keeps a workflow of a type no worker knows until a worker that knows it appears", async () => {
    const { activities } = testActivities()
    const taskQueue = unique("unknown-type")
    const workflowId = unique("unknown")
    const handle = await mesh.client.workflow.start(workflows.greeting, { taskQueue, workflowId, args: ["Late"] })

    // A worker for the queue that does not know "greeting": the task fails and is retried; the workflow does not.
    const ignorant = await Worker.create({ connection: mesh.connection, taskQueue, workflows: { approval: workflows.approval }, activities })
    await ignorant.runUntil(async () => {
      const failure = await eventually(async () => (await handle.describe()).taskFailure, "the unknown type to be reported")
      expect(failure.type).toBe("UnknownWorkflowTypeError")
      expect(failure.message).toContain("greeting")
    })
    expect((await handle.describe()).status).toBe("RUNNING")

    const knowing = await Worker.create({ connection: mesh.connection, taskQueue, workflows, activities })
    expect(await knowing.runUntil(() => handle.result())).toBe("Hello, Late!")
    expect((await handle.describe()).taskFailure).toBeUndefined()
  })

  it("keeps a workflow started while no worker polls its queue until one does", async () => {
    const { activities } = testActivities()
    const taskQueue = unique("no-worker-yet")
    const handle = await mesh.client.workflow.start(workflows.greeting, { taskQueue, workflowId: unique("early"), args: ["Early"] })
    const description = await handle.describe()
    expect(description.status).toBe("RUNNING")
    expect(description.historyLength).toBe(0)
    const worker = await Worker.create({ connection: mesh.connection, taskQueue, workflows, activities })
    expect(await worker.runUntil(() => handle.result())).toBe("Hello, Early!")
  })

  it("cooperates through Redis only: workflows, activities and the client on three separate connections", async () => {
    const { activities, calls } = testActivities()
    const taskQueue = unique("split")
    const workflowConnection = await mesh.connect()
    const activityConnection = await mesh.connect()
    const ownClientConnection = await mesh.connect()
    try {
      const workflowWorker = await Worker.create({ connection: workflowConnection, taskQueue, workflows })
      const activityWorker = await Worker.create({ connection: activityConnection, taskQueue, activities })
      const ownClient = new Client({ connection: ownClientConnection })
      const result = await workflowWorker.runUntil(() =>
        activityWorker.runUntil(async () => {
          const parent = await ownClient.workflow.execute(workflows.parentOf, { taskQueue, workflowId: unique("split-parent"), args: ["Cy"] })
          const retried = await ownClient.workflow.execute(workflows.retrying, { taskQueue, workflowId: unique("split-retry"), args: [1] })
          return [parent, retried]
        }))
      expect(result).toEqual(["parent got: Hello, Cy!", 2])
      expect(calls.map((c) => `${c.type}#${c.attempt}`)).toEqual(["greet#1", "flaky#1", "flaky#2"])
    } finally {
      await ownClientConnection.close()
      await activityConnection.close()
      await workflowConnection.close()
    }
  })
})

/** A Redis store whose `awaitUpdate` is replaced by `decorate(original)`. */
const decoratedRedis = (decorate: (original: StoreShape["awaitUpdate"]) => StoreShape["awaitUpdate"]) =>
  Layer.effect(
    Store,
    Effect.map(makeRedisStore({ redis: redis.url, namespace }), (store): StoreShape => ({ ...store, awaitUpdate: decorate(store.awaitUpdate) })),
  )

describe("waiting for results", () => {
  it("wakes handle.result() with the closing commit's notification, not by polling", async () => {
    const waits: Array<{ readonly key: string; readonly startedAt: number; endedAt?: number }> = []
    // Ignore the caller's poll interval (5 s): only a notification — or the version
    // check a wait makes when it starts — can end these waits before the test times out.
    const layer = decoratedRedis((original) => (key, afterVersion) =>
      Effect.suspend(() => {
        const wait: { key: string; startedAt: number; endedAt?: number } = { key, startedAt: Date.now() }
        waits.push(wait)
        return original(key, afterVersion, 120_000).pipe(Effect.ensuring(Effect.sync(() => void (wait.endedAt = Date.now()))))
      }))
    const notifiedConnection = await Connection.connect({ store: layer, namespace })
    const subscriber = new Redis(redis.url)
    try {
      const published: Array<string> = []
      subscriber.on("message", (_channel: string, message: string) => published.push(message))
      await subscriber.subscribe(`${namespace}:updates`)
      const notifiedClient = new Client({ connection: notifiedConnection })
      const { activities } = testActivities()
      const workflowId = unique("notified")
      await withWorker({ activities }, async (taskQueue) => {
        const handle = await notifiedClient.workflow.start(workflows.approval, { taskQueue, workflowId, args: [{ timeout: "1 minute" }] })
        // Parked in `condition`: its record does not change until the signal.
        await eventually(async () => ((await handle.query(workflows.status)) === "waiting" ? true : undefined), "the workflow to wait")
        const result = handle.result()
        await eventually(() => (waits.some((w) => w.key === workflowId && w.endedAt === undefined) ? true : undefined), "result() to wait")
        const signalledAt = Date.now()
        await handle.signal(workflows.approve, "Notified")
        expect(await within(result, 10_000, "result() after the notification")).toBe("approved by Notified")
        expect(Date.now() - signalledAt).toBeLessThan(5_000)
      })
      expect(waits.every((w) => w.endedAt !== undefined)).toBe(true)
      await eventually(() => (published.some((m) => m.endsWith(`:${workflowId}`)) ? true : undefined), "the closing commit's notification")
      expect(published.filter((m) => m.endsWith(`:${workflowId}`))).toHaveLength(1)
    } finally {
      subscriber.disconnect()
      await notifiedConnection.close()
    }
  })

  it("still returns when notifications are lost (the durable fallback re-reads the record)", async () => {
    // Every notification is ignored: awaitUpdate just waits out the caller's poll interval.
    const layer = decoratedRedis(() => (_key, _afterVersion, timeoutMs) => Effect.sleep(timeoutMs))
    const deafConnection = await Connection.connect({ store: layer, namespace })
    try {
      const deafClient = new Client({ connection: deafConnection })
      const { activities, arrived, open } = testActivities()
      const gate = unique("gate")
      await withWorker({ activities }, async (taskQueue) => {
        const handle = await deafClient.workflow.start(workflows.gated, { taskQueue, workflowId: unique("deaf"), args: [gate] })
        const result = handle.result()
        await arrived(gate)
        open(gate, "polled")
        expect(await within(result, 20_000, "result() without notifications")).toBe("polled")
      })
    } finally {
      await deafConnection.close()
    }
  })
})

describe("hostile entries", () => {
  it("an entry XADDed behind HotMesh's back that cannot decode is dead-lettered at once, whole", async () => {
    const keys = makeKeys(namespace, 8)
    const result = await withWorker({ activities: testActivities().activities }, async (taskQueue) => {
      const stream = keys.stream(0, { kind: "workflow", taskQueue })
      const intruder = keyOfPartition(keys, 0, "intruder")
      await admin.xadd(stream, "*", "k", intruder, "b", JSON.stringify({ type: "Start" }))
      await admin.xadd(stream, "*", "x", "y", "b", "{}")
      const dead = await eventually(async () => {
        const list = await mesh.client.deadLetters.list({ taskQueue })
        return list.length === 2 ? list : undefined
      }, "both entries dead-lettered")
      const start = dead.find((d) => d.workflowId === intruder)!
      expect(start).toMatchObject({ body: JSON.stringify({ type: "Start" }), deliveries: 1, kind: "workflow" })
      expect(start.reason).toMatch(/workflowId/)
      expect(start.raw).toBeUndefined()
      const odd = dead.find((d) => d.workflowId === "")!
      expect(odd.raw).toBe(JSON.stringify(["x", "y", "b", "{}"]))
      expect(odd.reason).toBe("misrouted: the stream entry has no routing key (field k)")
      // The worker carries on.
      return await mesh.client.workflow.execute(workflows.greeting, { taskQueue, workflowId: unique("after-intruder"), args: ["Ada"] })
    })
    expect(result).toBe("Hello, Ada!")
  })

  it("a well-formed message XADDed into the wrong partition is dead-lettered at once (no step could ever commit it)", async () => {
    const keys = makeKeys(namespace, 8)
    const result = await withWorker({ activities: testActivities().activities }, async (taskQueue) => {
      const elsewhere = keyOfPartition(keys, 3, "misrouted")
      const signal = JSON.stringify({ type: "Signal", signalId: "s-1", name: "go", args: [] })
      await admin.xadd(keys.stream(0, { kind: "workflow", taskQueue }), "*", "k", elsewhere, "b", signal)
      const [dead] = await eventually(async () => {
        const list = await mesh.client.deadLetters.list({ taskQueue })
        return list.length === 1 ? list : undefined
      }, "the misrouted entry dead-lettered")
      expect(dead).toMatchObject({ workflowId: elsewhere, body: signal, deliveries: 1, reason: `misrouted: key "${elsewhere}" belongs to partition 3, found in partition 0` })
      return await mesh.client.workflow.execute(workflows.greeting, { taskQueue, workflowId: unique("after-misrouted"), args: ["Ada"] })
    })
    expect(result).toBe("Hello, Ada!")
  })
})

/** A key that partition `p` owns. */
const keyOfPartition = (keys: ReturnType<typeof makeKeys>, p: number, prefix: string): string => {
  for (let i = 0; ; i++) if (keys.partitionOf(`${prefix}-${i}`) === p) return `${prefix}-${i}`
}
