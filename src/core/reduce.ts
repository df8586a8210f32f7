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
import { nextCronTime } from "./cron.ts"
import type { FailureInfo } from "./failure.ts"
import type { Job } from "./journal.ts"
import type { ExternalRequester, ParentRef, TimerPurpose, WorkflowIdReusePolicy, WorkflowMessage } from "./messages.ts"
import type { Headers, Payload } from "./payload.ts"
import { nextDelay } from "./retry.ts"
import { type ActivityState, type ExecutionState, initialState, isRunning, type NewRun, runDeadline } from "./state.ts"
import { cancelAttemptTimers, close, type Command, dispatchActivity, removeActivity, Step, type Transition, unchanged } from "./step.ts"

export { chainTransitions, type Command, deferLocalActivities, localActivitiesDue, taskRetryDelay, timerId, type Transition } from "./step.ts"
export { type ActivationOutcome, completeActivation, completeTask, failTask, UPDATE_OUTCOME_WINDOW } from "./task.ts"

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
  if ((message.type === "Signal" || message.type === "CancelRequested") && message.requester !== undefined) return externalRequest(state, message, message.requester, now)
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
        if (codeWaitsFor(activity)) step.job({ type: "ActivityCompleted", at: now, seq: message.seq, result: message.result })
      } else {
        // The attempt's last heartbeat details ride with its failure: its retry has them whichever of
        // the two messages is read first (a heartbeat read after the failure finds the attempt gone).
        const failed = message.heartbeatDetails === undefined ? activity : { ...activity, heartbeatDetails: message.heartbeatDetails }
        activityAttemptFailed(step, message.seq, failed, message.failure)
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
      if (!state.started && state.cronStartAt !== undefined && state.cronSchedule === undefined) {
        // Temporal: a signal ends a start delay (a cron run's schedule time holds).
        step.cancelTimer({ kind: "cronStart" })
        step.update({ cronStartAt: now }) // its run timeout counts from now
        begin(step, state.parent)
      }
      return step.done()
    case "CancelRequested": {
      // A parent that waits for its request to be recorded (WAIT_CANCELLATION_REQUESTED) hears so, redeliveries included.
      const acknowledge = message.acknowledge === true ? message.fromParent : undefined
      if (state.cancelRequested && acknowledge === undefined) return unchanged(state)
      if (acknowledge !== undefined) step.sendWorkflow(acknowledge.taskQueue, acknowledge.workflowId, { type: "ChildCancelDelivered", runId: acknowledge.runId, seq: acknowledge.seq })
      if (state.cancelRequested) return step.done()
      if (!state.started && state.cronStartAt !== undefined) {
        // A run waiting for its schedule time (or start delay) has no code to tell: it is cancelled at once (a cron chain ends).
        close(step, "CANCELLED", { failure: { kind: "cancelled", message: message.reason ?? "Workflow cancelled" } })
        return step.done()
      }
      step.update({ cancelRequested: true })
      step.job(message.reason === undefined ? { type: "CancelRequested", at: now } : { type: "CancelRequested", at: now, reason: message.reason })
      return step.done()
    }
    case "ChildCancelDelivered": {
      const child = state.children[message.seq]
      if (child === undefined || child.cancelRequested !== true || child.cancelDelivered === true) return unchanged(state)
      step.update({ children: { ...state.children, [message.seq]: { ...child, cancelDelivered: true } } })
      step.job({ type: "ChildCancelDelivered", at: now, seq: message.seq })
      return step.done()
    }
    case "Update":
      if (state.updates?.some((update) => update.id === message.updateId) === true) return unchanged(state)
      step.update({ updates: [...(state.updates ?? []), { id: message.updateId, name: message.name, stage: "ADMITTED" }] })
      step.job({ type: "UpdateRequested", at: now, updateId: message.updateId, name: message.name, args: message.args, ...(message.headers === undefined ? {} : { headers: message.headers }) })
      return step.done()
    case "ExternalRequestReply": {
      const pending = state.externalRequests ?? []
      if (!pending.includes(message.seq)) return unchanged(state)
      step.update({ externalRequests: pending.filter((seq) => seq !== message.seq) })
      step.job({ type: "ExternalRequestResolved", at: now, seq: message.seq, ...(message.failure === undefined ? {} : { failure: message.failure }) })
      return step.done()
    }
    case "Terminate":
      step.record({ type: "WorkflowTerminated", at: now, reason: message.reason })
      close(step, "TERMINATED", { failure: { kind: "terminated", message: message.reason } })
      return step.done()
    default:
      // A message type this version does not know (written by a newer one): leave it to that version.
      return unchanged(state)
  }
}

