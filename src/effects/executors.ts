/**
 * The two places where the interpreter hands control to user code, as plain
 * interfaces the SDK implements: running workflow code on jobs, and running
 * an activity. The interpreter never imports user code or the SDK.
 */
import type { FailureInfo } from "../core/failure.ts"
import type { JournalEntry, WorkflowCommand } from "../core/journal.ts"
import type { ActivityTask } from "../core/messages.ts"
import type { Payload } from "../core/payload.ts"
import type { ExecutionState } from "../core/state.ts"

/** What running workflow code on a run's pending jobs produced. */
export type ActivationOutcome =
  | { readonly ok: true; readonly commands: ReadonlyArray<WorkflowCommand> }
  | { readonly ok: false; readonly failure: { readonly type: string; readonly message: string } }

/** A query's answer, or why there is none. */
export type QueryOutcome = { readonly ok: true; readonly result: Payload } | { readonly ok: false; readonly failure: FailureInfo }

/** Runs workflow code. Keeps live runs cached between steps; replays from the journal on a miss. */
export interface WorkflowExecutor {
  /** Whether `activate`/`query` for this state needs the run's journal (cache miss). */
  readonly needsJournal: (state: ExecutionState) => boolean
  /** Run the code on `state.pendingJobs`. Never rejects: failures come back as outcomes. */
  readonly activate: (state: ExecutionState, journal: ReadonlyArray<JournalEntry> | undefined) => Promise<ActivationOutcome>
  readonly query: (
    state: ExecutionState,
    journal: ReadonlyArray<JournalEntry> | undefined,
    name: string,
    args: ReadonlyArray<Payload>,
  ) => Promise<QueryOutcome>
  /** The step that last activated this run committed `state`. */
  readonly committed: (state: ExecutionState) => void
  /** The step that last activated this workflow did not commit: forget its live run. */
  readonly evict: (workflowId: string) => void
}

/** The outcome of one activity attempt. */
export type ActivityOutcome = { readonly ok: true; readonly result: Payload } | { readonly ok: false; readonly failure: FailureInfo }

/** Runs activities. */
export interface ActivityExecutor {
  /**
   * Run one attempt. `signal` aborts on cancellation, timeout or worker
   * shutdown; `heartbeat` keeps the task's claim alive. Never rejects.
   */
  readonly run: (task: ActivityTask, signal: AbortSignal, heartbeat: (details: unknown) => void) => Promise<ActivityOutcome>
}
