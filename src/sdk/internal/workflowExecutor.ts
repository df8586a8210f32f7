/**
 * The worker's `WorkflowExecutor`: drives workflow code. The interpreter
 * hands it either the live run it cached next to the state, or the journal,
 * from which the run is rebuilt by replay (first step on this process, an
 * eviction, another worker advanced it, or a failed task). It caches nothing
 * itself.
 *
 * Replay checks every recorded command against what the code does now and
 * raises `DeterminismViolationError` on the first mismatch.
 */
import { commandEntry, isJournaled, type JournalEntry } from "../../core/journal.ts"
import type { Payload } from "../../core/payload.ts"
import { findMismatch, patchesOf, splitTasks } from "../../core/replay.ts"
import type { ExecutionState } from "../../core/state.ts"
import type { ActivationOutcome, Executed, QueryOutcome, RunSource, WorkflowExecutor } from "../../effects/executors.ts"
import { DeterminismViolationError, UnknownWorkflowTypeError } from "../errors.ts"
import { toFailureInfo } from "../failures.ts"
import type { PayloadGuard } from "./payloadGuard.ts"
import type { WorkflowInterceptorsFactory } from "../interceptors.ts"
import { runInfo, type WorkflowFunction, WorkflowRun } from "../workflow/internal/run.ts"

/** Options of the executor. */
export interface WorkflowExecutorOptions {
  readonly workflows: Readonly<Record<string, WorkflowFunction>>
  /** History length from which `workflowInfo().continueAsNewSuggested` is true. */
  readonly continueAsNewSuggestedAt?: number
  /** `workflowInfo().namespace`; default `"default"`. */
  readonly namespace?: string
  /** The connection's payload limits, applied to the commands workflow code makes. */
  readonly payloads?: PayloadGuard
  /** The `interceptors` of `WorkerOptions.interceptors.workflowModules`, called once per run. */
  readonly interceptors?: ReadonlyArray<WorkflowInterceptorsFactory>
}

const describeError = (error: unknown): { type: string; message: string } =>
  error instanceof Error ? { type: error.name, message: error.message } : { type: "Error", message: String(error) }

/** Replay `journal` into a fresh run. Throws `DeterminismViolationError` on a mismatch. */
export const replayRun = async (
  state: ExecutionState,
  fn: WorkflowFunction,
  journal: ReadonlyArray<JournalEntry>,
  continueAsNewSuggestedAt?: number,
  namespace = "default",
  payloads?: PayloadGuard,
  interceptors?: ReadonlyArray<WorkflowInterceptorsFactory>,
): Promise<WorkflowRun> => {
  const run = new WorkflowRun(runInfo(state, namespace), fn, continueAsNewSuggestedAt, payloads, interceptors)
  for (const task of splitTasks(journal)) {
    const made = await run.activate(task.jobs, task.historyLength, patchesOf(task.commands))
    const at = task.jobs[0]?.at ?? 0
    const mismatch = findMismatch(task.commands, made.filter(isJournaled).map((command) => commandEntry(command, at)))
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
export const makeWorkflowExecutor = (options: WorkflowExecutorOptions): WorkflowExecutor<WorkflowRun> => {
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

  const runFor = (state: ExecutionState, source: RunSource<WorkflowRun>): Promise<WorkflowRun> =>
    "live" in source
      ? Promise.resolve(source.live)
      : replayRun(state, workflowFor(state.workflowType), source.journal, options.continueAsNewSuggestedAt, options.namespace, options.payloads, options.interceptors)

  return {
    activate: async (state, source): Promise<Executed<ActivationOutcome, WorkflowRun>> => {
      try {
        const run = await runFor(state, source)
        const commands = await run.activate(state.pendingJobs, state.journalLength)
        return { outcome: { ok: true, commands }, run }
      } catch (error) {
        return { outcome: { ok: false, failure: describeError(error) }, run: undefined }
      }
    },

    query: async (state, source, name, args: ReadonlyArray<Payload>, request): Promise<Executed<QueryOutcome, WorkflowRun>> => {
      let run: WorkflowRun | undefined
      try {
        run = await runFor(state, source)
        return { outcome: { ok: true, result: await run.query(name, args, request) }, run }
      } catch (error) {
        return { outcome: { ok: false, failure: toFailureInfo(error) }, run }
      }
    },
  }
}
