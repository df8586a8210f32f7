/**
 * The pure transitions of a workflow execution.
 *
 * `reduce(state, message, now)` applies one stream message. Messages that
 * concern workflow code (a result, a timer, a signal, ...) become *jobs*;
 * the transition then asks for an activation (`activate: true`). The
 * interpreter runs the workflow code on the pending jobs and feeds what the
 * code did back through `completeTask` (or `failTask`). The three functions
 * together are the whole state machine; none of them performs I/O.
 *
 * Fencing and dedupe live here (design.md, invariant 2): a message for an
 * older run, a completion for a stale attempt, a timer that was cancelled, a
 * signal id seen before — each leaves the state unchanged.
 *
 * This file holds `reduce`; `task.ts` holds `completeTask`/`failTask`, and
 * `step.ts` the builder and the effects they share. All are re-exported here.
 */
import type { FailureInfo } from "./failure.ts"
import type { Job } from "./journal.ts"
import type { ParentRef, TimerPurpose, WorkflowMessage } from "./messages.ts"
import type { Payload } from "./payload.ts"
import { nextDelay } from "./retry.ts"
import { type ActivityState, type ExecutionState, initialState, isRunning, type NewRun } from "./state.ts"
import { cancelAttemptTimers, close, dispatchActivity, removeActivity, Step, type Transition, unchanged } from "./step.ts"

export { type Command, taskRetryDelay, timerId, type Transition } from "./step.ts"
export { type ActivationOutcome, completeActivation, completeTask, failTask } from "./task.ts"

/** How many recent signal ids a run remembers to drop redeliveries (state stays bounded). */
export const SIGNAL_DEDUPE_WINDOW = 256

const sameParent = (parent: ParentRef | undefined, from: ParentRef): boolean =>
  parent !== undefined && parent.workflowId === from.workflowId && parent.runId === from.runId && parent.seq === from.seq

/** Apply one workflow-stream message. */
export const reduce = (state: ExecutionState | undefined, message: WorkflowMessage, now: number): Transition => {
  if (message.type === "Start") return start(state, message, now)
  if (message.type === "Query") {
    // Queries read the live workflow (running or closed) and change nothing.
    return { ...unchanged(state), query: { queryId: message.queryId, name: message.name, args: message.args, ...(message.headers === undefined ? {} : { headers: message.headers }) } }
  }
  if (!isRunning(state)) return unchanged(state)
  if ("runId" in message && message.runId !== undefined && message.runId !== state.runId) return unchanged(state)
  // A parent's terminate/cancel follows its child across continue-as-new, but never reaches
  // another execution that has since taken the child's workflow id.
  if ("fromParent" in message && message.fromParent !== undefined && !sameParent(state.parent, message.fromParent)) return unchanged(state)
  const step = new Step(state, now)
  switch (message.type) {
    case "ActivityCompleted":
    case "ActivityFailed": {
      const activity = currentAttempt(state, message.seq, message.attempt)
      if (activity === undefined) return unchanged(state)
      if (message.type === "ActivityCompleted") {
        cancelAttemptTimers(step, message.seq, activity)
        removeActivity(step, message.seq)
        step.job({ type: "ActivityCompleted", at: now, seq: message.seq, result: message.result })
      } else {
        activityAttemptFailed(step, message.seq, activity, message.failure)
      }
      return step.done()
    }
    case "TimerFired":
      return timerFired(step, message.timer)
    case "ActivityHeartbeat": {
      const activity = currentAttempt(state, message.seq, message.attempt)
      if (activity === undefined) return unchanged(state)
      step.update({ activities: { ...state.activities, [message.seq]: { ...activity, heartbeatDetails: message.details } } })
      const timeout = activity.options.heartbeatTimeoutMs
      if (timeout !== undefined) step.timer({ kind: "activityHeartbeat", seq: message.seq, attempt: message.attempt }, now + timeout)
      return step.done()
    }
    case "ChildStarted": {
      const child = state.children[message.seq]
      if (child === undefined || child.runId !== message.childRunId || child.started === true) return unchanged(state)
      step.update({ children: { ...state.children, [message.seq]: { ...child, started: true } } })
      step.job({ type: "ChildStarted", at: now, seq: message.seq, runId: message.childRunId })
      return step.done()
    }
    case "ChildStartFailed":
    case "ChildClosed": {
      const child = state.children[message.seq]
      if (child === undefined) return unchanged(state)
      const { [message.seq]: _, ...children } = state.children
      step.update({ children })
      if (message.type === "ChildStartFailed") {
        step.job({ type: "ChildStartFailed", at: now, seq: message.seq, failure: message.failure })
      } else if (message.status === "COMPLETED") {
        step.job({ type: "ChildCompleted", at: now, seq: message.seq, result: message.result })
      } else {
        const cause = message.failure ?? { kind: "application", message: `child ${message.status.toLowerCase()}` }
        step.job({
          type: "ChildFailed",
          at: now,
          seq: message.seq,
          failure: { kind: "child", message: "Child Workflow execution failed", workflowType: child.workflowType, workflowId: child.workflowId, cause },
        })
      }
      return step.done()
    }
    case "Signal":
      if (state.signalIds.includes(message.signalId)) return unchanged(state)
      step.update({ signalIds: [...state.signalIds.slice(-(SIGNAL_DEDUPE_WINDOW - 1)), message.signalId] })
      step.job({ type: "SignalReceived", at: now, name: message.name, args: message.args, ...(message.headers === undefined ? {} : { headers: message.headers }) })
      return step.done()
    case "CancelRequested":
      if (state.cancelRequested) return unchanged(state)
      step.update({ cancelRequested: true })
      step.job(message.reason === undefined ? { type: "CancelRequested", at: now } : { type: "CancelRequested", at: now, reason: message.reason })
      return step.done()
    case "Terminate":
      step.record({ type: "WorkflowTerminated", at: now, reason: message.reason })
      close(step, "TERMINATED", { failure: { kind: "terminated", message: message.reason } })
      return step.done()
    default:
      // A message type this version does not know (written by a newer one): leave it to that version.
      return unchanged(state)
  }
}