/**
 * A signal or cancellation from another workflow (`getExternalWorkflowHandle`):
 * applied as the same message from a client would be, with the answer sent
 * back in the same commit — delivered, or, as Temporal's
 * `ExternalWorkflowExecutionNotFound`, when no open run matches. A request
 * that reached the target's id on another task queue than the target's own
 * is forwarded there first (the requester sent it on its own queue).
 */
const externalRequest = (
  state: ExecutionState | undefined,
  message: Extract<WorkflowMessage, { type: "Signal" | "CancelRequested" }>,
  requester: ExternalRequester,
  now: number,
): Transition => {
  const reply = (failure?: FailureInfo): Command => ({
    type: "SendWorkflow",
    taskQueue: requester.taskQueue,
    key: requester.workflowId,
    message: { type: "ExternalRequestReply", runId: requester.runId, seq: requester.seq, ...(failure === undefined ? {} : { failure }) },
  })
  if (!isRunning(state) || (message.runId !== undefined && message.runId !== state.runId)) {
    const what = message.type === "Signal" ? "signal" : "cancel"
    return {
      ...unchanged(state),
      commands: [reply({ kind: "application", type: "ExternalWorkflowExecutionNotFound", message: `Unable to ${what} external workflow because it was not found`, nonRetryable: true })],
    }
  }
  if (state.taskQueue !== requester.sentOn) {
    const forwarded = { ...message, requester: { ...requester, sentOn: state.taskQueue } }
    return { ...unchanged(state), commands: [{ type: "SendWorkflow", taskQueue: state.taskQueue, key: state.workflowId, message: forwarded }] }
  }
  const { requester: _, ...plain } = message
  const applied = reduce(state, plain, now)
  return { ...applied, commands: [...applied.commands, reply()] }
}

/** `requestStart` found an open run of the workflow id (conflict policy `FAIL`). */
export interface AlreadyRunning {
  readonly alreadyRunning: ExecutionState
}

/** `requestStart` found a closed run its reuse policy does not let it replace. */
export interface ReuseRejected {
  readonly reuseRejected: ExecutionState
}

/** `requestStart` found an open run and, by conflict policy `USE_EXISTING`, starts nothing. */
export interface UseExisting {
  readonly existing: ExecutionState
}

/** Temporal's `WorkflowIdConflictPolicy`: what a start does when a run of its workflow id is open. */
export type WorkflowIdConflictPolicy = "FAIL" | "USE_EXISTING" | "TERMINATE_EXISTING"

/** Temporal's `WorkflowIdReusePolicy` (defined beside the child `Start` that carries it). */
export type { WorkflowIdReusePolicy }

/** A start's workflow-id policies; absent: Temporal's defaults (`FAIL`, `ALLOW_DUPLICATE`). */
export interface StartPolicies {
  readonly conflict?: WorkflowIdConflictPolicy
  readonly reuse?: WorkflowIdReusePolicy
}

/** The store write that will hold a client's new run: its version and the token naming that write. */
export interface RecordWrite {
  readonly version: number
  readonly token: string
}

const reusable = (closed: ExecutionState, policy: WorkflowIdReusePolicy | undefined): boolean => {
  if (policy === "REJECT_DUPLICATE") return false
  if (policy === "ALLOW_DUPLICATE_FAILED_ONLY") return closed.status !== "COMPLETED"
  return true
}

/** A start its policies let through: `terminate` — after terminating the open run (`TERMINATE_EXISTING`, reuse `TERMINATE_IF_RUNNING`). */
interface Admitted {
  readonly terminate: boolean
}

/**
 * Temporal's workflow-id policies, one decision for every start (client
 * starts, signal- and update-with-start, child starts): what a new run may
 * do against the latest run of its workflow id.
 */
