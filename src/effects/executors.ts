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

/**
 * The failure type of an activation or query that found no live run and got
 * no journal (the run was evicted after `needsJournal`): load it and call again.
 */
export const JOURNAL_REQUIRED = "JournalRequired"

/** What running workflow code on a run's pending jobs produced. */
export type ActivationOutcome =
  | { readonly ok: true; readonly commands: ReadonlyArray<WorkflowCommand> }
  | { readonly ok: false; readonly failure: { readonly type: string; readonly message: string } }

/** A query's answer, or why there is none. */
export type QueryOutcome = { readonly ok: true; readonly result: Payload } | { readonly ok: false; readonly failure: FailureInfo }

/** A workflow's state as of a store version. */
export interface VersionedState {
  readonly state: ExecutionState
  readonly version: number
}

/**
 * Runs workflow code. Keeps live runs — and the state they belong to —
 * cached between steps, so a step on a cached workflow skips loading and
 * decoding its state and its journal; replays from the journal on a miss.
 * The cache is only a guess: every commit checks the version, and a
 * conflict evicts the entry.
 */
export interface WorkflowExecutor {
  /** The cached state of `workflowId`, if any (possibly stale: the commit decides). */
  readonly peek: (workflowId: string) => VersionedState | undefined
  /** Whether `activate`/`query` needs the run's journal (no live run for this state and version). */
  readonly needsJournal: (state: ExecutionState, version: number) => boolean
  /** Run the code on `state.pendingJobs`. Never rejects: failures come back as outcomes. */
  readonly activate: (state: ExecutionState, version: number, journal: ReadonlyArray<JournalEntry> | undefined) => Promise<ActivationOutcome>
  readonly query: (
    state: ExecutionState,
    version: number,
    journal: ReadonlyArray<JournalEntry> | undefined,
    name: string,
    args: ReadonlyArray<Payload>,
  ) => Promise<QueryOutcome>
  /** A step on this workflow committed: `state` is now stored at `version` (`previous` was the step's base). */
  readonly committed: (state: ExecutionState, previous: number, version: number) => void
  /** A step on this workflow did not commit: forget its live run and state. */
  readonly evict: (workflowId: string) => void
}

/** The outcome of one activity attempt. */
export type ActivityOutcome = { readonly ok: true; readonly result: Payload } | { readonly ok: false; readonly failure: FailureInfo }

/**
 * How an attempt learns it should stop. The `AbortSignal` is created only if
 * the activity asks for it (most never do), so an attempt that ends normally
 * costs no controller, listener or promise.
 */
export class Cancellation {
  #controller: AbortController | undefined
  #reason: Error | undefined
  /** Abort with `reason` (the first reason wins). */
  abort(reason: Error): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#controller?.abort(reason)
  }
  /** Whether `abort` was called. */
  get aborted(): boolean {
    return this.#reason !== undefined
  }
  /** The signal, created on first use (already aborted if `abort` came first). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }
}

/** Runs activities. */
export interface ActivityExecutor {
  /**
   * Run one attempt. `cancellation` aborts on cancellation, timeout or worker
   * shutdown; `heartbeat` sends progress (throttled by the caller). Never rejects.
   */
  readonly run: (task: ActivityTask, cancellation: Cancellation, heartbeat: (details: Payload) => void) => Promise<ActivityOutcome>
}
