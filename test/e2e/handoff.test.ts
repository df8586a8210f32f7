/**
 * Hand-off ("append and claim", src/effects/handoff.ts): a worker that runs
 * both a queue's workflows and its activities passes work between its own
 * loops in the writes themselves — a step's commit claims the activity tasks
 * it schedules — instead of reading it back, and an activity's report is
 * not written at all: it is its workflow's next step, whose commit
 * acknowledges the activity's task. On both stores: the work is claimed or
 * stepped (not read), every task runs once, one workflow's steps never race
 * each other (no commit conflicts), a limited queue is never claimed from,
 * and a report whose step does not commit is written by its activity.
 */
import { Effect, Layer } from "effect"
import { Client, Connection, Store, type StoreShape, Worker } from "hotmesh"
import { afterEach, describe, expect, it } from "vitest"
import { makeRedisStore } from "../../src/stores/redis/layer.ts"
import { makeMemoryStore } from "../../src/stores/memory.ts"
import { HANDOFF_BELOW } from "../../src/effects/handoff.ts"
import { eventually, unique } from "../fixtures/e2e-support.ts"
import * as workflows from "../fixtures/handoff-workflows.ts"
import { useRedis } from "../support/redisServer.ts"

const redis = await useRedis()

interface Tally {
  /**
   * Deliveries by how they reached a loop (`claimed:activity`, `read:workflow`, ...),
   * and activity reports by how they were taken: `stepped` (a commit acknowledged
   * the task), `written` (a completion appended the report).
   */
  readonly got: Record<string, number>
  conflicts: number
  runs: number
  /** Commits that acknowledge an activity's task (a stepped report) die while this is above 0, counting it down. */
  failSteps: number
  /** Such commits never finish while this is above 0 (counting it down); `onHang` is told when one starts hanging. */
  hangSteps: number
  onHang?: () => void
}

/** Count what the store hands out, by stream kind and by way (read or claim), and the commit conflicts. */
const counting = (inner: StoreShape, tally: Tally): StoreShape => {
  const add = (what: string, n: number) => void (n > 0 && (tally.got[what] = (tally.got[what] ?? 0) + n))
  const claimed = (kind: string | undefined) => (ds: ReadonlyArray<unknown> | void) => Effect.sync(() => add(`claimed:${kind}`, ds?.length ?? 0))
  return {
    ...inner,
    read: (stream, options) => Effect.tap(inner.read(stream, options), (ds) => Effect.sync(() => add(`read:${stream.kind}`, ds.length))),
    commit: (c) => {
      const stepsReport = c.ack?.stream.kind === "activity"
      if (stepsReport && tally.failSteps > 0) {
        tally.failSteps--
        return Effect.die(new Error("injected: the step of a report dies before its commit"))
      }
      if (stepsReport && tally.hangSteps > 0) {
        tally.hangSteps--
        return Effect.andThen(Effect.sync(() => tally.onHang?.()), Effect.never)
      }
      return inner.commit(c).pipe(
        Effect.tap(claimed(c.claim?.stream.kind)),
        Effect.tap(() => Effect.sync(() => add("stepped", stepsReport ? 1 : 0))),
        Effect.tapError((e) => Effect.sync(() => void (e._tag === "CommitConflict" && e.reason === "version" && tally.conflicts++))),
      )
    },
    complete: (ack, messages, claim) =>
      inner.complete(ack, messages, claim).pipe(Effect.tap(claimed(claim?.stream.kind)), Effect.tap(() => Effect.sync(() => add("written", messages.length)))),
  }
}

const stores = {
  memory: (tally: Tally) => Layer.effect(Store, Effect.map(makeMemoryStore(), (store) => counting(store, tally))),
  redis: (tally: Tally) =>
    Layer.effect(Store, Effect.map(makeRedisStore({ redis: redis.url, namespace: unique("handoff") }), (store) => counting(store, tally))),
  // Fair sharing: activity tasks wait in the lane of their workflow type, and a claim reads that lane.
  "redis, 8 lanes": (tally: Tally) =>
    Layer.effect(Store, Effect.map(makeRedisStore({ redis: redis.url, namespace: unique("handoff"), lanes: 8 }), (store) => counting(store, tally))),
  "memory, 8 lanes": (tally: Tally) => Layer.effect(Store, Effect.map(makeMemoryStore({ lanes: 8 }), (store) => counting(store, tally))),
}

let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

type WorkerOptions = { readonly shutdownGraceTime?: number }

const start = async (kind: keyof typeof stores, inc: (n: number) => Promise<number> = async (n) => n + 1, firstWorker: WorkerOptions = {}) => {
  const tally: Tally = { got: {}, conflicts: 0, runs: 0, failSteps: 0, hangSteps: 0 }
  const connection = await Connection.connect({ store: stores[kind](tally) })
  const taskQueue = unique("handoff")
  /** A worker of the queue on the connection, running (`stop`: shut it down and wait for it). */
  const runWorker = async (options: WorkerOptions) => {
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflows,
      activities: { inc: async (n: number) => (tally.runs++, await inc(n)) },
      ...options,
    })
    const running = worker.run()
    return async () => {
      await worker.shutdown()
      await running
    }
  }
  let stop = await runWorker(firstWorker)
  close = async () => {
    await stop()
    await connection.close()
  }
  /** Shut the worker down (its in-flight steps get `shutdownGraceTime`), then start another in its place. */
  const restart = async (options: WorkerOptions = {}) => {
    await stop()
    stop = await runWorker(options)
  }
  return { tally, taskQueue, connection, client: new Client({ connection }), restart }
}