const admitStart = (state: ExecutionState | undefined, policies: StartPolicies): Admitted | AlreadyRunning | ReuseRejected | UseExisting => {
  if (isRunning(state)) {
    const conflict = policies.reuse === "TERMINATE_IF_RUNNING" ? "TERMINATE_EXISTING" : policies.conflict ?? "FAIL"
    if (conflict === "FAIL") return { alreadyRunning: state }
    if (conflict === "USE_EXISTING") return { existing: state }
    return { terminate: true }
  }
  if (state !== undefined && !reusable(state, policies.reuse)) return { reuseRejected: state }
  return { terminate: false }
}

/** The open run terminated by a start's policy, as the transition that does it. */
const terminatedByStart = (state: ExecutionState, now: number): Transition =>
  reduce(state, { type: "Terminate", runId: state.runId, reason: "terminated by a new start (workflowIdConflictPolicy TERMINATE_EXISTING)" }, now)

/**
 * How a client's start goes, by its policies: refused, on the open run, or
 * a step that holds the new run (its initial state, written as `record`,
 * and its `Start`) — after terminating the open run, for `TERMINATE_EXISTING`
 * (reuse `TERMINATE_IF_RUNNING`), in the same transition.
 */
const startStep = (
  state: ExecutionState | undefined,
  run: NewRun,
  now: number,
  record: RecordWrite,
  policies: StartPolicies,
): Step | AlreadyRunning | ReuseRejected | UseExisting => {
  const admitted = admitStart(state, policies)
  if (!("terminate" in admitted)) return admitted
  const terminated = admitted.terminate ? terminatedByStart(state!, now) : undefined
  const step = new Step(initialState(run, now), now)
  if (terminated !== undefined) {
    // The terminated run's note goes to its own journal; its close wakes its result waiters.
    step.journal.push(...terminated.journal)
    step.journalRunId = terminated.journalRunId ?? state!.runId
    step.commands.push(...terminated.commands)
    step.closed = true
  }
  step.sendWorkflow(run.taskQueue, run.workflowId, { type: "Start", ...run, record: { version: record.version, token: record.token, startTime: now } })
  return step
}

/**
 * A client asks for a new run (`client.workflow.start`): unless a run of the
 * workflow id is open (or a closed one may not be replaced, by `policies`),
 * the record becomes the new run's initial state (as write `record`) and its
 * `Start` message is sent — written together, so a duplicate id is rejected
 * at the call. The worker that reads the `Start` goes on from there
 * (`reduce`). Child starts and continue-as-new send the same `Start`.
 */
export const requestStart = (
  state: ExecutionState | undefined,
  run: NewRun,
  now: number,
  record: RecordWrite,
  policies: StartPolicies = {},
): Transition | AlreadyRunning | ReuseRejected | UseExisting => {
  const step = startStep(state, run, now, record, policies)
  return step instanceof Step ? step.done() : step
}

/** A signal as a client sends it (`signalId` dedupes a retried send). */
export interface ClientSignal {
  readonly signalId: string
  readonly name: string
  readonly args: ReadonlyArray<Payload>
}

/**
 * Temporal's signal-with-start, as one transition (writing `record` when it
 * starts a run): an open run of the workflow id gets the signal (conflict
 * policy `TERMINATE_EXISTING`, or reuse policy `TERMINATE_IF_RUNNING`: it
 * is terminated and a new run gets it);
 * otherwise `run` starts (as `requestStart`, unless `reuse` keeps the
 * closed run: `ReuseRejected`) with the signal queued right behind its
 * `Start` on the same stream. Either way it is one atomic commit; the
 * version check makes it lose (and retry) against a commit that opened or
 * closed a run meanwhile.
 */
export const requestSignalWithStart = (
  state: ExecutionState | undefined,
  run: NewRun,
  signal: ClientSignal,
  now: number,
  record: RecordWrite,
  policies: StartPolicies & { readonly conflict?: "USE_EXISTING" | "TERMINATE_EXISTING" } = {},
): { readonly transition: Transition; readonly signaledRunId: string } | ReuseRejected => {
  const step = startStep(state, run, now, record, { ...policies, conflict: policies.conflict ?? "USE_EXISTING" })
  if ("alreadyRunning" in step || "reuseRejected" in step) return step as ReuseRejected
  const target = step instanceof Step ? run : step.existing
  const sending = step instanceof Step ? step : new Step(step.existing, now)
  sending.sendWorkflow(target.taskQueue, target.workflowId, { type: "Signal", runId: target.runId, ...signal })
  return { transition: sending.done(), signaledRunId: target.runId }
}

