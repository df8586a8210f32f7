/**
 * The workflow-task interpreter runs local activities inside the step that
 * scheduled them: their outcome is reduced and committed with that step (one
 * commit, nothing on the activity stream), and a step that loses its commit
 * race re-uses the outcome it has instead of running the activity again.
 */
import { Effect, Layer, Semaphore } from "effect"
import { describe, expect, it } from "vitest"
import type { WorkflowCommand } from "../../src/core/journal.ts"
import { resolveRetryPolicy } from "../../src/core/retry.ts"
import type { ExecutionState } from "../../src/core/state.ts"
import { startWorkflow } from "../../src/effects/client.ts"
import { loadExecution, loadJournal } from "../../src/effects/executions.ts"
import type { ActivityExecutor, ActivityOutcome, WorkflowExecutor } from "../../src/effects/executors.ts"
import { RunCache } from "../../src/effects/runCache.ts"
import { processDelivery, type WorkflowTaskConfig } from "../../src/effects/workflowTasks.ts"
import { makeMemoryStore } from "../../src/stores/memory.ts"
import { CommitConflict, Store, type StoreShape } from "../../src/stores/Store.ts"

const run = { workflowId: "w1", runId: "r1", workflowType: "t", taskQueue: "q", args: [] }
const stream = { kind: "workflow" as const, taskQueue: "q" }
const localOptions = { taskQueue: "q", startToCloseMs: 60_000, retry: resolveRetryPolicy({ maximumAttempts: 1 }), local: { retryThresholdMs: 60_000 } }

/** Workflow code that calls one local activity and returns its result. */
const executor: WorkflowExecutor<object> = {
  activate: async (state: ExecutionState, source) => {
    const job = state.pendingJobs.find((j) => j.type === "ActivityCompleted")
    const commands: Array<WorkflowCommand> = job === undefined
      ? [{ type: "ScheduleActivity", seq: 1, activityType: "charge", args: ["7"], options: localOptions }]
      : [{ type: "CompleteWorkflow", result: job.result }]
    return { outcome: { ok: true, commands }, run: "live" in source ? source.live : {} }
  },
  query: async () => ({ outcome: { ok: true, result: "null" }, run: {} }),
}

/** The memory store; the first commit of a worker's step (one that writes journal entries) loses a race. */
const conflictOnce = () => {
  const counter = { commits: 0 }
  const layer = Layer.effect(Store, Effect.map(makeMemoryStore(), (store): StoreShape => ({
    ...store,
    commit: (commit) => Effect.suspend(() => {
      if ((commit.journal?.entries.length ?? 0) === 0) return store.commit(commit)
      counter.commits++
      if (counter.commits === 1) return Effect.fail(new CommitConflict({ key: commit.key, expectedVersion: commit.expectedVersion, actualVersion: commit.expectedVersion + 1, reason: "version" }))
      return store.commit(commit)
    }),
  })))
  return { counter, layer }
}

describe("workflow-task interpreter: local activities", () => {
  it("runs the local activity in the step, commits its outcome with it, and re-uses the outcome after a lost race", async () => {
    const runs: Array<number> = []
    const activities: ActivityExecutor = {
      run: async (task): Promise<ActivityOutcome> => {
        runs.push(task.attempt)
        expect(task.local).toBe(true)
        return { ok: true, result: JSON.stringify(`charged ${task.args[0]}`) }
      },
    }
    const config: WorkflowTaskConfig<object> = {
      taskQueue: "q", consumer: "c", executor, cache: new RunCache({ maxEntries: 10, maxBytes: 1 << 20 }), batchSize: 10, retentionMs: Infinity,
      local: { executor: activities, permits: Semaphore.makeUnsafe(1) },
    }
    const { counter, layer } = conflictOnce()
    await Effect.runPromise(Effect.gen(function* () {
      const store = yield* Store
      yield* startWorkflow(run)
      const [delivery] = yield* store.read(stream, { consumer: "c", count: 1, blockMs: 0 })
      yield* processDelivery(config, delivery!)
      expect(runs).toStrictEqual([1])
      // The conflicting commit, then the one that landed: start, activity and result in one step.
      expect(counter.commits).toBe(2)
      expect((yield* loadExecution("w1")).state).toMatchObject({ status: "COMPLETED", result: JSON.stringify("charged 7"), tasks: 2 })
      expect((yield* loadJournal("w1", "r1")).map((entry) => entry.type)).toStrictEqual(["WorkflowStarted", "ActivityScheduled", "ActivityCompleted", "WorkflowCompleted"])
      expect((yield* store.describeStream({ kind: "activity", taskQueue: "q" })).length).toBe(0)
    }).pipe(Effect.provide(layer)))
  })

  it("keeps the delivery claimed (touched) while a local activity outlasts the visibility timeout: no other consumer gets it", async () => {
    const seenByOther: Array<number> = []
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const layer = Layer.effect(Store, Effect.map(makeMemoryStore({ visibilityTimeoutMs: 90 }), (store): StoreShape => {
      let touches = 0
      return {
        ...store,
        // After four touches (a third of the visibility timeout apart: past it since the read), another consumer reads.
        touch: (delivery) => Effect.flatMap(store.touch(delivery), () => {
          if (++touches !== 4) return Effect.void
          return Effect.map(store.read(stream, { consumer: "other", count: 10, blockMs: 0 }), (got) => {
            seenByOther.push(got.length)
            release()
          })
        }),
      }
    }))
    const activities: ActivityExecutor = {
      run: async (): Promise<ActivityOutcome> => {
        await released
        return { ok: true, result: JSON.stringify("slow but done") }
      },
    }
    const config: WorkflowTaskConfig<object> = {
      taskQueue: "q", consumer: "c", executor, cache: new RunCache({ maxEntries: 10, maxBytes: 1 << 20 }), batchSize: 10, retentionMs: Infinity,
      local: { executor: activities, permits: Semaphore.makeUnsafe(1) },
    }
    await Effect.runPromise(Effect.gen(function* () {
      const store = yield* Store
      yield* startWorkflow(run)
      const [delivery] = yield* store.read(stream, { consumer: "c", count: 1, blockMs: 0 })
      yield* processDelivery(config, delivery!)
      // Without the touches the other consumer would have got the message (it was read more than 90 ms before).
      expect(seenByOther).toStrictEqual([0])
      expect((yield* loadExecution("w1")).state).toMatchObject({ status: "COMPLETED", result: JSON.stringify("slow but done") })
    }).pipe(Effect.provide(layer)))
  })
})
