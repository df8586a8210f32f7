/**
 * Back-pressure on the embedded store, in one process: three activity
 * workers share a task queue and its limits hold across them (the same
 * scenarios as test/redis/limits.test.ts, where the workers are processes);
 * the workers' own options (`maxActivitiesPerSecond`,
 * `maxTaskQueueActivitiesPerSecond`) and the checks on what is given.
 * Counting, not timing: the rate is measured over many tasks, where a slow
 * machine can only lower it (the bucket bounds it from above).
 */
import { Client, Connection, InvalidArgumentError, Worker } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, rejectionOf, unique } from "../fixtures/e2e-support.ts"
import * as workflows from "../fixtures/limitsWorkflows.ts"
import type { LimitsActivities } from "../fixtures/limitsWorkflows.ts"

/** `work` activities that count themselves in flight and record when each started. */
const probe = (holdMs: number) => {
  const state = { inFlight: 0, maxInFlight: 0, starts: [] as Array<{ readonly i: number; readonly worker: number; readonly at: number }> }
  const activitiesOf = (worker: number): LimitsActivities => ({
    async work(i) {
      state.inFlight++
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
      state.starts.push({ i, worker, at: performance.now() })
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs))
      state.inFlight--
      return i
    },
  })
  return { state, activitiesOf }
}

/** A mesh of one workflow worker and `activityWorkers` activity-only workers on one embedded connection. */
const useLimitedMesh = (holdMs: number, activityWorkers: number, workerOptions: Partial<Parameters<typeof Worker.create>[0]> = {}) => {
  const taskQueue = unique("limits")
  const p = probe(holdMs)
  const mesh = { taskQueue, probe: p.state } as { taskQueue: string; probe: typeof p.state; connection: Connection; client: Client; workers: Array<Worker>; running: Promise<unknown> }
  beforeAll(async () => {
    mesh.connection = await Connection.connect({ namespace: unique("limits-ns") })
    mesh.client = new Client({ connection: mesh.connection })
    mesh.workers = await Promise.all([
      Worker.create({ connection: mesh.connection, taskQueue, workflows }),
      ...Array.from({ length: activityWorkers }, (_, n) => Worker.create({ connection: mesh.connection, taskQueue, activities: p.activitiesOf(n), maxConcurrentActivityTaskExecutions: 20, ...workerOptions })),
    ])
  })
  afterAll(async () => {
    await Promise.all(mesh.workers.map((w) => w.shutdown()))
    await mesh.running
    await mesh.connection?.close()
  })
  const run = () => (mesh.running = Promise.all(mesh.workers.map((w) => w.run())))
  const startAll = (from: number, count: number, sleepMs = 0) =>
    Promise.all(Array.from({ length: count }, (_, k) =>
      mesh.client.workflow.start(workflows.limited, { taskQueue, workflowId: unique(`lim-${from + k}`), args: [from + k, sleepMs] })))
  const startedIn = (from: number, to: number) => mesh.probe.starts.filter((s) => s.i >= from && s.i < to)
  return { mesh, run, startAll, startedIn }
}

describe("limits hold across 3 workers on the embedded store", () => {
  const { mesh, run, startAll, startedIn } = useLimitedMesh(50, 3)

  it("concurrency 3: never more than 3 activities in flight; all 30 complete, each once", async () => {
    await mesh.client.taskQueue(mesh.taskQueue).setLimits({ concurrency: 3 })
    void run()
    const handles = await startAll(0, 30)
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(Array.from({ length: 30 }, (_, k) => k))
    console.log(`memory, concurrency limit 3: max in flight ${mesh.probe.maxInFlight}, over ${new Set(startedIn(0, 30).map((s) => s.worker)).size} workers`)
    expect(mesh.probe.maxInFlight).toBeLessThanOrEqual(3)
    expect(mesh.probe.maxInFlight).toBeGreaterThanOrEqual(2)
    expect(startedIn(0, 30).map((s) => s.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, k) => k))
  })

  it("pause holds every task while timers fire into the queue; resume releases them all", async () => {
    const queue = mesh.client.taskQueue(mesh.taskQueue)
    await queue.pause()
    // A limit stays in force throughout, so no worker ever finds the queue unlimited (and reads without asking for a second).
    await queue.setLimits({ concurrency: 100 })
    expect(await queue.getLimits()).toEqual({ concurrency: 100, paused: true })
    const handles = await startAll(300, 20, 100)
    const activity = async () => (await queue.describe()).streams.find((s) => s.kind === "activity")!
    await eventually(async () => ((await activity()).length === 20 ? true : undefined), "the 20 activity tasks to reach the paused queue", 10_000)
    // Not a synchronisation: the observation window, a second (twice as long as a paused worker waits before asking again).
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(startedIn(300, 320)).toEqual([])
    expect(await activity()).toMatchObject({ length: 20, pending: 0 })
    expect(await queue.resume()).toEqual({ concurrency: 100 })
    expect((await Promise.all(handles.map((h) => h.result()))).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, k) => 300 + k))
    expect(startedIn(300, 320)).toHaveLength(20)
    expect(await activity()).toMatchObject({ length: 0, deadLetters: 0 })
  })

  it("rate 50/s: 100 tasks start at 50/s (within 10%)", async () => {
    const queue = mesh.client.taskQueue(mesh.taskQueue)
    // The tasks wait on the paused queue first, so what paces them is the limit, not how fast workflows dispatch them.
    await queue.pause()
    // A quarter of a second's worth: the slack a worker slowed by a loaded machine has before a token is lost.
    const burst = 12
    expect(await queue.setLimits({ concurrency: null, rate: 50, burst })).toEqual({ rate: 50, burst, paused: true })
    const handles = await startAll(100, 100)
    await eventually(async () => ((await queue.describe()).streams.find((s) => s.kind === "activity")!.length === 100 ? true : undefined), "the 100 tasks to reach the paused queue", 10_000)
    await queue.resume()
    expect(await Promise.all(handles.map((h) => h.result()))).toHaveLength(100)
    const at = startedIn(100, 200).map((s) => s.at).sort((a, b) => a - b)
    expect(at).toHaveLength(100)
    const observed = ((at.length - burst) * 1000) / (at.at(-1)! - at[0]!)
    console.log(`memory, rate limit 50/s (burst ${burst}): observed ${observed.toFixed(2)}/s over ${at.length} tasks (${((observed / 50 - 1) * 100).toFixed(1)}%)`)
    expect(Math.abs(observed / 50 - 1)).toBeLessThanOrEqual(0.1)
  })
})

