/**
 * Behaviours that keep long-lived workflows and workers healthy: signals that
 * follow a workflow across continue-as-new, a worker that survives a message
 * it cannot read, children that never outlive their parent, heartbeat
 * details handed to the next attempt, idempotency keys unique across runs.
 */
import { ApplicationFailure, Store, Worker, type WorkflowHandle } from "hotmesh"
import { Context } from "hotmesh/activity"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  continueAsNew,
  defineSignal,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
} from "hotmesh/workflow"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"

const add = defineSignal<[number]>("add")
const finish = defineSignal("finish")

/** Sums the `add` signals; continues as new every 3 of them; returns the total on `finish`. */
async function accumulator(total: number): Promise<number> {
  let sum = total
  let seen = 0
  let done = false
  setHandler(add, (n) => {
    sum += n
    seen++
  })
  setHandler(finish, () => void (done = true))
  await condition(() => done || seen >= 3)
  if (!done) await continueAsNew<typeof accumulator>(sum)
  return sum
}

/** A child that continues as new once, then waits forever. */
async function restless(round: number): Promise<void> {
  if (round === 0) await continueAsNew<typeof restless>(1)
  await condition(() => false)
}

/** A child that catches its cancellation and keeps running (in a scope its cancellation does not reach). */
async function stubborn(): Promise<void> {
  try {
    await condition(() => false)
  } catch (error) {
    if (!isCancellation(error)) throw error
  }
  await CancellationScope.nonCancellable(() => condition(() => false))
}

async function parentOfRestless(): Promise<string> {
  await startChild(restless, { args: [0], workflowId: "restless-kid" })
  return "parent done"
}

async function parentOfStubborn(): Promise<string> {
  await CancellationScope.cancellable(async () => {
    const scope = CancellationScope.current()
    // TRY_CANCEL: the call rejects at once (Temporal's default, WAIT_CANCELLATION_COMPLETED, would wait for the stubborn child).
    const child = executeChild(stubborn, { workflowId: "stubborn-kid", cancellationType: ChildWorkflowCancellationType.TRY_CANCEL })
    await sleep("1 minute")
    scope.cancel()
    await child.catch(() => undefined)
  })
  await sleep("1 hour")
  return "parent done"
}

const progress: Array<unknown> = []
const keys: Array<string> = []
const activities = {
  async resumable(): Promise<number> {
    const { attempt, heartbeatDetails } = Context.current().info
    progress.push(heartbeatDetails)
    Context.current().heartbeat(attempt * 10)
    if (attempt < 3) {
      // Give the heartbeat time to be recorded before failing.
      await new Promise((resolve) => setTimeout(resolve, 30))
      throw ApplicationFailure.retryable(`attempt ${attempt}`)
    }
    return attempt
  },
  async keyed(): Promise<string> {
    keys.push(Context.current().info.idempotencyKey)
    return "ok"
  },
}
const { resumable } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute", retry: { initialInterval: "1s" } })
const { keyed } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

async function heartbeating(): Promise<number> {
  return resumable()
}

async function billing(month: number): Promise<number> {
  await keyed()
  if (month < 3) await continueAsNew<typeof billing>(month + 1)
  return month
}

const workflows = { accumulator, restless, stubborn, parentOfRestless, parentOfStubborn, heartbeating, billing }

let env: TestWorkflowEnvironment
let worker: Worker
let running: Promise<void>
beforeEach(async () => {
  progress.length = 0
  keys.length = 0
  env = await TestWorkflowEnvironment.createTimeSkipping()
  worker = await Worker.create({ connection: env.connection, taskQueue: "robust", workflows, activities })
  running = worker.run()
})
afterEach(async () => {
  await worker.shutdown()
  await running
  await env.teardown()
})

/** Let virtual time pass until `handle`'s run is TERMINATED; until then it must still be RUNNING. */
const terminatedLater = async (handle: WorkflowHandle): Promise<void> => {
  for (;;) {
    const { status } = await handle.describe()
    if (status === "TERMINATED") return
    expect(status).toBe("RUNNING")
    await env.sleep(1)
  }
}

describe("robustness", () => {
  it("signals sent through a handle follow the workflow across continue-as-new", async () => {
    const handle = await env.client.workflow.start(accumulator, { taskQueue: "robust", workflowId: "acc", args: [0] })
    for (let i = 1; i <= 10; i++) await handle.signal(add, i)
    await handle.signal(finish)
    expect(await handle.result()).toBe(55)
    // It did continue as new on the way: the last run started from an earlier run's sum.
    const started = (await handle.fetchHistory()).events.find((e) => e.type === "WorkflowStarted")
    expect(started?.type === "WorkflowStarted" && Number(JSON.parse(started.args[0]!))).toBeGreaterThan(0)
  })

  it("a message the worker cannot read is dead-lettered at once; the worker and the workflow carry on", async () => {
    const handle = await env.client.workflow.start(accumulator, { taskQueue: "robust", workflowId: "garbled", args: [0] })
    await env.connection.run(
      Effect.gen(function* () {
        const store = yield* Store
        const stream = { kind: "workflow" as const, taskQueue: "robust" }
        yield* store.append([
          { stream, key: "garbled", body: "not json" },
          { stream, key: "garbled", body: JSON.stringify({ type: "FromTheFuture", runId: "x" }) },
        ])
      }),
    )
    await handle.signal(add, 5)
    await handle.signal(finish)
    expect(await handle.result()).toBe(5)
    expect(worker.getState()).toBe("RUNNING")
    const dead = await env.client.deadLetters.list({ taskQueue: "robust", kind: "workflow" })
    expect(dead.map((d) => [d.workflowId, d.deliveries])).toEqual([["garbled", 1], ["garbled", 1]])
  })

  it("a parent's close terminates a child that has continued as new", async () => {
    expect(await env.client.workflow.execute(parentOfRestless, { taskQueue: "robust", workflowId: "p-restless" })).toBe("parent done")
    const kid = env.client.workflow.getHandle("restless-kid")
    await terminatedLater(kid)
  })

  it("a child that catches its cancellation is still terminated when the parent closes", async () => {
    expect(await env.client.workflow.execute(parentOfStubborn, { taskQueue: "robust", workflowId: "p-stubborn" })).toBe("parent done")
    const kid = env.client.workflow.getHandle("stubborn-kid")
    await terminatedLater(kid)
  })

  it("heartbeat details reach the next attempt, without a heartbeat timeout", async () => {
    expect(await env.client.workflow.execute(heartbeating, { taskQueue: "robust", workflowId: "hb" })).toBe(3)
    expect(progress).toEqual([undefined, 10, 20])
  })

  it("idempotency keys differ across the runs of one workflow id", async () => {
    expect(await env.client.workflow.execute(billing, { taskQueue: "robust", workflowId: "bill", args: [1] })).toBe(3)
    expect(keys).toHaveLength(3)
    expect(new Set(keys).size).toBe(3)
  })
})
