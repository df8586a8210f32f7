/**
 * What travels on streams. Workflow streams carry `WorkflowMessage`s (events
 * for one workflow execution, routed by workflow id); activity streams carry
 * `ActivityTask`s. Both are plain JSON data, encoded with `encodeMessage`.
 */
import type { FailureInfo } from "./failure.ts"
import type { Headers, Payload } from "./payload.ts"
import type { ResolvedRetryPolicy } from "./retry.ts"
import type { StoredAttributes } from "./searchAttributes.ts"

/**
 * Temporal's parent-close policies: what a parent's close does to a child
 * still open — terminate it, ask it to cancel, or leave it running.
 */
export type ParentClosePolicy = "TERMINATE" | "REQUEST_CANCEL" | "ABANDON"

/**
 * Temporal's `WorkflowIdReusePolicy`: whether a start may replace a closed
 * run of its workflow id (`TERMINATE_IF_RUNNING`: and terminate an open one).
 */
export type WorkflowIdReusePolicy = "ALLOW_DUPLICATE" | "ALLOW_DUPLICATE_FAILED_ONLY" | "REJECT_DUPLICATE" | "TERMINATE_IF_RUNNING"

/** Where a child reports back to. */
export interface ParentRef {
  readonly workflowId: string
  readonly runId: string
  readonly taskQueue: string
  readonly seq: number
}

/**
 * A workflow's request to another one (`getExternalWorkflowHandle(id).signal`
 * / `.cancel`): whom to answer, and the task queue the request was sent on.
 * Sent first on the requester's own queue (it does not know the target's);
 * the step that finds the target on another queue forwards it there.
 */
export interface ExternalRequester extends ParentRef {
  readonly sentOn: string
}

/** Why a durable timer exists; it comes back as a `TimerFired` message. */
export type TimerPurpose =
  | { readonly kind: "sleep"; readonly seq: number }
  | { readonly kind: "activityRetry"; readonly seq: number; readonly attempt: number }
  | { readonly kind: "activityTimeout"; readonly seq: number; readonly attempt: number }
  | { readonly kind: "activityHeartbeat"; readonly seq: number; readonly attempt: number }
  | { readonly kind: "taskRetry"; readonly attempt: number }
  /** The run's deadline: the earlier of its run timeout and its execution's timeout. */
  | { readonly kind: "workflowTimeout" }
  /** A cron run's first schedule time: its code starts then. */
  | { readonly kind: "cronStart" }

/** How a closed execution ended. */
export type ClosedStatus = "COMPLETED" | "FAILED" | "CANCELLED" | "TERMINATED" | "CONTINUED_AS_NEW" | "TIMED_OUT"

/** Parameters of a new run: what its `Start` carries and its initial state is made from. */
export interface NewRun {
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  readonly taskQueue: string
  readonly args: ReadonlyArray<Payload>
  readonly parent?: ParentRef
  readonly searchAttributes?: StoredAttributes
  readonly memo?: Readonly<Record<string, Payload>>
  readonly runTimeoutMs?: number
  readonly executionTimeoutMs?: number
  /** Set for a run that continues an execution with a timeout; a first run's is its start plus `executionTimeoutMs`. */
  readonly executionExpiresAt?: number
  readonly cronSchedule?: string
  /** Set by interceptors (client start, child start, continue-as-new); workflow inbound `execute` sees them. */
  readonly headers?: Headers
  /** Temporal's `startDelay` (a client start's first run): its code starts this long after the start, or at its first signal. */
  readonly startDelayMs?: number
  /** Temporal's `staticSummary` / `staticDetails`: text shown by `describe`, fixed at the start. */
  readonly staticSummary?: string
  readonly staticDetails?: string
}