/** `requestStart` found an open run of the workflow id. */
export interface AlreadyRunning {
  readonly alreadyRunning: ExecutionState
}

/** The store write that will hold a client's new run: its version and the token naming that write. */
export interface RecordWrite {
  readonly version: number
  readonly token: string
}

/**
 * A client asks for a new run (`client.workflow.start`): unless a run of the
 * workflow id is open, the record becomes the new run's initial state (as
 * write `record`) and its `Start` message is sent — written together, so a
 * duplicate id is rejected at the call. The worker that reads the `Start` goes on from there
 * (`reduce`). Child starts and continue-as-new send the same `Start`.
 */
export const requestStart = (state: ExecutionState | undefined, run: NewRun, now: number, record: RecordWrite): Transition | AlreadyRunning => {
  if (isRunning(state)) return { alreadyRunning: state }
  const step = new Step(initialState(run, now), now)
  step.sendWorkflow(run.taskQueue, run.workflowId, { type: "Start", ...run, record: { version: record.version, token: record.token, startTime: now } })
  return step.done()
}

/** A signal as a client sends it (`signalId` dedupes a retried send). */
export interface ClientSignal {
  readonly signalId: string
  readonly name: string
  readonly args: ReadonlyArray<Payload>
}

/**
 * Temporal's signal-with-start, as one transition (writing `record` when it
 * starts a run): an open run of the workflow id gets the signal;
 * otherwise `run` starts (as `requestStart`) with the signal queued right
 * behind its `Start` on the same stream. Either way it is one atomic commit;
 * the version check makes it lose (and retry) against a commit that opened
 * or closed a run meanwhile.
 */
export const requestSignalWithStart = (
  state: ExecutionState | undefined,
  run: NewRun,
  signal: ClientSignal,
  now: number,
  record: RecordWrite,
): { readonly transition: Transition; readonly signaledRunId: string } => {
  if (isRunning(state)) {
    const step = new Step(state, now)
    step.sendWorkflow(state.taskQueue, state.workflowId, { type: "Signal", runId: state.runId, ...signal })
    return { transition: step.done(), signaledRunId: state.runId }
  }
  const step = new Step(initialState(run, now), now)
  step.sendWorkflow(run.taskQueue, run.workflowId, { type: "Start", ...run, record: { version: record.version, token: record.token, startTime: now } })
  step.sendWorkflow(run.taskQueue, run.workflowId, { type: "Signal", runId: run.runId, ...signal })
  return { transition: step.done(), signaledRunId: run.runId }
}

/**
 * The record a client's `Start` says it wrote (see `requestStart`): what a
 * worker may assume is stored, without loading it, when it has nothing cached.
 * None for a `Start` without a token (written by an older client).
 */
export const recordOfStart = (message: WorkflowMessage): (RecordWrite & { readonly state: ExecutionState }) | undefined =>
  message.type === "Start" && message.record !== undefined && message.parent === undefined && typeof message.record.token === "string"
    ? { version: message.record.version, token: message.record.token, state: initialState(message, message.record.startTime) }
    : undefined

