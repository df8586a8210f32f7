/**
 * The workflow-task interpreter owns the live-run cache: a step on a cached
 * workflow uses the live run; a step that lost a race (another process moved
 * the workflow on), or whose task failed, leaves nothing cached, and the next
 * step replays from the journal.
 */
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import type { JournalEntry } from "../../src/core/journal.ts"
import { reduce } from "../../src/core/reduce.ts"
import type { ExecutionState } from "../../src/core/state.ts"
import { startWorkflow, terminateWorkflow } from "../../src/effects/client.ts"
import { commitTransition, loadExecution, loadJournal, sendToWorkflow } from "../../src/effects/executions.ts"
import type { ActivationOutcome, RunSource, WorkflowExecutor } from "../../src/effects/executors.ts"
import { RunCache } from "../../src/effects/runCache.ts"
import { processDelivery, type WorkflowTaskConfig } from "../../src/effects/workflowTasks.ts"
import { layerMemory, makeMemoryStore } from "../../src/stores/memory.ts"
import { Store, type StoreShape } from "../../src/stores/Store.ts"

/** A fake run: counts the jobs it has seen. */
interface FakeRun {
  jobs: number
}

/** An executor that records where each activation's run came from, and can be told to fail the next task. */
const recordingExecutor = () => {
  const sources: Array<"live" | { journal: number }> = []
  let failNext = false
  const executor: WorkflowExecutor<FakeRun> = {
    activate: async (state: ExecutionState, source: RunSource<FakeRun>) => {
      sources.push("live" in source ? "live" : { journal: source.journal.length })
      if (failNext) {
        failNext = false
        return { outcome: { ok: false, failure: { type: "Error", message: "boom" } }, run: undefined }
      }
      const run = "live" in source ? source.live : { jobs: source.journal.filter((e: JournalEntry) => "task" in e).length }
      run.jobs += state.pendingJobs.length
      const outcome: ActivationOutcome = { ok: true, commands: [] }
      return { outcome, run }
    },
    query: async (_state, source) => ({ outcome: { ok: true, result: "null" }, run: "live" in source ? source.live : { jobs: 0 } }),
  }
  return { executor, sources, failNext: () => void (failNext = true) }
}

const run = { workflowId: "w1", runId: "r1", workflowType: "t", taskQueue: "q", args: [] }
const stream = { kind: "workflow" as const, taskQueue: "q" }

/** Read and process every message waiting on the workflow stream. */
const drain = (config: WorkflowTaskConfig<FakeRun>) =>
  Effect.gen(function* () {
    const store = yield* Store
    for (;;) {
      const batch = yield* store.read(stream, { consumer: "c", count: 10, blockMs: 0 })
      if (batch.length === 0) return
      for (const delivery of batch) yield* processDelivery(config, delivery)
    }
  })

const signal = (id: string) => sendToWorkflow("q", "w1", { type: "Signal", signalId: id, name: "s", args: [] })

/** A recording executor, a cache and the loop's configuration around them. */
const interpreter = () => {
  const { executor, sources, failNext } = recordingExecutor()
  const cache = new RunCache<FakeRun>({ maxEntries: 10, maxBytes: 1 << 20 })
  const config: WorkflowTaskConfig<FakeRun> = { taskQueue: "q", consumer: "c", executor, cache, batchSize: 10, retentionMs: Infinity }
  return { sources, failNext, cache, config }
}

/** The memory store, counting `load`s. */
const countingLoads = () => {
  const counter = { loads: 0 }
  const layer = Layer.effect(Store, Effect.map(makeMemoryStore(), (store): StoreShape => ({
    ...store,
    load: (key) => Effect.suspend(() => {
      counter.loads++
      return store.load(key)
    }),
  })))
  return { counter, layer }
}

