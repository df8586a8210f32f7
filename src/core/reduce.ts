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
 */
import type { FailureInfo } from "./failure.ts"
import { commandEntry, type Job, type JournalEntry, type WorkflowCommand } from "./journal.ts"
import type { ActivityTask, ClosedStatus, ParentRef, TimerPurpose, WorkflowMessage } from "./messages.ts"
import type { Payload } from "./payload.ts"
import { nextDelay } from "./retry.ts"
import { type ActivityState, type ExecutionState, initialState, isRunning } from "./state.ts"

/** Something the interpreter must write in the step's atomic commit. */
export type Command =
  | { readonly type: "SendWorkflow"; readonly taskQueue: string; readonly key: string; readonly message: WorkflowMessage }
  | { readonly type: "SendActivity"; readonly taskQueue: string; readonly key: string; readonly task: ActivityTask }
  | { readonly type: "SetTimer"; readonly id: string; readonly fireAt: number; readonly taskQueue: string; readonly key: string; readonly message: WorkflowMessage }
  | { readonly type: "CancelTimer"; readonly id: string }

/** The result of one transition. */
export interface Transition {
  readonly state: ExecutionState | undefined
  /** Entries to append to the run's journal, in order. */
  readonly journal: ReadonlyArray<JournalEntry>
  readonly commands: ReadonlyArray<Command>
  /** Run workflow code on `state.pendingJobs`, then call `completeTask`/`failTask`. */
  readonly activate: boolean
  /** A query to answer from the live workflow (no state change). */
  readonly query?: { readonly queryId: string; readonly name: string; readonly args: ReadonlyArray<Payload> }
  /** The run closed in this transition (wake result waiters). */
  readonly closed: boolean
  /** The run whose journal `journal` extends (a continue-as-new replaces `state` with the next run). */
  readonly journalRunId?: string
}

/** How many recent signal ids a run remembers to drop redeliveries (state stays bounded). */
export const SIGNAL_DEDUPE_WINDOW = 256

const sameParent = (parent: ParentRef | undefined, from: ParentRef): boolean =>
  parent !== undefined && parent.workflowId === from.workflowId && parent.runId === from.runId && parent.seq === from.seq

/** Workflow-task retry backoff: 1 s doubling to 10 s, unlimited (like Temporal's). */
export const taskRetryDelay = (attempt: number): number => Math.min(1000 * 2 ** (attempt - 1), 10_000)

/** The store timer id of a timer purpose for one run. */
export const timerId = (state: Pick<ExecutionState, "workflowId" | "runId">, purpose: TimerPurpose): string => {
  const base = `${state.workflowId}:${state.runId}`
  switch (purpose.kind) {
    case "sleep":
      return `${base}:sleep:${purpose.seq}`
    case "activityRetry":
      return `${base}:retry:${purpose.seq}`
    case "activityTimeout":
      return `${base}:timeout:${purpose.seq}`
    case "activityHeartbeat":
      return `${base}:heartbeat:${purpose.seq}`
    case "taskRetry":
      return `${base}:task-retry`
  }
}

/**
 * A builder that accumulates one transition's outputs over an evolving state.
 * The input state is never mutated: the first `update` takes a private copy,
 * later ones patch that copy (one allocation per transition, not per field).
 */
class Step {
  journal: Array<JournalEntry> = []
  journalRunId: string | undefined = undefined
  commands: Array<Command> = []
  activate = false
  closed = false
  #state: ExecutionState
  #owned = false
  constructor(
    state: ExecutionState,
    readonly now: number,
  ) {
    this.#state = state
  }

