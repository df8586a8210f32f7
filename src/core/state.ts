/**
 * The state of one workflow execution (its latest run), as stored beside its
 * journal. Everything here is derivable from the journal plus the pending
 * bookkeeping the reducer needs to dedupe and fence messages.
 */
import type { FailureInfo } from "./failure.ts"
import type { Job } from "./journal.ts"
import type { ActivityOptionsResolved, ClosedStatus, NewRun, ParentClosePolicy, ParentRef } from "./messages.ts"
import type { Headers, Payload } from "./payload.ts"
import type { StoredAttributes } from "./searchAttributes.ts"

/** Temporal's execution statuses. */
export type WorkflowStatus = "RUNNING" | ClosedStatus

/** An activity call that has not reached a final outcome. */
export interface ActivityState {
  readonly activityType: string
  readonly args: ReadonlyArray<Payload>
  readonly options: ActivityOptionsResolved
  /** The current attempt; completions for any other attempt are stale. */
  readonly attempt: number
  readonly scheduledAt: number
  /** False while waiting for a retry timer. */
  readonly dispatched: boolean
  /** Details of the last heartbeat (any attempt), handed to the next attempt. */
  readonly heartbeatDetails?: Payload
  /** Why the previous attempt failed, while the call waits to be retried or runs again. */
  readonly lastFailure?: FailureInfo
  /** The interceptors' headers, sent with every attempt. */
  readonly headers?: Headers
  /**
   * The workflow asked to cancel it while an attempt runs: that attempt's
   * outcome ends the call (no retry) — delivered to the code only under
   * `WAIT_CANCELLATION_COMPLETED` (otherwise the code stopped waiting already).
   */
  readonly cancelRequested?: true
  /** A local activity retried in-process: its next attempt starts at this time (a backoff within its `localRetryThreshold`). */
  readonly localRunAt?: number
}

/** A child workflow the execution started and still waits on. */
export interface ChildState {
  readonly workflowId: string
  readonly workflowType: string
  readonly taskQueue: string
  readonly runId: string
  /** Its `ChildStarted` has been applied (a redelivered one is ignored). */
  readonly started?: boolean
  /** The parent asked it to cancel; it stays here (and is terminated with the parent) until it closes. */
  readonly cancelRequested?: boolean
  /** The child recorded that request (reported to a parent that waits for it: `WAIT_CANCELLATION_REQUESTED`). */
  readonly cancelDelivered?: boolean
  /** What happens to it when the parent closes; absent: `TERMINATE` (Temporal's default). */
  readonly parentClosePolicy?: ParentClosePolicy
}

/** Why the last workflow task failed (unknown type, code error, ...); it is being retried. */
export interface TaskFailure {
  readonly type: string
  readonly message: string
  readonly attempt: number
  readonly at: number
}

/**
 * A workflow update the run has received: `ADMITTED` (its job waits for the
 * code), `ACCEPTED` (the validator passed, the handler runs), `COMPLETED`
 * (the handler's result or failure, or — never accepted — the rejection).
 * Kept for the waiting client, and to dedupe a second update with its id.
 */
export interface UpdateState {
  readonly id: string
  readonly name: string
  readonly stage: "ADMITTED" | "ACCEPTED" | "COMPLETED"
  /** Completed without being accepted: the validator threw, or the run has no handler for it. */
  readonly rejected?: boolean
  readonly result?: Payload
  readonly failure?: FailureInfo
}