describe("the workers' own rate options", () => {
  describe("maxActivitiesPerSecond: each worker's own bucket", () => {
    // Two workers at 20/s each: the queue runs at 40/s, with no queue limit in the store.
    const { mesh, run, startAll, startedIn } = useLimitedMesh(0, 2, { maxActivitiesPerSecond: 20 })
    it("two workers at 20/s each start 80 tasks at 40/s (within 10%); the queue has no limits", async () => {
      const queue = mesh.client.taskQueue(mesh.taskQueue)
      // The tasks wait on the paused queue first, so what paces them is the workers' own buckets, not the dispatch.
      await queue.pause()
      void run()
      const handles = await startAll(0, 80)
      await eventually(async () => ((await queue.describe()).streams.find((s) => s.kind === "activity")!.length === 80 ? true : undefined), "the 80 tasks to reach the paused queue", 10_000)
      await queue.resume()
      expect(await Promise.all(handles.map((h) => h.result()))).toHaveLength(80)
      const at = startedIn(0, 80).map((s) => s.at).sort((a, b) => a - b)
      // Each worker's bucket starts full with a tenth of a second's worth (2 tokens): 4 start at once.
      const observed = ((at.length - 4) * 1000) / (at.at(-1)! - at[0]!)
      console.log(`memory, maxActivitiesPerSecond 20 x 2 workers: observed ${observed.toFixed(2)}/s (${((observed / 40 - 1) * 100).toFixed(1)}%)`)
      expect(Math.abs(observed / 40 - 1)).toBeLessThanOrEqual(0.1)
      expect(await mesh.client.taskQueue(mesh.taskQueue).getLimits()).toEqual({})
    })
  })

  describe("maxTaskQueueActivitiesPerSecond: the queue's rate, set when the worker starts", () => {
    const { mesh, run } = useLimitedMesh(0, 1, { maxTaskQueueActivitiesPerSecond: 12.5 })
    it("sets the queue's rate in the store, keeping its other limits", async () => {
      await mesh.client.taskQueue(mesh.taskQueue).setLimits({ concurrency: 7 })
      void run()
      await eventually(async () => ((await mesh.client.taskQueue(mesh.taskQueue).getLimits()).rate === 12.5 ? true : undefined), "the worker to set the rate")
      expect(await mesh.client.taskQueue(mesh.taskQueue).getLimits()).toEqual({ rate: 12.5, concurrency: 7 })
    })
  })

  it("rejects a rate that is not a number > 0, naming the option", async () => {
    const connection = await Connection.connect({ namespace: unique("limits-bad") })
    try {
      for (const name of ["maxActivitiesPerSecond", "maxTaskQueueActivitiesPerSecond"] as const) {
        for (const bad of [0, -1, Number.NaN, Infinity]) {
          const error = await rejectionOf(Worker.create({ connection, taskQueue: "q", activities: { work: async () => 1 }, [name]: bad }))
          expect(error).toBeInstanceOf(InvalidArgumentError)
          expect(error.message).toContain(name)
        }
      }
    } finally {
      await connection.close()
    }
  })
})

describe("client.taskQueue(q).setLimits checks what it is given", () => {
  it("rejects unknown limits, bad numbers and a pause passed as a limit, naming them", async () => {
    const connection = await Connection.connect({ namespace: unique("limits-args") })
    const queue = new Client({ connection }).taskQueue("q")
    try {
      const cases: Array<[unknown, string]> = [
        [{ rate: 0 }, "rate"],
        [{ rate: "50" }, "rate"],
        [{ concurrency: 2.5 }, "concurrency"],
        [{ burst: -3 }, "burst"],
        [{ rps: 5 }, "rps"],
        [{ paused: true }, "pause()"],
      ]
      for (const [change, named] of cases) {
        const error = await rejectionOf(Promise.resolve().then(() => queue.setLimits(change as never)))
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect(error.message).toContain(named)
      }
      expect(await queue.getLimits()).toEqual({})
      expect(await queue.setLimits({ rate: 5, concurrency: 2 })).toEqual({ rate: 5, concurrency: 2 })
      expect(await queue.clearLimits()).toEqual({})
    } finally {
      await connection.close()
    }
  })
})
