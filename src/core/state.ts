/**
 * The state of one workflow execution (its latest run), as stored beside its
 * journal. Everything here is derivable from the journal plus the pending
 * bookkeeping the reducer needs to dedupe and fence messages.
 */
import type { FailureInfo } from "./failure.ts"
import type { Job } from "./journal.ts"
import type { ActivityOptionsResolved, ClosedStatus, ParentClosePolicy, ParentRef } from "./messages.ts"
import type { Headers, Payload } from "./payload.ts"

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
}

/** Parameters of a new run. */
export interface NewRun {
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  readonly taskQueue: string
  readonly args: ReadonlyArray<Payload>
  readonly parent?: ParentRef
  readonly headers?: Headers
}

/** The state of a run that has been requested but whose `Start` is not processed yet. */
export const initialState = (run: NewRun, now: number): ExecutionState => ({
  workflowId: run.workflowId,
  runId: run.runId,
  workflowType: run.workflowType,
  taskQueue: run.taskQueue,
  args: run.args,
  ...(run.parent === undefined ? {} : { parent: run.parent }),
  ...(run.headers === undefined ? {} : { headers: run.headers }),
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

/** Whether a run is still open. */
export const isRunning = (state: ExecutionState | undefined): state is ExecutionState => state?.status === "RUNNING"

/** Encode state for the store. */
export const encodeState = (state: ExecutionState): string => JSON.stringify(state)