/** An event for one workflow execution. `runId` (when present) fences out messages for older runs. */
export type WorkflowMessage =
  | (NewRun & {
      readonly type: "Start"
      /**
       * Sent by a client's start, which wrote the run's initial state with it:
       * that record's version, the token of that write and the state's
       * `startTime`. A worker may take the state from here instead of loading
       * it (the commit's version and token check catches a record that has
       * moved on, or that a store rollback replaced). Without a `token` (an
       * older client) a worker loads the record.
       */
      readonly record?: { readonly version: number; readonly token?: string; readonly startTime: number }
      /** A child start's reuse policy (the parent's `workflowIdReusePolicy`), applied by the step that takes it; absent: `ALLOW_DUPLICATE`. */
      readonly workflowIdReusePolicy?: WorkflowIdReusePolicy
    })
  | { readonly type: "ActivityCompleted"; readonly runId: string; readonly seq: number; readonly attempt: number; readonly result: Payload }
  | {
    readonly type: "ActivityFailed"
    readonly runId: string
    readonly seq: number
    readonly attempt: number
    readonly failure: FailureInfo
    /** The attempt's last heartbeat details, if it heartbeated (for its retry, as an `ActivityHeartbeat` would record them). */
    readonly heartbeatDetails?: Payload
  }
  | { readonly type: "TimerFired"; readonly runId: string; readonly timer: TimerPurpose }
  | { readonly type: "ActivityHeartbeat"; readonly runId: string; readonly seq: number; readonly attempt: number; readonly details: Payload }
  | { readonly type: "ChildStarted"; readonly runId: string; readonly seq: number; readonly childRunId: string }
  | { readonly type: "ChildStartFailed"; readonly runId: string; readonly seq: number; readonly failure: FailureInfo }
  | {
      readonly type: "ChildClosed"
      readonly runId: string
      readonly seq: number
      readonly status: ClosedStatus
      readonly result?: Payload
      readonly failure?: FailureInfo
    }
  | {
      readonly type: "Signal"
      readonly runId?: string
      readonly signalId: string
      readonly name: string
      readonly args: ReadonlyArray<Payload>
      readonly headers?: Headers
      readonly requester?: ExternalRequester
    }
  | {
      readonly type: "CancelRequested"
      readonly runId?: string
      readonly reason?: string
      readonly fromParent?: ParentRef
      readonly requester?: ExternalRequester
      /** With `fromParent`: tell the parent once the request is recorded (`ChildCancelDelivered`; cancellation type `WAIT_CANCELLATION_REQUESTED`). */
      readonly acknowledge?: boolean
    }
  /** The child `seq` has recorded its parent's cancellation request. */
  | { readonly type: "ChildCancelDelivered"; readonly runId: string; readonly seq: number }
  | { readonly type: "Terminate"; readonly runId?: string; readonly reason: string; readonly fromParent?: ParentRef }
  | { readonly type: "Query"; readonly runId?: string; readonly queryId: string; readonly name: string; readonly args: ReadonlyArray<Payload>; readonly headers?: Headers }
  /** A client's workflow update (`updateId` dedupes: a second one with the same id gets the first one's outcome). */
  | { readonly type: "Update"; readonly runId?: string; readonly updateId: string; readonly name: string; readonly args: ReadonlyArray<Payload>; readonly headers?: Headers }
  /** The answer to an external request `seq`: delivered, or why not (the target is not found or closed). */
  | { readonly type: "ExternalRequestReply"; readonly runId: string; readonly seq: number; readonly failure?: FailureInfo }

/** Timeouts and policy of one activity call, resolved to milliseconds. */
export interface ActivityOptionsResolved {
  readonly taskQueue: string
  readonly startToCloseMs?: number
  readonly scheduleToCloseMs?: number
  readonly heartbeatTimeoutMs?: number
  readonly retry: ResolvedRetryPolicy
  /**
   * Temporal's `ActivityCancellationType`, when not `TRY_CANCEL` (the
   * workflow stops waiting at once; the activity learns of it through its
   * heartbeats): `WAIT_CANCELLATION_COMPLETED` waits for the activity's own
   * outcome, `ABANDON` never tells the activity.
   */
  readonly cancellationType?: "WAIT_CANCELLATION_COMPLETED" | "ABANDON"
  /**
   * A local activity (`proxyLocalActivities`): run by the workflow worker in
   * the step that scheduled it, never sent to the activity stream. A failed
   * attempt whose backoff is at most `retryThresholdMs` is retried in that
   * process; a longer backoff is a durable timer.
   */
  readonly local?: { readonly retryThresholdMs: number }
}

/** One attempt of one activity, as an activity worker receives it. */
export interface ActivityTask {
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  /** Where completions go: the workflow's task queue. */
  readonly workflowTaskQueue: string
  readonly seq: number
  readonly attempt: number
  readonly activityType: string
  readonly args: ReadonlyArray<Payload>
  readonly scheduledAt: number
  /** Deadline of this attempt (epoch ms by the scheduling step's clock), if any. */
  readonly deadline?: number
  readonly heartbeatTimeoutMs?: number
  /** Details of the last heartbeat of an earlier attempt (Temporal's `heartbeatDetails`). */
  readonly heartbeatDetails?: Payload
  /** Set by the workflow's `scheduleActivity` interceptors; activity inbound `execute` sees them. */
  readonly headers?: Headers
  /** The call's `startToCloseTimeout` in ms, if it has one. */
  readonly startToCloseMs?: number
  /** The call's `scheduleToCloseTimeout` in ms, if it has one. */
  readonly scheduleToCloseMs?: number
  /** When this attempt was dispatched (epoch ms by the dispatching step's clock). */
  readonly attemptScheduledAt?: number
  /** A local activity's attempt: run in the workflow worker's process, never sent to a stream. */
  readonly local?: true
}

/**
 * What an activity attempt's task token names (Temporal's `taskToken`):
 * where its outcome goes, and which attempt it is — an outcome sent for an
 * attempt no longer current is refused.
 */
export interface TaskToken {
  readonly namespace: string
  readonly workflowId: string
  readonly runId: string
  readonly workflowTaskQueue: string
  readonly seq: number
  readonly attempt: number
}

/** Encode a stream message body. */
export const encodeMessage = (message: WorkflowMessage | ActivityTask): string => JSON.stringify(message)