const start = (state: ExecutionState | undefined, message: Extract<WorkflowMessage, { type: "Start" }>, now: number): Transition => {
  if (state !== undefined && state.runId === message.runId) {
    if (state.started || !isRunning(state)) return unchanged(state)
  } else if (isRunning(state)) {
    // Another run of this workflow id is open: reject a child start; ignore anything else.
    if (message.parent === undefined) return unchanged(state)
    const step = new Step(state, now)
    step.sendWorkflow(message.parent.taskQueue, message.parent.workflowId, {
      type: "ChildStartFailed",
      runId: message.parent.runId,
      seq: message.parent.seq,
      failure: {
        kind: "application",
        type: "WorkflowExecutionAlreadyStartedError",
        message: `Workflow execution already started: ${message.workflowId}`,
        nonRetryable: true,
      },
    })
    return { ...step.done(), state }
  }
  const fresh = state !== undefined && state.runId === message.runId ? state : initialState(message, now)
  const step = new Step(fresh, now)
  const started: Job = {
    type: "WorkflowStarted",
    at: now,
    args: message.args,
    ...(message.parent === undefined ? {} : { parent: message.parent }),
    ...(message.headers === undefined ? {} : { headers: message.headers }),
  }
  step.update({ started: true, pendingJobs: [started, ...fresh.pendingJobs] })
  step.activate = true
  if (message.parent !== undefined) {
    step.sendWorkflow(message.parent.taskQueue, message.parent.workflowId, {
      type: "ChildStarted",
      runId: message.parent.runId,
      seq: message.parent.seq,
      childRunId: message.runId,
    })
  }
  return step.done()
}

const currentAttempt = (state: ExecutionState, seq: number, attempt: number): ActivityState | undefined => {
  const activity = state.activities[seq]
  return activity !== undefined && activity.attempt === attempt && activity.dispatched ? activity : undefined
}

const activityAttemptFailed = (step: Step, seq: number, activity: ActivityState, failure: FailureInfo): void => {
  const { now } = step
  cancelAttemptTimers(step, seq, activity)
  const delay = nextDelay(activity.options.retry, activity.attempt, failure)
  const deadline = activity.options.scheduleToCloseMs === undefined ? Infinity : activity.scheduledAt + activity.options.scheduleToCloseMs
  if (delay !== undefined && now + delay < deadline) {
    const attempt = activity.attempt + 1
    step.record({ type: "ActivityRetrying", at: now, seq, attempt, failure, delayMs: delay })
    step.update({ activities: { ...step.state.activities, [seq]: { ...activity, attempt, dispatched: false, lastFailure: failure } } })
    step.timer({ kind: "activityRetry", seq, attempt }, now + delay)
    return
  }
  removeActivity(step, seq)
  step.job({
    type: "ActivityFailed",
    at: now,
    seq,
    failure: { kind: "activity", message: "Activity task failed", activityType: activity.activityType, cause: failure },
  })
}

const timerFired = (step: Step, purpose: TimerPurpose): Transition => {
  const { state, now } = step
  switch (purpose.kind) {
    case "sleep":
      if (!state.timers.includes(purpose.seq)) return unchanged(state)
      step.update({ timers: state.timers.filter((seq) => seq !== purpose.seq) })
      step.job({ type: "TimerFired", at: now, seq: purpose.seq })
      return step.done()
    case "activityRetry": {
      const activity = state.activities[purpose.seq]
      if (activity === undefined || activity.attempt !== purpose.attempt || activity.dispatched) return unchanged(state)
      dispatchActivity(step, purpose.seq, { ...activity, dispatched: true })
      return step.done()
    }
    case "activityHeartbeat": {
      const activity = currentAttempt(state, purpose.seq, purpose.attempt)
      if (activity === undefined) return unchanged(state)
      activityAttemptFailed(step, purpose.seq, activity, { kind: "timeout", message: "Activity heartbeat timed out", timeoutType: "HEARTBEAT" })
      return step.done()
    }
    case "activityTimeout": {
      const activity = currentAttempt(state, purpose.seq, purpose.attempt)
      if (activity === undefined) return unchanged(state)
      const scheduleToClose = activity.options.scheduleToCloseMs !== undefined &&
        now >= activity.scheduledAt + activity.options.scheduleToCloseMs
      activityAttemptFailed(step, purpose.seq, activity, {
        kind: "timeout",
        message: "Activity task timed out",
        timeoutType: scheduleToClose ? "SCHEDULE_TO_CLOSE" : "START_TO_CLOSE",
        ...(scheduleToClose ? { nonRetryable: true } : {}),
      })
      return step.done()
    }
    case "taskRetry":
      if (state.taskFailure === undefined || state.taskFailure.attempt !== purpose.attempt) return unchanged(state)
      step.activate = true
      return step.done()
  }
}