/** A client's update, sent with `requestUpdateWithStart` (the reducer dedupes it by `updateId`). */
export interface ClientUpdate {
  readonly updateId: string
  readonly name: string
  readonly args: ReadonlyArray<Payload>
  /** Set by client interceptors (`startUpdate`), for the workflow's `handleUpdate` / `validateUpdate`. */
  readonly headers?: Headers
}

/**
 * Temporal's update-with-start, as one transition: by `policies` (a
 * conflict policy is required, as in Temporal), the update goes to the open
 * run (`USE_EXISTING`), or `run` starts — after terminating the open run
 * for `TERMINATE_EXISTING` — with the update right behind its `Start`; or
 * the start is refused and nothing is sent. One atomic commit either way.
 */
export const requestUpdateWithStart = (
  state: ExecutionState | undefined,
  run: NewRun,
  update: ClientUpdate,
  now: number,
  record: RecordWrite,
  policies: StartPolicies & { readonly conflict: WorkflowIdConflictPolicy },
): { readonly transition: Transition; readonly updatedRunId: string } | AlreadyRunning | ReuseRejected => {
  const step = startStep(state, run, now, record, policies)
  if ("alreadyRunning" in step || "reuseRejected" in step) return step
  const target = step instanceof Step ? run : step.existing
  const sending = step instanceof Step ? step : new Step(step.existing, now)
  sending.sendWorkflow(target.taskQueue, target.workflowId, { type: "Update", runId: target.runId, ...update })
  return { transition: sending.done(), updatedRunId: target.runId }
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
    if (state.started || state.cronStartAt !== undefined || !isRunning(state)) return unchanged(state)
  } else if (message.parent !== undefined && state !== undefined) {
    // A child start meets another run of its workflow id: its reuse policy decides (conflict policy FAIL, as in Temporal).
    const admitted = admitStart(state, message.workflowIdReusePolicy === undefined ? {} : { reuse: message.workflowIdReusePolicy })
    if (!("terminate" in admitted)) return childStartRefused(state, message, message.parent, now)
    if (admitted.terminate) {
      // TERMINATE_IF_RUNNING: this step ends the open run; the Start, sent again behind it, then finds the id closed.
      const terminated = terminatedByStart(state, now)
      return { ...terminated, commands: [...terminated.commands, { type: "SendWorkflow", taskQueue: message.taskQueue, key: message.workflowId, message }] }
    }
  } else if (isRunning(state)) {
    // Another run of this workflow id is open (a client start raced it): ignore.
    return unchanged(state)
  }
  const fresh = state !== undefined && state.runId === message.runId ? state : initialState(message, now)
  const step = new Step(fresh, now)
  // A cron run's code starts at its next schedule time, a delayed start's after its delay (Temporal's
  // first workflow task backoff); until then it runs with nothing to do. The execution's deadline
  // spans the whole chain, waits included.
  const at = fresh.cronSchedule !== undefined
    ? nextCronTime(fresh.cronSchedule, fresh.startTime)
    : message.startDelayMs !== undefined && message.startDelayMs > 0 ? fresh.startTime + message.startDelayMs : undefined
  if (at !== undefined) {
    step.update({ cronStartAt: at })
    step.timer({ kind: "cronStart" }, at)
    if (fresh.executionExpiresAt !== undefined) step.timer({ kind: "workflowTimeout" }, fresh.executionExpiresAt)
  } else {
    begin(step, message.parent)
  }
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

/** A child start its workflow id's latest run refuses (open, or closed and kept by the reuse policy): the parent hears why. */
const childStartRefused = (state: ExecutionState, message: Extract<WorkflowMessage, { type: "Start" }>, parent: ParentRef, now: number): Transition => {
  const step = new Step(state, now)
  step.sendWorkflow(parent.taskQueue, parent.workflowId, {
    type: "ChildStartFailed",
    runId: parent.runId,
    seq: parent.seq,
    failure: {
      kind: "application",
      type: "WorkflowExecutionAlreadyStartedError",
      message: `Workflow execution already started: ${message.workflowId}`,
      nonRetryable: true,
    },
  })
  return { ...step.done(), state }
}

