/**
 * Temporal's `proxyLocalActivities`: the workflow worker runs the activity
 * itself, in the step that scheduled it, and commits its outcome with that
 * step (no activity task, no round trip); retries within
 * `localRetryThreshold` run in the process, longer backoffs wait on durable
 * timers; timeouts and failures reach the workflow as for any activity; a
 * replay delivers the recorded outcome without running the activity again;
 * a worker that dies while a local activity runs leaves the step to another
 * worker, which runs it again and records its outcome once. On the memory
 * store and on Redis.
 */
import { randomUUID } from "node:crypto"
import { fileURLToPath } from "node:url"
import { Client, Connection, DeterminismViolationError, InvalidArgumentError, Worker, type WorkerOptions } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { defaultPayloadConverter, proxyLocalActivities } from "hotmesh/workflow"
import { afterAll, describe, expect, it } from "vitest"
import { useRedis } from "../support/redisServer.ts"
import { createActivities, type Hooks } from "./activities/local-activities.ts"
import * as workflows from "./workflows/local-activities.ts"

const redis = await useRedis()

describe.each([
  { store: "memory", connect: (namespace: string, extra = {}) => Connection.connect({ namespace, ...extra }) },
  { store: "redis", connect: (namespace: string, extra = {}) => Connection.connect({ redis: redis.url, namespace: `${namespace}-${process.pid}`, ...extra }) },
])("proxyLocalActivities ($store)", ({ connect }) => {
  const connection = connect("compat-local")
  afterAll(async () => {
    await (await connection).close()
  })

  const run = async <T>(fn: (client: Client, taskQueue: string, hooks: Hooks) => Promise<T>, options: Partial<WorkerOptions> = {}): Promise<T> => {
    const conn = await connection
    const client = new Client({ connection: conn })
    const hooks: Hooks = {
      calls: new Map(),
      pendingWhileRunning: async (workflowId) => (await client.workflow.getHandle(workflowId).describe()).pendingActivities.length,
      onBlocked: () => Promise.resolve(),
    }
    const taskQueue = `local-${randomUUID()}`
    const worker = await Worker.create({ connection: conn, taskQueue, workflows, activities: createActivities(hooks), ...options })
    return await worker.runUntil(fn(client, taskQueue, hooks))
  }
  const id = () => `local-${randomUUID()}`

  it("runs the activity on the workflow's worker (activityInfo().isLocal) and journals it as one local call", async () => {
    await run(async (client, taskQueue, hooks) => {
      const handle = await client.workflow.start(workflows.greetLocally, { taskQueue, workflowId: id(), args: ["Ada"] })
      expect(await handle.result()).toBe("hello Ada (local: true, attempt 1, type greet)")
      expect(hooks.calls.get("greet")).toBe(1)
      const { events } = await handle.fetchHistory()
      expect(events.filter((event) => event.type === "ActivityScheduled")).toMatchObject([{ seq: 1, activityType: "greet", local: true }])
      expect(events.filter((event) => event.type === "ActivityCompleted")).toMatchObject([{ seq: 1, result: JSON.stringify("hello Ada (local: true, attempt 1, type greet)") }])
    })
  })

  it("replays deterministically: the recorded outcome is delivered, the activity is not run again; a remote call in its place is a violation", async () => {
    await run(async (client, taskQueue, hooks) => {
      const handle = await client.workflow.start(workflows.greetLocally, { taskQueue, workflowId: id(), args: ["Bo"] })
      await handle.result()
      const history = await handle.fetchHistory()
      await Worker.runReplayHistory({ workflows }, history)
      expect(hooks.calls.get("greet")).toBe(1)
      await expect(Worker.runReplayHistory({ workflows }, { ...history, workflowType: "greetRemotely" })).rejects.toBeInstanceOf(DeterminismViolationError)
      await expect(Worker.runReplayHistory({ workflows }, { ...history, workflowType: "greetRemotely" })).rejects.toThrow(/local activity greet/)
    })
  })

  it("with no cache (every step replays), each local activity runs once", async () => {
    await run(async (client, taskQueue, hooks) => {
      const handle = await client.workflow.start(workflows.greetTwice, { taskQueue, workflowId: id(), args: ["Cy"] })
      await handle.signal(workflows.goSignal)
      expect(await handle.result()).toBe("hello Cy (local: true, attempt 1, type greet) / hello Cy again (local: true, attempt 1, type greet)")
      expect(hooks.calls.get("greet")).toBe(2)
    }, { maxCachedWorkflows: 0 })
  })

  it("retries a failed attempt in the process (attempt in activityInfo), each retry a note in the history", async () => {
    await run(async (client, taskQueue, hooks) => {
      const handle = await client.workflow.start(workflows.retryLocally, { taskQueue, workflowId: id() })
      expect(await handle.result()).toBe("ok on attempt 3")
      expect(hooks.calls.get("flaky")).toBe(3)
      const { events } = await handle.fetchHistory()
      expect(events.filter((event) => event.type === "ActivityRetrying")).toMatchObject([{ seq: 1, attempt: 2 }, { seq: 1, attempt: 3 }])
    })
  })

  it("a backoff beyond localRetryThreshold waits on a durable timer (the step commits the pending call); within it, nothing is committed in between", async () => {
    await run(async (client, taskQueue) => {
      expect(await client.workflow.execute(workflows.retryByTimer, { taskQueue, workflowId: id() })).toBe(1)
      expect(await client.workflow.execute(workflows.retryWithinThreshold, { taskQueue, workflowId: id() })).toBe(0)
    })
  })

  it("times an attempt out by startToCloseTimeout and the call by scheduleToCloseTimeout (TimeoutFailure)", async () => {
    await run(async (client, taskQueue, hooks) => {
      expect(await client.workflow.execute(workflows.timeOutLocally, { taskQueue, workflowId: id() })).toMatch(/^ActivityFailure > TimeoutFailure\(START_TO_CLOSE\)/)
      expect(await client.workflow.execute(workflows.timeOutSchedule, { taskQueue, workflowId: id() })).toMatch(/^ActivityFailure > TimeoutFailure\(SCHEDULE_TO_CLOSE\)/)
      expect(hooks.calls.get("hang")).toBe(2)
    })
  })

  it("fails the call with the activity's failure (non-retryable: one attempt), or NotFoundError for an activity the worker lacks", async () => {
    await run(async (client, taskQueue, hooks) => {
      expect(await client.workflow.execute(workflows.failLocally, { taskQueue, workflowId: id() })).toBe("ActivityFailure > ApplicationFailure(CardDeclined): card declined")
      expect(hooks.calls.get("failHard")).toBe(1)
      expect(await client.workflow.execute(workflows.callUnregistered, { taskQueue, workflowId: id() })).toMatch(/^ActivityFailure > ApplicationFailure\(NotFoundError\): Activity function missing is not registered/)
    })
  })

  it("goes through the outbound scheduleLocalActivity interceptors, whose headers reach the activity's inbound execute", async () => {
    const seen: Array<string> = []
    const result = await run((client, taskQueue) => client.workflow.execute(workflows.greetLocally, { taskQueue, workflowId: id(), args: ["Di"] }), {
      interceptors: {
        workflowModules: [fileURLToPath(new URL("./workflows/local-activities-interceptors.ts", import.meta.url))],
        activity: [() => ({
          inbound: {
            execute: (input, next) => {
              seen.push(input.headers.via === undefined ? "none" : defaultPayloadConverter.fromPayload<string>(input.headers.via))
              return next(input)
            },
          },
        })],
      },
    })
    expect(result).toBe("hello Di (local: true, attempt 1, type greet)")
    expect(seen).toStrictEqual(["scheduleLocalActivity greet"])
  })

  it.each(["TRY_CANCEL", "WAIT_CANCELLATION_COMPLETED", "ABANDON"] as const)("a local call cancelled in the activation that made it (%s) never runs and ends cancelled", async (cancellationType) => {
    await run(async (client, taskQueue, hooks) => {
      expect(await client.workflow.execute(workflows.cancelLocalAtOnce, { taskQueue, workflowId: id(), args: [cancellationType] })).toBe("cancelled (ActivityFailure)")
      expect(hooks.calls.get("greet")).toBeUndefined()
    })
  })

  it("enableNonLocalActivities: false — the worker runs its activities as local ones only; remote calls go to another worker", async () => {
    const conn = await connection
    const client = new Client({ connection: conn })
    const taskQueue = `local-${randomUUID()}`
    const hooksFor = (worker: string): Hooks => ({ worker, calls: new Map(), pendingWhileRunning: () => Promise.resolve(0), onBlocked: () => Promise.resolve() })
    const workflowWorker = await Worker.create({ connection: conn, taskQueue, workflows, activities: createActivities(hooksFor("A")), enableNonLocalActivities: false })
    const activityWorker = await Worker.create({ connection: conn, taskQueue, activities: createActivities(hooksFor("B")) })
    const result = await activityWorker.runUntil(workflowWorker.runUntil(client.workflow.execute(workflows.localAndRemote, { taskQueue, workflowId: id() })))
    expect(result).toBe("local on A / remote on B")
    await expect(Worker.create({ connection: conn, taskQueue, workflows, enableNonLocalActivities: "no" as never })).rejects.toThrow(/enableNonLocalActivities must be a boolean/)
  })

  it("honours maxConcurrentLocalActivityExecutions", async () => {
    expect(await run((client, taskQueue) => client.workflow.execute(workflows.runConcurrently, { taskQueue, workflowId: id(), args: [3, 1] }), { maxConcurrentLocalActivityExecutions: 1 })).toBe(1)
    // Unbounded enough: the three calls wait for each other, so they must run together.
    expect(await run((client, taskQueue) => client.workflow.execute(workflows.runConcurrently, { taskQueue, workflowId: id(), args: [3, 3] }))).toBe(3)
  })

  it("a worker that dies while a local activity runs: another worker runs the step again and records the outcome once", async () => {
    const short = await connect(`compat-local-crash-${randomUUID()}`, { visibilityTimeoutMs: 300 })
    try {
      const client = new Client({ connection: short })
      let blocked!: () => void
      const isBlocked = new Promise<void>((resolve) => (blocked = resolve))
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      const hooks: Hooks = {
        calls: new Map(),
        pendingWhileRunning: () => Promise.resolve(0),
        onBlocked: () => {
          blocked()
          return released
        },
      }
      const taskQueue = `local-crash-${randomUUID()}`
      const first = await Worker.create({ connection: short, taskQueue, workflows, activities: createActivities(hooks), shutdownGraceTime: 1 })
      const firstRunning = first.run()
      const handle = await client.workflow.start(workflows.blockLocally, { taskQueue, workflowId: id() })
      await isBlocked
      // The first worker goes away mid-activity: its step never commits.
      await first.shutdown()
      await firstRunning
      const second = await Worker.create({ connection: short, taskQueue, workflows, activities: createActivities(hooks) })
      const result = await second.runUntil(handle.result())
      release()
      expect(result).toBe("call 2")
      expect(hooks.calls.get("blockOnce")).toBe(2)
      const { events } = await handle.fetchHistory()
      expect(events.filter((event) => event.type === "ActivityCompleted")).toMatchObject([{ seq: 1, result: JSON.stringify("call 2") }])
    } finally {
      await short.close()
    }
  })

  it("rejects options it does not honour, and bad ones, at the call", () => {
    expect(() => proxyLocalActivities({})).toThrow(/set startToCloseTimeout or scheduleToCloseTimeout/)
    expect(() => proxyLocalActivities({ startToCloseTimeout: "1s", taskQueue: "elsewhere" } as never)).toThrow(InvalidArgumentError)
    expect(() => proxyLocalActivities({ startToCloseTimeout: "1s", scheduleToStartTimeout: "1s" } as never)).toThrow(/"scheduleToStartTimeout" is a Temporal option HotMesh does not support yet/)
    expect(() => proxyLocalActivities({ startToCloseTimeout: "1s", localRetryThreshold: "soon" })).toThrow(InvalidArgumentError)
  })

  it("rejects a maxConcurrentLocalActivityExecutions below 1", async () => {
    await expect(Worker.create({ connection: await connection, taskQueue: "q", workflows, maxConcurrentLocalActivityExecutions: 0 })).rejects.toThrow(/maxConcurrentLocalActivityExecutions must be an integer ≥ 1/)
  })
})

describe("proxyLocalActivities under TestWorkflowEnvironment.createTimeSkipping", () => {
  it("retries in the process and by durable timer, and times out, as on a real clock (local attempts run in real time)", async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const hooks: Hooks = {
        calls: new Map(),
        pendingWhileRunning: async (workflowId) => (await env.client.workflow.getHandle(workflowId).describe()).pendingActivities.length,
        onBlocked: () => Promise.resolve(),
      }
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: "skip", workflows, activities: createActivities(hooks) })
      const results = await worker.runUntil(async () => [
        await env.client.workflow.execute(workflows.retryLocally, { taskQueue: "skip", workflowId: "skip-retry" }),
        await env.client.workflow.execute(workflows.retryByTimer, { taskQueue: "skip", workflowId: "skip-timer" }),
        await env.client.workflow.execute(workflows.timeOutLocally, { taskQueue: "skip", workflowId: "skip-timeout" }),
      ])
      expect(results).toStrictEqual(["ok on attempt 3", 1, expect.stringMatching(/^ActivityFailure > TimeoutFailure\(START_TO_CLOSE\)/)])
    } finally {
      await env.teardown()
    }
  })
})
