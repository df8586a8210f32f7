import { ApplicationFailure, Context } from "hotmesh/activity"

/** What a test sees of an activity's `Info` (the token as its bytes' length and type). */
export interface SeenInfo {
  readonly activityId: string
  readonly activityType: string
  readonly attempt: number
  readonly isLocal: boolean
  readonly workflowExecution: { readonly workflowId: string; readonly runId: string }
  readonly workflowType: string
  readonly workflowNamespace: string
  readonly taskQueue: string
  readonly scheduledTimestampMs: number
  readonly currentAttemptScheduledTimestampMs: number
  readonly startToCloseTimeoutMs: number | undefined
  readonly scheduleToCloseTimeoutMs: number | undefined
  readonly heartbeatTimeoutMs: number | undefined
  readonly heartbeatDetails: unknown
  readonly taskToken: string
  readonly taskTokenIsBytes: boolean
}

export async function describeSelf(failFirstAttempt: boolean): Promise<SeenInfo> {
  const { info } = Context.current()
  if (failFirstAttempt && info.attempt === 1) {
    Context.current().heartbeat("progress of attempt 1")
    throw ApplicationFailure.retryable("first attempt fails", "Transient")
  }
  return {
    activityId: info.activityId,
    activityType: info.activityType,
    attempt: info.attempt,
    isLocal: info.isLocal,
    workflowExecution: info.workflowExecution,
    workflowType: info.workflowType,
    workflowNamespace: info.workflowNamespace,
    taskQueue: info.taskQueue,
    scheduledTimestampMs: info.scheduledTimestampMs,
    currentAttemptScheduledTimestampMs: info.currentAttemptScheduledTimestampMs,
    startToCloseTimeoutMs: info.startToCloseTimeoutMs,
    scheduleToCloseTimeoutMs: info.scheduleToCloseTimeoutMs,
    heartbeatTimeoutMs: info.heartbeatTimeoutMs,
    heartbeatDetails: info.heartbeatDetails,
    taskToken: Buffer.from(info.taskToken).toString("base64"),
    taskTokenIsBytes: info.taskToken instanceof Uint8Array,
  }
}