/** The run's code starts: WorkflowStarted ahead of the jobs already queued, and its timeout armed. */
const begin = (step: Step, parent: ParentRef | undefined): void => {
  const { state, now } = step
  const started: Job = {
    type: "WorkflowStarted",
    at: now,
    args: state.args,
    ...(parent === undefined ? {} : { parent }),
    ...(state.searchAttributes === undefined ? {} : { searchAttributes: state.searchAttributes }),
    ...(state.memo === undefined ? {} : { memo: state.memo }),
    ...(state.headers === undefined ? {} : { headers: state.headers }),
  }
  step.update({ started: true, pendingJobs: [started, ...state.pendingJobs] })
  step.activate = true
  const deadline = runDeadline(state)
  if (deadline !== undefined) step.timer({ kind: "workflowTimeout" }, deadline)
}

const currentAttempt = (state: ExecutionState, seq: number, attempt: number): ActivityState | undefined => {
  const activity = state.activities[seq]
  return activity !== undefined && activity.attempt === attempt && activity.dispatched ? activity : undefined
}

/**
 * Whether the code still waits for the call's outcome: always, unless the
 * workflow cancelled it (then only under `WAIT_CANCELLATION_COMPLETED`; with
 * `TRY_CANCEL` or `ABANDON` the code stopped waiting at the cancellation).
 */
const codeWaitsFor = (activity: ActivityState): boolean =>
  activity.cancelRequested !== true || activity.options.cancellationType === "WAIT_CANCELLATION_COMPLETED"

/** What the code of a cancelled call that never ran again sees: `ActivityFailure` caused by `CancelledFailure`. */
const cancelledFailure = (activity: ActivityState): FailureInfo => ({
  kind: "activity",
  message: "Activity task cancelled",
  activityType: activity.activityType,
  cause: { kind: "cancelled", message: "Activity cancelled" },
})

const activityAttemptFailed = (step: Step, seq: number, activity: ActivityState, failure: FailureInfo): void => {
  const { now } = step
  cancelAttemptTimers(step, seq, activity)
  // A call the workflow cancelled is not retried: this attempt's outcome ends it.
  const delay = activity.cancelRequested === true ? undefined : nextDelay(activity.options.retry, activity.attempt, failure)
  const deadline = activity.options.scheduleToCloseMs === undefined ? Infinity : activity.scheduledAt + activity.options.scheduleToCloseMs
  if (delay !== undefined && now + delay < deadline) {
    const attempt = activity.attempt + 1
    step.record({ type: "ActivityRetrying", at: now, seq, attempt, failure, delayMs: delay })
    const { localRunAt: _, ...rest } = activity
    if (activity.options.local !== undefined && delay <= activity.options.local.retryThresholdMs) {
      // A local activity within its localRetryThreshold: retried by this step's process after the backoff.
      step.update({ activities: { ...step.state.activities, [seq]: { ...rest, attempt, dispatched: true, lastFailure: failure, localRunAt: now + delay } } })
      return
    }
    step.update({ activities: { ...step.state.activities, [seq]: { ...rest, attempt, dispatched: false, lastFailure: failure } } })
    step.timer({ kind: "activityRetry", seq, attempt }, now + delay)
    return
  }
  removeActivity(step, seq)
  if (!codeWaitsFor(activity)) return
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
      if (activity.cancelRequested === true) {
        // Cancelled while nothing ran (WAIT_CANCELLATION_COMPLETED): the cancellation is its outcome.
        removeActivity(step, purpose.seq)
        step.job({ type: "ActivityFailed", at: now, seq: purpose.seq, failure: cancelledFailure(activity) })
        return step.done()
      }
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
    case "cronStart":
      if (state.started || state.cronStartAt === undefined) return unchanged(state)
      begin(step, state.parent)
      return step.done()
    case "workflowTimeout":
      // As when it is terminated: pending work is dropped, children go by their parent-close policy.
      step.record({ type: "WorkflowTimedOut", at: now })
      close(step, "TIMED_OUT", { failure: { kind: "timeout", message: "Workflow execution timed out", timeoutType: "START_TO_CLOSE" } })
      return step.done()
  }
}