describe.each(["memory", "redis", "memory, 8 lanes", "redis, 8 lanes"] as const)("hand-off (%s)", (kind) => {
  it("a sequence of activities runs on claimed work: each step claims its task, each report is the next step, unwritten", async () => {
    const { tally, taskQueue, client } = await start(kind)
    // The first workflow warms the worker up (its loops' first reads and permit checks); the second is measured.
    expect(await client.workflow.execute(workflows.sequence, { taskQueue, workflowId: unique("warm"), args: [3] })).toBe(3)
    const before = { ...tally.got }
    const runsBefore = tally.runs
    expect(await client.workflow.execute(workflows.sequence, { taskQueue, workflowId: unique("seq"), args: [10] })).toBe(10)
    const delta = (what: string) => (tally.got[what] ?? 0) - (before[what] ?? 0)
    expect(tally.runs - runsBefore).toBe(10)
    expect({ claimedActivities: delta("claimed:activity"), readActivities: delta("read:activity") }).toEqual({ claimedActivities: 10, readActivities: 0 })
    // Ten reports taken by the steps that acknowledge their tasks, none written; only the client's start is read.
    expect({ stepped: delta("stepped"), written: delta("written"), claimedWorkflow: delta("claimed:workflow"), readWorkflow: delta("read:workflow") })
      .toEqual({ stepped: 10, written: 0, claimedWorkflow: 0, readWorkflow: 1 })
    expect(tally.conflicts).toBe(0)
  })

  it("a report whose step does not commit is written the ordinary way: the workflow goes on, each activity ran once", async () => {
    const { tally, taskQueue, client } = await start(kind)
    tally.failSteps = 2
    expect(await client.workflow.execute(workflows.sequence, { taskQueue, workflowId: unique("left"), args: [4] })).toBe(4)
    expect(tally.runs).toBe(4)
    expect({ failSteps: tally.failSteps, written: tally.got["written"] ?? 0, stepped: tally.got["stepped"] ?? 0 }).toEqual({ failSteps: 0, written: 2, stepped: 2 })
  })

  it("a report whose step is cut off by a shutdown is written, not lost: the next worker goes on, each activity ran once", async () => {
    // The first worker ends with a short grace, so its hanging step is interrupted rather than awaited.
    const started = await start(kind, undefined, { shutdownGraceTime: 100 })
    const { client, taskQueue } = started
    let hung!: () => void
    const hanging = new Promise<void>((resolve) => (hung = resolve))
    started.tally.hangSteps = 1
    started.tally.onHang = hung
    const result = client.workflow.execute(workflows.sequence, { taskQueue, workflowId: unique("cut"), args: [3] })
    await hanging
    const before = { written: started.tally.got["written"] ?? 0, runs: started.tally.runs }
    // Shutdown: the step's grace runs out, it is interrupted, and its report is written the ordinary way.
    await started.restart()
    expect(await result).toBe(3)
    expect(started.tally.hangSteps).toBe(0)
    expect(before.runs).toBe(1)
    expect((started.tally.got["written"] ?? 0) - before.written).toBe(1)
    expect(started.tally.runs).toBe(3)
  })

  it("reports stepped all at once run one at a time per workflow, in order, without racing", async () => {
    const { tally, taskQueue, client } = await start(kind)
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => client.workflow.execute(workflows.fanOut, { taskQueue, workflowId: unique(`fan-${i}`), args: [25] })),
    )
    // Σ (i + 1) for i < 25, per workflow.
    expect(results).toEqual([325, 325, 325, 325])
    expect(tally.runs).toBe(100)
    // Each report taken one way, once: stepped, or — its workflow busy with another report's step — written.
    expect(tally.got["stepped"] ?? 0).toBeGreaterThan(0)
    expect((tally.got["stepped"] ?? 0) + (tally.got["written"] ?? 0)).toBe(100)
    expect(tally.conflicts).toBe(0)
  })

  it(`a loop with ${HANDOFF_BELOW} activities in flight claims no more: the rest are read`, async () => {
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    let running = 0
    const { tally, taskQueue, client } = await start(kind, async (n) => {
      running++
      await gate
      return n + 1
    })
    const all = HANDOFF_BELOW + 8
    const results = Array.from({ length: all }, (_, i) => client.workflow.execute(workflows.sequence, { taskQueue, workflowId: unique(`busy-${i}`), args: [1] }))
    await eventually(() => (running === all ? true : undefined), `${all} activities running`)
    // Each claimed task was claimed while fewer than HANDOFF_BELOW ran; past that they were read.
    expect(tally.got["claimed:activity"] ?? 0).toBeLessThanOrEqual(HANDOFF_BELOW)
    expect(tally.got["read:activity"] ?? 0).toBeGreaterThanOrEqual(all - HANDOFF_BELOW)
    open()
    expect(await Promise.all(results)).toEqual(Array.from({ length: all }, () => 1))
  })

  it("a queue with limits is not claimed from: its tasks wait for permits and a read", async () => {
    const { tally, taskQueue, client } = await start(kind)
    await client.taskQueue(taskQueue).setLimits({ concurrency: 1 })
    // The worker learns of the limit within the recheck interval: wait for a read-delivered task to prove it did.
    let workflowsRun = 0
    for (;;) {
      workflowsRun++
      expect(await client.workflow.execute(workflows.sequence, { taskQueue, workflowId: unique("limited"), args: [2] })).toBe(2)
      if ((tally.got["read:activity"] ?? 0) > 0) break
    }
    const claimedBefore = tally.got["claimed:activity"] ?? 0
    expect(await client.workflow.execute(workflows.fanOut, { taskQueue, workflowId: unique("limited-fan"), args: [5] })).toBe(15)
    expect(tally.got["claimed:activity"] ?? 0).toBe(claimedBefore)
  })
})