/** One workflow execution's state. */
export interface ExecutionState {
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  readonly taskQueue: string
  readonly args: ReadonlyArray<Payload>
  readonly parent?: ParentRef
  /** The start's headers (set by interceptors). */
  readonly headers?: Headers
  readonly status: WorkflowStatus
  /** Whether the `Start` message has been processed. */
  readonly started: boolean
  readonly startTime: number
  readonly closeTime?: number
  /** Number of journal entries written for this run. */
  readonly journalLength: number
  /** Number of workflow tasks (activations) completed. */
  readonly tasks: number
  readonly activities: Readonly<Record<string, ActivityState>>
  /** Pending timers started by workflow code, by sequence number. */
  readonly timers: ReadonlyArray<number>
  readonly children: Readonly<Record<string, ChildState>>
  readonly cancelRequested: boolean
  /** Ids of the most recent signals (a bounded window), to drop redelivered ones. */
  readonly signalIds: ReadonlyArray<string>
  /** Jobs not yet delivered to workflow code (waiting for start or a task retry). */
  readonly pendingJobs: ReadonlyArray<Job>
  readonly taskFailure?: TaskFailure
  readonly result?: Payload
  readonly failure?: FailureInfo
  /** Search attributes (Temporal's typed search attributes), as indexed for `list` (`core/visibility.ts`). */
  readonly searchAttributes?: StoredAttributes
  /** The memo: payloads shown by `describe` and `list`, not indexed. */
  readonly memo?: Readonly<Record<string, Payload>>
  /** The run's updates: all open ones and the most recent completed ones (a bounded window). Absent: none yet. */
  readonly updates?: ReadonlyArray<UpdateState>
  /** Temporal's `workflowRunTimeout`: this run times out this long after its start. */
  readonly runTimeoutMs?: number
  /** Temporal's `workflowExecutionTimeout`: the whole chain of runs (continue-as-new) times out… */
  readonly executionTimeoutMs?: number
  /** …at this time (epoch ms by the store's clock), fixed by the first run and kept by the next ones. */
  readonly executionExpiresAt?: number
  /** Signals and cancellations sent to other workflows, by sequence number, not yet answered. */
  readonly externalRequests?: ReadonlyArray<number>
  /** Temporal's `cronSchedule`: each run waits for its next time, and a run that completes, fails or times out starts the next. */
  readonly cronSchedule?: string
  /** When the code of a run that waits (a cron run, or a start with `startDelay`) starts (its `Start` was taken; `started` turns true then). */
  readonly cronStartAt?: number
  /** Temporal's `staticSummary` / `staticDetails`, shown by `describe`. */
  readonly staticSummary?: string
  readonly staticDetails?: string
}

/** Parameters of a new run (defined beside the `Start` message that carries them). */
export type { NewRun }

/** The state of a run that has been requested but whose `Start` is not processed yet. */
export const initialState = (run: NewRun, now: number): ExecutionState => ({
  workflowId: run.workflowId,
  runId: run.runId,
  workflowType: run.workflowType,
  taskQueue: run.taskQueue,
  args: run.args,
  ...(run.parent === undefined ? {} : { parent: run.parent }),
  ...(run.searchAttributes === undefined ? {} : { searchAttributes: run.searchAttributes }),
  ...(run.memo === undefined ? {} : { memo: run.memo }),
  ...(run.runTimeoutMs === undefined ? {} : { runTimeoutMs: run.runTimeoutMs }),
  ...(run.executionTimeoutMs === undefined ? {} : { executionTimeoutMs: run.executionTimeoutMs, executionExpiresAt: run.executionExpiresAt ?? now + run.executionTimeoutMs }),
  ...(run.cronSchedule === undefined ? {} : { cronSchedule: run.cronSchedule }),
  ...(run.headers === undefined ? {} : { headers: run.headers }),
  ...(run.staticSummary === undefined ? {} : { staticSummary: run.staticSummary }),
  ...(run.staticDetails === undefined ? {} : { staticDetails: run.staticDetails }),
  status: "RUNNING",
  started: false,
  startTime: now,
  journalLength: 0,
  tasks: 0,
  activities: {},
  timers: [],
  children: {},
  cancelRequested: false,
  signalIds: [],
  pendingJobs: [],
})

/** When the run times out (its run or its execution timeout, whichever is first), if it can. */
export const runDeadline = (state: ExecutionState): number | undefined => {
  const deadline = Math.min(
    // A cron run's time starts when its code does (Temporal counts the run timeout after the schedule's backoff).
    state.runTimeoutMs === undefined ? Infinity : (state.cronStartAt ?? state.startTime) + state.runTimeoutMs,
    state.executionExpiresAt ?? Infinity,
  )
  return deadline === Infinity ? undefined : deadline
}

/** Whether a run is still open. */
export const isRunning = (state: ExecutionState | undefined): state is ExecutionState => state?.status === "RUNNING"

/** Encode state for the store. */
export const encodeState = (state: ExecutionState): string => JSON.stringify(state)
