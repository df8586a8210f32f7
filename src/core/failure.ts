/**
 * Failures as data: what crosses a process boundary when an activity, child
 * workflow or workflow fails. The SDK maps these to and from Temporal's error
 * classes (`ApplicationFailure`, `ActivityFailure`, ...).
 */
import type { Payload } from "./payload.ts"

/** The kind of failure, mirroring Temporal's failure classes. */
export type FailureKind =
  | "application" // ApplicationFailure: thrown by user code
  | "activity" // ActivityFailure: wraps the cause of an activity's final failure
  | "child" // ChildWorkflowFailure: wraps the cause of a child's failure
  | "cancelled" // CancelledFailure
  | "terminated" // TerminatedFailure
  | "timeout" // TimeoutFailure

/** A serializable failure with an optional cause chain. */
export interface FailureInfo {
  readonly kind: FailureKind
  readonly message: string
  /** ApplicationFailure type; by default the thrown error's class name. */
  readonly type?: string
  readonly nonRetryable?: boolean
  readonly details?: ReadonlyArray<Payload>
  readonly stack?: string
  readonly cause?: FailureInfo
  /** activity/child failures: which call failed. */
  readonly activityType?: string
  readonly workflowType?: string
  readonly workflowId?: string
  /** timeout failures: which timeout. */
  readonly timeoutType?: "START_TO_CLOSE" | "SCHEDULE_TO_CLOSE" | "HEARTBEAT"
  /** application failures: Temporal's category; `BENIGN` ones are expected (logged at debug, not as warnings). */
  readonly category?: "BENIGN"
}

/** The innermost cause of a failure chain. */
export const rootCause = (failure: FailureInfo): FailureInfo =>
  failure.cause === undefined ? failure : rootCause(failure.cause)

/** A one-line description: `ActivityFailure: charge failed ← CardDeclined: card declined`. */
export const describeFailure = (failure: FailureInfo): string => {
  const head = `${failure.type ?? failure.kind}: ${failure.message}`
  return failure.cause === undefined ? head : `${head} ← ${describeFailure(failure.cause)}`
}
