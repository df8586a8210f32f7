/**
 * The worker's `WorkflowExecutor`: a cache of live workflow runs, and replay
 * from the journal when a run is not cached (first step on this process,
 * eviction, another worker advanced it, or a failed task).
 *
 * A cached run is valid only for the exact journal length it has reached;
 * any other length means another process moved the workflow on, and the run
 * is rebuilt by replay. Replay checks every recorded command against what the
 * code does now and raises `DeterminismViolationError` on the first mismatch.
 */
import { commandEntry, type JournalEntry } from "../../core/journal.ts"
import type { Payload } from "../../core/payload.ts"
import { findMismatch, splitTasks } from "../../core/replay.ts"
import type { ExecutionState } from "../../core/state.ts"
import type { ActivationOutcome, QueryOutcome, WorkflowExecutor } from "../../effects/executors.ts"
import { DeterminismViolationError } from "../errors.ts"
import { toFailureInfo } from "../failures.ts"
import { runInfo, type WorkflowFunction, WorkflowRun } from "../workflow/internal/run.ts"

interface Cached {
  readonly runId: string
  readonly journalLength: number
  readonly run: WorkflowRun
}

/** Options of the executor. */
export interface WorkflowExecutorOptions {
  readonly workflows: Readonly<Record<string, WorkflowFunction>>
  /** Live runs kept in memory (Temporal's `maxCachedWorkflows`). */
  readonly maxCachedWorkflows: number
}

const describeError = (error: unknown): { type: string; message: string } =>
  error instanceof Error ? { type: error.name, message: error.message } : { type: "Error", message: String(error) }

/** Replay `journal` into a fresh run. Throws `DeterminismViolationError` on a mismatch. */
export const replayRun = async (state: ExecutionState, fn: WorkflowFunction, journal: ReadonlyArray<JournalEntry>): Promise<WorkflowRun> => {
  const run = new WorkflowRun(runInfo(state), fn)
  for (const task of splitTasks(journal)) {
    const made = await run.activate(task.jobs, task.historyLength)
    const at = task.jobs[0]?.at ?? 0
    const mismatch = findMismatch(task.commands, made.map((command) => commandEntry(command, at)))
    if (mismatch !== undefined) {
      throw new DeterminismViolationError(
        `Workflow ${state.workflowType} (${state.workflowId}) is not deterministic: in workflow task ${task.task}, ${mismatch}. ` +
          "Deploy code that makes the recorded calls, or guard the change with patched().",
      )
    }
  }
  return run
}

/** Build the executor for one worker. */
export const makeWorkflowExecutor = (options: WorkflowExecutorOptions): WorkflowExecutor => {
  const cache = new Map<string, Cached>()
  const inflight = new Map<string, WorkflowRun>()

  const cached = (state: ExecutionState): WorkflowRun | undefined => {
    const entry = cache.get(state.workflowId)
    if (entry === undefined || entry.runId !== state.runId || entry.journalLength !== state.journalLength) return undefined
    return entry.run
  }

  const workflowFor = (type: string): WorkflowFunction => {
    const fn = options.workflows[type]
    if (fn === undefined) {
      const error = new Error(
        `Workflow type "${type}" is not registered on this worker (registered: ${Object.keys(options.workflows).join(", ") || "none"}); ` +
          "the workflow waits until a worker that knows it polls this task queue",
      )
      error.name = "UnknownWorkflowTypeError"
      throw error
    }
    return fn
  }

  const liveRun = async (state: ExecutionState, journal: ReadonlyArray<JournalEntry> | undefined): Promise<WorkflowRun> => {
    const hit = cached(state)
    if (hit !== undefined) return hit
    if (journal === undefined) throw new Error(`internal: journal of ${state.workflowId} was not loaded for a replay`)
    return replayRun(state, workflowFor(state.workflowType), journal)
  }

  return {
    needsJournal: (state) => cached(state) === undefined,

    activate: async (state, journal): Promise<ActivationOutcome> => {
      try {
        const run = await liveRun(state, journal)
        // Out of the cache while it runs: it is valid again only once this step commits.
        cache.delete(state.workflowId)
        const commands = await run.activate(state.pendingJobs, state.journalLength)
        inflight.set(state.workflowId, run)
        return { ok: true, commands }
      } catch (error) {
        cache.delete(state.workflowId)
        return { ok: false, failure: describeError(error) }
      }
    },

    query: async (state, journal, name, args: ReadonlyArray<Payload>): Promise<QueryOutcome> => {
      try {
        const run = await liveRun(state, journal)
        if (cached(state) === undefined && state.status === "RUNNING" && state.pendingJobs.length === 0) {
          cache.set(state.workflowId, { runId: state.runId, journalLength: state.journalLength, run })
        }
        return { ok: true, result: run.query(name, args) }
      } catch (error) {
        return { ok: false, failure: toFailureInfo(error) }
      }
    },

    committed: (state) => {
      const run = inflight.get(state.workflowId)
      inflight.delete(state.workflowId)
      if (run === undefined || state.status !== "RUNNING" || state.taskFailure !== undefined) return
      cache.delete(state.workflowId)
      cache.set(state.workflowId, { runId: state.runId, journalLength: state.journalLength, run })
      if (cache.size > options.maxCachedWorkflows) {
        const oldest = cache.keys().next()
        if (!oldest.done) cache.delete(oldest.value)
      }
    },

    evict: (workflowId) => {
      cache.delete(workflowId)
      inflight.delete(workflowId)
    },
  }
}