  get state(): ExecutionState {
    return this.#state
  }
  /** Replace the state with an object this step owns. */
  set state(next: ExecutionState) {
    this.#state = next
    this.#owned = true
  }
  update(patch: Partial<ExecutionState>): void {
    if (!this.#owned) this.state = { ...this.#state }
    Object.assign(this.#state, patch)
  }
  record(entry: JournalEntry): void {
    this.journalRunId ??= this.state.runId
    this.journal.push(entry)
    this.update({ journalLength: this.state.journalLength + 1 })
  }
  timer(purpose: TimerPurpose, fireAt: number): void {
    const { workflowId, runId, taskQueue } = this.state
    this.commands.push({
      type: "SetTimer",
      id: timerId(this.state, purpose),
      fireAt,
      taskQueue,
      key: workflowId,
      message: { type: "TimerFired", runId, timer: purpose },
    })
  }
  cancelTimer(purpose: TimerPurpose): void {
    this.commands.push({ type: "CancelTimer", id: timerId(this.state, purpose) })
  }
  sendWorkflow(taskQueue: string, key: string, message: WorkflowMessage): void {
    this.commands.push({ type: "SendWorkflow", taskQueue, key, message })
  }
  /** Queue a job for workflow code; activate unless a failing task is waiting for its retry. */
  job(job: Job): void {
    this.update({ pendingJobs: [...this.state.pendingJobs, job] })
    if (this.state.started && this.state.taskFailure === undefined) this.activate = true
  }
  done(): Transition {
    return {
      state: this.state,
      journal: this.journal,
      commands: this.commands,
      activate: this.activate,
      closed: this.closed,
      ...(this.journalRunId === undefined ? {} : { journalRunId: this.journalRunId }),
    }
  }
}

const unchanged = (state: ExecutionState | undefined): Transition => ({
  state,
  journal: [],
  commands: [],
  activate: false,
  closed: false,
})

/** Apply one workflow-stream message. */
export const reduce = (state: ExecutionState | undefined, message: WorkflowMessage, now: number): Transition => {
  if (message.type === "Start") return start(state, message, now)
  if (message.type === "Query") {
    // Queries read the live workflow (running or closed) and change nothing.
    return { ...unchanged(state), query: { queryId: message.queryId, name: message.name, args: message.args } }
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
      step.job({ type: "SignalReceived", at: now, name: message.name, args: message.args })
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
  const started: Job = message.parent === undefined
    ? { type: "WorkflowStarted", at: now, args: message.args }
    : { type: "WorkflowStarted", at: now, args: message.args, parent: message.parent }
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

const removeActivity = (step: Step, seq: number): void => {
  const { [seq]: _, ...activities } = step.state.activities
  step.update({ activities })
}

const activityAttemptFailed = (step: Step, seq: number, activity: ActivityState, failure: FailureInfo): void => {
  const { now } = step
  cancelAttemptTimers(step, seq, activity)
  const delay = nextDelay(activity.options.retry, activity.attempt, failure)
  const deadline = activity.options.scheduleToCloseMs === undefined ? Infinity : activity.scheduledAt + activity.options.scheduleToCloseMs
  if (delay !== undefined && now + delay < deadline) {
    const attempt = activity.attempt + 1
    step.record({ type: "ActivityRetrying", at: now, seq, attempt, failure, delayMs: delay })
    step.update({ activities: { ...step.state.activities, [seq]: { ...activity, attempt, dispatched: false } } })
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

/** How this run names itself to its child `seq`. */
const parentRef = (state: ExecutionState, seq: number): ParentRef => ({
  workflowId: state.workflowId,
  runId: state.runId,
  taskQueue: state.taskQueue,
  seq,
})

/** Send one attempt of an activity and arm its timeout. */
const dispatchActivity = (step: Step, seq: number, activity: ActivityState): void => {
  const { state, now } = step
  step.update({ activities: { ...state.activities, [seq]: activity } })
  const { startToCloseMs, scheduleToCloseMs, heartbeatTimeoutMs } = activity.options
  const deadline = Math.min(
    startToCloseMs === undefined ? Infinity : now + startToCloseMs,
    scheduleToCloseMs === undefined ? Infinity : activity.scheduledAt + scheduleToCloseMs,
  )
  step.commands.push({
    type: "SendActivity",
    taskQueue: activity.options.taskQueue,
    key: state.workflowId,
    task: {
      workflowId: state.workflowId,
      runId: state.runId,
      workflowType: state.workflowType,
      workflowTaskQueue: state.taskQueue,
      seq,
      attempt: activity.attempt,
      activityType: activity.activityType,
      args: activity.args,
      scheduledAt: activity.scheduledAt,
      ...(deadline === Infinity ? {} : { deadline }),
      ...(heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs }),
      ...(activity.heartbeatDetails === undefined ? {} : { heartbeatDetails: activity.heartbeatDetails }),
    },
  })
  if (deadline !== Infinity) step.timer({ kind: "activityTimeout", seq, attempt: activity.attempt }, deadline)
  if (heartbeatTimeoutMs !== undefined) step.timer({ kind: "activityHeartbeat", seq, attempt: activity.attempt }, now + heartbeatTimeoutMs)
}

/** Cancel the timeout timers of an activity's current attempt. */
const cancelAttemptTimers = (step: Step, seq: number, activity: ActivityState): void => {
  step.cancelTimer({ kind: "activityTimeout", seq, attempt: activity.attempt })
  if (activity.options.heartbeatTimeoutMs !== undefined) step.cancelTimer({ kind: "activityHeartbeat", seq, attempt: activity.attempt })
}

/**
 * Workflow code ran on `state.pendingJobs` and made `commands`: journal the
 * jobs (as one task) and the commands, and turn the commands into messages
 * and timers.
 */
export const completeTask = (state: ExecutionState, commands: ReadonlyArray<WorkflowCommand>, now: number): Transition => {
  if (!isRunning(state)) return unchanged(state)
  const step = new Step(state, now)
  const task = state.tasks + 1
  for (const job of state.pendingJobs) step.record({ ...job, task })
  if (state.taskFailure !== undefined) step.cancelTimer({ kind: "taskRetry", attempt: state.taskFailure.attempt })
  const { taskFailure: _, ...rest } = step.state
  step.state = { ...rest, pendingJobs: [], tasks: task }
  for (const command of commands) {
    step.record(commandEntry(command, now))
    applyCommand(step, command)
    if (step.closed) break
  }
  return step.done()
}

const applyCommand = (step: Step, command: WorkflowCommand): void => {
  const { state, now } = step
  switch (command.type) {
    case "ScheduleActivity":
      dispatchActivity(step, command.seq, {
        activityType: command.activityType,
        args: command.args,
        options: command.options,
        attempt: 1,
        scheduledAt: now,
        dispatched: true,
      })
      return
    case "StartTimer":
      step.update({ timers: [...state.timers, command.seq] })
      step.timer({ kind: "sleep", seq: command.seq }, now + command.durationMs)
      return
    case "CancelTimer":
      step.update({ timers: state.timers.filter((seq) => seq !== command.seq) })
      step.cancelTimer({ kind: "sleep", seq: command.seq })
      return
    case "RequestCancelActivity": {
      const activity = state.activities[command.seq]
      if (activity === undefined) return
      removeActivity(step, command.seq)
      cancelAttemptTimers(step, command.seq, activity)
      step.cancelTimer({ kind: "activityRetry", seq: command.seq, attempt: activity.attempt })
      return
    }
    case "StartChild": {
      const runId = `${state.runId}.${command.seq}`
      step.update({
        children: { ...state.children, [command.seq]: { workflowId: command.workflowId, workflowType: command.workflowType, taskQueue: command.taskQueue, runId } },
      })
      step.sendWorkflow(command.taskQueue, command.workflowId, {
        type: "Start",
        workflowId: command.workflowId,
        runId,
        workflowType: command.workflowType,
        taskQueue: command.taskQueue,
        args: command.args,
        parent: parentRef(state, command.seq),
      })
      return
    }
    case "RequestCancelChild": {
      const child = state.children[command.seq]
      if (child === undefined || child.cancelRequested === true) return
      // The child stays listed until it closes: if it catches the cancellation and runs on,
      // the parent's close still terminates it.
      step.update({ children: { ...state.children, [command.seq]: { ...child, cancelRequested: true } } })
      step.sendWorkflow(child.taskQueue, child.workflowId, { type: "CancelRequested", reason: "parent cancelled the child", fromParent: parentRef(state, command.seq) })
      return
    }
    case "CompleteWorkflow":
      close(step, "COMPLETED", { result: command.result })
      return
    case "FailWorkflow":
      close(step, "FAILED", { failure: command.failure })
      return
    case "CancelWorkflow":
      close(step, "CANCELLED", { failure: { kind: "cancelled", message: "Workflow cancelled" } })
      return
    case "ContinueAsNew": {
      // Close this run without telling the parent; the next run inherits the parent and reports to it.
      close(step, "CONTINUED_AS_NEW", {}, { notifyParent: false })
      const next = {
        workflowId: state.workflowId,
        runId: command.runId,
        workflowType: command.workflowType,
        taskQueue: command.taskQueue,
        args: command.args,
        ...(state.parent === undefined ? {} : { parent: state.parent }),
      }
      step.state = initialState(next, now)
      step.sendWorkflow(command.taskQueue, state.workflowId, { type: "Start", ...next })
      return
    }
    case "Patch":
      return
  }
}

/**
 * Workflow code could not run on the pending jobs (unknown workflow type,
 * a bug that threw, a determinism violation): keep the jobs, record why,
 * and retry the task with backoff. The workflow itself does not fail.
 */
export const failTask = (state: ExecutionState, failure: { readonly type: string; readonly message: string }, now: number): Transition => {
  if (!isRunning(state)) return unchanged(state)
  const step = new Step(state, now)
  const attempt = (state.taskFailure?.attempt ?? 0) + 1
  step.update({ taskFailure: { type: failure.type, message: failure.message, attempt, at: now } })
  step.timer({ kind: "taskRetry", attempt }, now + taskRetryDelay(attempt))
  return step.done()
}

const close = (
  step: Step,
  status: ClosedStatus,
  outcome: { readonly result?: Payload; readonly failure?: FailureInfo },
  options: { readonly notifyParent: boolean } = { notifyParent: true },
): void => {
  const { state, now } = step
  for (const seq of state.timers) step.cancelTimer({ kind: "sleep", seq })
  for (const [seq, activity] of Object.entries(state.activities)) {
    if (activity.dispatched) cancelAttemptTimers(step, Number(seq), activity)
    else step.cancelTimer({ kind: "activityRetry", seq: Number(seq), attempt: activity.attempt })
  }
  if (state.taskFailure !== undefined) step.cancelTimer({ kind: "taskRetry", attempt: state.taskFailure.attempt })
  // Parent-close policy TERMINATE (Temporal's default): open children end with their parent.
  for (const [seq, child] of Object.entries(state.children)) {
    step.sendWorkflow(child.taskQueue, child.workflowId, { type: "Terminate", reason: "parent workflow closed", fromParent: parentRef(state, Number(seq)) })
  }
  if (state.parent !== undefined && options.notifyParent) {
    step.sendWorkflow(state.parent.taskQueue, state.parent.workflowId, {
      type: "ChildClosed",
      runId: state.parent.runId,
      seq: state.parent.seq,
      status,
      ...(outcome.result === undefined ? {} : { result: outcome.result }),
      ...(outcome.failure === undefined ? {} : { failure: outcome.failure }),
    })
  }
  const { taskFailure: _, ...rest } = step.state
  step.state = {
    ...rest,
    status,
    closeTime: now,
    activities: {},
    timers: [],
    children: {},
    pendingJobs: [],
    ...(outcome.result === undefined ? {} : { result: outcome.result }),
    ...(outcome.failure === undefined ? {} : { failure: outcome.failure }),
  }
  step.closed = true
}
