/**
 * The two places where the interpreter hands control to user code, as plain
 * interfaces the SDK implements: running workflow code on jobs, and running
 * an activity. The interpreter never imports user code or the SDK.
 */
import type { FailureInfo } from "../core/failure.ts"
import type { JournalEntry } from "../core/journal.ts"
import type { ActivityTask } from "../core/messages.ts"
import type { Headers, Payload } from "../core/payload.ts"
import type { ActivationOutcome } from "../core/reduce.ts"
import type { ExecutionState } from "../core/state.ts"

export type { ActivationOutcome }

/** A query's answer, or why there is none. */
export type QueryOutcome = { readonly ok: true; readonly result: Payload } | { readonly ok: false; readonly failure: FailureInfo }

/**
 * Where the executor gets the workflow code to drive: the live run the
 * interpreter cached next to this state, or the run's journal to rebuild it
 * by replay. The interpreter owns the cache and decides; the executor never
 * caches anything.
 */
export type RunSource<R> = { readonly live: R } | { readonly journal: ReadonlyArray<JournalEntry> }

/** What an activation or query returns: its outcome, and the live run to cache (none after a failure). */
export interface Executed<O, R> {
  readonly outcome: O
  readonly run: R | undefined
}

/**
 * Runs workflow code. `R` is the SDK's live run, opaque to the interpreter.
 * Both calls never reject: failures come back as outcomes.
 */
export interface WorkflowExecutor<R = unknown> {
  /** Run the code on `state.pendingJobs`; the returned run has seen them (cache it once the step commits). */
  readonly activate: (state: ExecutionState, source: RunSource<R>) => Promise<Executed<ActivationOutcome, R>>
  /** Answer a query from the run as of `state` (queries change nothing); `request` is what interceptors see. */
  readonly query: (
    state: ExecutionState,
    source: RunSource<R>,
    name: string,
    args: ReadonlyArray<Payload>,
    request?: { readonly queryId: string; readonly headers?: Headers },
  ) => Promise<Executed<QueryOutcome, R>>
}

/** The outcome of one activity attempt. */
export type ActivityOutcome =
  | { readonly ok: true; readonly result: Payload }
  | { readonly ok: false; readonly failure: FailureInfo }
  /** The activity completes later, through a client holding its task token: acknowledge the task, report nothing. */
  | { readonly ok: "async" }

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
