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
import { findMismatch, patchesOf, splitTasks } from "../../core/replay.ts"
import type { ExecutionState } from "../../core/state.ts"
import { type ActivationOutcome, JOURNAL_REQUIRED, type QueryOutcome, type WorkflowExecutor } from "../../effects/executors.ts"
import { DeterminismViolationError, UnknownWorkflowTypeError } from "../errors.ts"
import { toFailureInfo } from "../failures.ts"
import { runInfo, type WorkflowFunction, WorkflowRun } from "../workflow/internal/run.ts"

interface Cached {
  readonly state: ExecutionState
  readonly version: number
  readonly run: WorkflowRun
}

class JournalRequired extends Error {
  constructor() {
    super("the live run is no longer cached; the journal is needed to replay it")
  }
}

/** Options of the executor. */
export interface WorkflowExecutorOptions {
  readonly workflows: Readonly<Record<string, WorkflowFunction>>
  /** Live runs kept in memory (Temporal's `maxCachedWorkflows`). */
  readonly maxCachedWorkflows: number
  /** History length from which `workflowInfo().continueAsNewSuggested` is true. */
  readonly continueAsNewSuggestedAt?: number
}

const describeError = (error: unknown): { type: string; message: string } =>
  error instanceof Error ? { type: error.name, message: error.message } : { type: "Error", message: String(error) }

/** Replay `journal` into a fresh run. Throws `DeterminismViolationError` on a mismatch. */
export const replayRun = async (
  state: ExecutionState,
  fn: WorkflowFunction,
  journal: ReadonlyArray<JournalEntry>,
  continueAsNewSuggestedAt?: number,
): Promise<WorkflowRun> => {
  const run = new WorkflowRun(runInfo(state), fn, continueAsNewSuggestedAt)
  for (const task of splitTasks(journal)) {
    const made = await run.activate(task.jobs, task.historyLength, patchesOf(task.commands))
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
  /** Runs activated by a step that has not committed yet. */
  const inflight = new Map<string, WorkflowRun>()

  const cachedRun = (state: ExecutionState, version: number): WorkflowRun | undefined => {
    const entry = cache.get(state.workflowId)
    return entry !== undefined && entry.version === version && entry.state.runId === state.runId ? entry.run : undefined
  }

  const workflowFor = (type: string): WorkflowFunction => {
    const fn = options.workflows[type]
    if (fn === undefined) {
      throw new UnknownWorkflowTypeError(
        `Workflow type "${type}" is not registered on this worker (registered: ${Object.keys(options.workflows).join(", ") || "none"}); ` +
          "the workflow waits until a worker that knows it polls this task queue",
      )
    }
    return fn
  }

  const liveRun = async (state: ExecutionState, version: number, journal: ReadonlyArray<JournalEntry> | undefined): Promise<WorkflowRun> => {
    const hit = cachedRun(state, version)
    if (hit !== undefined) return hit
    // The live run was evicted since `needsJournal` said it was cached: ask for the journal.
    if (journal === undefined) throw new JournalRequired()
    return replayRun(state, workflowFor(state.workflowType), journal, options.continueAsNewSuggestedAt)
  }

  const remember = (entry: Cached) => {
    cache.delete(entry.state.workflowId)
    cache.set(entry.state.workflowId, entry)
    if (cache.size > options.maxCachedWorkflows) {
      const oldest = cache.keys().next()
      if (!oldest.done) cache.delete(oldest.value)
    }
  }

  return {
    peek: (workflowId) => cache.get(workflowId),

    needsJournal: (state, version) => cachedRun(state, version) === undefined,

    activate: async (state, version, journal): Promise<ActivationOutcome> => {
      try {
        const run = await liveRun(state, version, journal)
        // Out of the cache while it runs: it is valid again only once this step commits.
        cache.delete(state.workflowId)
        const commands = await run.activate(state.pendingJobs, state.journalLength)
        inflight.set(state.workflowId, run)
        return { ok: true, commands }
      } catch (error) {
        cache.delete(state.workflowId)
        if (error instanceof JournalRequired) return { ok: false, failure: { type: JOURNAL_REQUIRED, message: error.message } }
        return { ok: false, failure: describeError(error) }
      }
    },

    query: async (state, version, journal, name, args: ReadonlyArray<Payload>): Promise<QueryOutcome> => {
      try {
        const run = await liveRun(state, version, journal)
        if (!cache.has(state.workflowId) && state.status === "RUNNING" && state.pendingJobs.length === 0) {
          remember({ state, version, run })
        }
        return { ok: true, result: run.query(name, args) }
      } catch (error) {
        if (error instanceof JournalRequired) return { ok: false, failure: { kind: "application", type: JOURNAL_REQUIRED, message: error.message } }
        return { ok: false, failure: toFailureInfo(error) }
      }
    },

    committed: (state, previous, version) => {
      const activated = inflight.get(state.workflowId)
      inflight.delete(state.workflowId)
      const entry = cache.get(state.workflowId)
      const run = activated ?? (entry !== undefined && entry.version === previous ? entry.run : undefined)
      // A continue-as-new commits the *next* run's state: the live run belongs to the one that closed.
      if (run === undefined || run.info.runId !== state.runId || state.status !== "RUNNING" || state.taskFailure !== undefined) {
        cache.delete(state.workflowId)
        return
      }
      remember({ state, version, run })
    },

    evict: (workflowId) => {
      cache.delete(workflowId)
      inflight.delete(workflowId)
    },
  }
}