describe("workflow-task interpreter: the live-run cache", () => {
  it("starts a new workflow without loading anything: the client's Start carries the record it wrote", async () => {
    const { sources, cache, config } = interpreter()
    const { counter, layer } = countingLoads()
    await Effect.runPromise(Effect.gen(function* () {
      yield* startWorkflow(run)
      yield* drain(config)
      expect(counter.loads).toBe(0)
      expect(sources).toEqual([{ journal: 0 }])
      expect((yield* loadExecution("w1")).state).toMatchObject({ started: true, tasks: 1 })
      // A second start of the same id conflicts, loads, and is refused.
      const again = yield* Effect.flip(startWorkflow({ ...run, runId: "r2" }))
      expect(again._tag).toBe("WorkflowAlreadyRunning")
    }).pipe(Effect.provide(layer)))
  })

  it("a Start's record guess names the write (version and token): another write of that version is not taken for it", async () => {
    const { sources, config } = interpreter()
    const { counter, layer } = countingLoads()
    await Effect.runPromise(Effect.gen(function* () {
      const store = yield* Store
      yield* startWorkflow(run)
      // The Start as it would read had its record been written by a commit a store rollback lost,
      // and version 1 been written again since (by the start now stored).
      const [delivery] = yield* store.read(stream, { consumer: "c", count: 1, blockMs: 0 })
      const start = JSON.parse(delivery!.body) as { record: { version: number; token: string } }
      expect(start.record.version).toBe(1)
      expect(start.record.token).toBe((yield* loadExecution("w1")).token)
      counter.loads = 0
      yield* processDelivery(config, { ...delivery!, body: JSON.stringify({ ...start, record: { ...start.record, token: "a-lost-write" } }) })
      // The guess lost on the token, so the step loaded the record and went on from it.
      expect(counter.loads).toBe(1)
      expect(sources).toEqual([{ journal: 0 }, { journal: 0 }])
      expect((yield* loadExecution("w1")).state).toMatchObject({ started: true, tasks: 1 })
      expect((yield* loadJournal("w1", "r1")).map((entry) => entry.type)).toEqual(["WorkflowStarted"])
    }).pipe(Effect.provide(layer)))
  })

  it("a Start whose record moved on (terminated before the worker read it) conflicts, reloads, and changes nothing", async () => {
    const { sources, cache, config } = interpreter()
    await Effect.runPromise(Effect.gen(function* () {
      yield* startWorkflow(run)
      yield* terminateWorkflow("w1", "stop", Infinity)
      yield* drain(config)
      // The guess ran the code once (pure, so harmless); its commit lost to the termination.
      expect(sources).toEqual([{ journal: 0 }])
      expect((yield* loadExecution("w1")).state).toMatchObject({ status: "TERMINATED", started: false })
      expect((yield* loadJournal("w1", "r1")).map((entry) => entry.type)).toEqual(["WorkflowTerminated"])
      expect(cache.stats().entries).toBe(0)
    }).pipe(Effect.provide(layerMemory())))
  })

  it("uses the cached live run, and replays after another process moved the workflow on", async () => {
    const { sources, cache, config } = interpreter()
    await Effect.runPromise(Effect.gen(function* () {
      yield* startWorkflow(run)
      yield* drain(config)
      // A first run has no history: rebuilt from an empty journal without loading it.
      expect(sources).toEqual([{ journal: 0 }])
      expect(cache.stats().entries).toBe(1)

      yield* signal("a")
      yield* drain(config)
      expect(sources[1]).toBe("live")

      // Another process commits a step (a signal applied by a worker elsewhere): the cached version is stale.
      const loaded = yield* loadExecution("w1")
      const { state } = loaded
      const elsewhere = reduce(state, { type: "Signal", signalId: "x", name: "s", args: [] }, 0)
      yield* commitTransition(undefined, loaded, state, { ...elsewhere, state: { ...elsewhere.state!, pendingJobs: [] } }, { now: 0, retentionMs: Infinity })

      yield* signal("b")
      yield* drain(config)
      // The stale live run lost the commit race; the retry replayed the journal as stored then
      // (WorkflowStarted and signal a: the other process journaled nothing).
      expect(sources.slice(2)).toEqual(["live", { journal: 2 }])
      expect((yield* loadJournal("w1", "r1")).map((entry) => entry.type)).toEqual(["WorkflowStarted", "SignalReceived", "SignalReceived"])
      expect((yield* loadExecution("w1")).state?.signalIds).toEqual(["a", "x", "b"])
    }).pipe(Effect.provide(layerMemory())))
  })

  it("caches nothing after a failed task: the retry replays from the journal", async () => {
    const { sources, failNext, cache, config } = interpreter()
    await Effect.runPromise(Effect.gen(function* () {
      yield* startWorkflow(run)
      yield* drain(config)
      failNext()
      yield* signal("a")
      yield* drain(config)
      expect(cache.stats().entries).toBe(0)
      expect((yield* loadExecution("w1")).state?.taskFailure).toMatchObject({ message: "boom", attempt: 1 })
    }).pipe(Effect.provide(layerMemory())))
    expect(sources).toEqual([{ journal: 0 }, "live"])
  })
})
