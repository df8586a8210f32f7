/**
 * The building blocks shared by the transitions (`reduce.ts`, `task.ts`):
 * what a transition returns, the `Step` builder that accumulates it, timer
 * ids, and the effects several transitions share — dispatching an activity
 * attempt, closing a run. Pure; internal to core.
 */
import type { FailureInfo } from "./failure.ts"
import type { Job, JournalEntry } from "./journal.ts"
import { fairnessKeyOf } from "./lanes.ts"
import type { ActivityTask, ClosedStatus, ParentRef, TimerPurpose, WorkflowMessage } from "./messages.ts"
import type { Headers, Payload } from "./payload.ts"
import { type ActivityState, type ExecutionState, initialState, runDeadline } from "./state.ts"

/** `ExecutionState` with writable fields: what a `Step` holds once it owns its copy. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Something the interpreter must write in the step's atomic commit. */
export type Command =
  | { readonly type: "SendWorkflow"; readonly taskQueue: string; readonly key: string; readonly message: WorkflowMessage }
  | {
    readonly type: "SendActivity"; readonly taskQueue: string; readonly key: string; readonly task: ActivityTask
    /** Who the task is fair to (`fairnessKeyOf`): tasks of other keys on the queue are not read behind it. */
    readonly fairnessKey: string
  }
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
  readonly query?: { readonly queryId: string; readonly name: string; readonly args: ReadonlyArray<Payload>; readonly headers?: Headers }
  /** The run closed in this transition (wake result waiters). */
  readonly closed: boolean
  /** The run whose journal `journal` extends (a continue-as-new replaces `state` with the next run). */
  readonly journalRunId?: string
}

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
    case "workflowTimeout":
      return `${base}:workflow-timeout`
    case "cronStart":
      return `${base}:cron-start`
  }
}

/**
 * A builder that accumulates one transition's outputs over an evolving state.
 * The input state is never mutated: the first `update` takes a private copy,
 * later ones patch that copy (one allocation per transition, not per field).
 */
export class Step {
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
    Object.assign(this.owned(), patch)
  }
  /** The state as a private copy this step may write (taken on first use). */
  owned(): Mutable<ExecutionState> {
    if (!this.#owned) this.state = { ...this.#state }
    return this.#state as Mutable<ExecutionState>
  }
  record(entry: JournalEntry): void {
    this.journalRunId ??= this.#state.runId
    this.journal.push(entry)
    this.owned().journalLength++
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
    const state = this.owned()
    state.pendingJobs = state.pendingJobs.length === 0 ? [job] : [...state.pendingJobs, job]
    if (this.state.started && this.state.taskFailure === undefined) this.activate = true
  }
  done(): Transition {
    const { journalRunId } = this
    return journalRunId === undefined
      ? { state: this.state, journal: this.journal, commands: this.commands, activate: this.activate, closed: this.closed }
      : { state: this.state, journal: this.journal, commands: this.commands, activate: this.activate, closed: this.closed, journalRunId }
  }
}

/** A transition that changes nothing. */
export const unchanged = (state: ExecutionState | undefined): Transition => ({
  state,
  journal: [],
  commands: [],
  activate: false,
  closed: false,
})

/** Forget a pending activity. */
export const removeActivity = (step: Step, seq: number): void => {
  const current = step.state.activities
  const removed = String(seq)
  const activities: Record<string, ActivityState> = {}
  for (const key in current) if (key !== removed) activities[key] = current[key]!
  step.owned().activities = activities
}

/** How this run names itself to its child `seq`. */
export const parentRef = (state: ExecutionState, seq: number): ParentRef => ({
  workflowId: state.workflowId,
  runId: state.runId,
  taskQueue: state.taskQueue,
  seq,
})

/** The task of activity `seq`'s current attempt, dispatched at `now`. */
export const activityTask = (state: ExecutionState, seq: number, activity: ActivityState, now: number): ActivityTask => {
  const { startToCloseMs, scheduleToCloseMs, heartbeatTimeoutMs } = activity.options
  const deadline = Math.min(
    startToCloseMs === undefined ? Infinity : now + startToCloseMs,
    scheduleToCloseMs === undefined ? Infinity : activity.scheduledAt + scheduleToCloseMs,
  )
  const task: Mutable<ActivityTask> = {
    workflowId: state.workflowId,
    runId: state.runId,
    workflowType: state.workflowType,
    workflowTaskQueue: state.taskQueue,
    seq,
    attempt: activity.attempt,
    activityType: activity.activityType,
    args: activity.args,
    scheduledAt: activity.scheduledAt,
    attemptScheduledAt: now,
  }
  if (deadline !== Infinity) task.deadline = deadline
  if (startToCloseMs !== undefined) task.startToCloseMs = startToCloseMs
  if (scheduleToCloseMs !== undefined) task.scheduleToCloseMs = scheduleToCloseMs
  if (heartbeatTimeoutMs !== undefined) task.heartbeatTimeoutMs = heartbeatTimeoutMs
  if (activity.heartbeatDetails !== undefined) task.heartbeatDetails = activity.heartbeatDetails
  if (activity.headers !== undefined) task.headers = activity.headers
  if (activity.options.local !== undefined) task.local = true
  return task
}

/**
 * Send one attempt of an activity and arm its timeout. A local activity's
 * attempt is only marked dispatched: the step that made it runs it in the
 * workflow worker's process (`localActivitiesDue`) and reduces its outcome
 * before committing, so no committed state has one running.
 */
export const dispatchActivity = (step: Step, seq: number, activity: ActivityState): void => {
  const { state, now } = step
  step.owned().activities = { ...state.activities, [seq]: activity }
  if (activity.options.local !== undefined) return
  const task = activityTask(state, seq, activity, now)
  step.commands.push({ type: "SendActivity", taskQueue: activity.options.taskQueue, key: state.workflowId, task, fairnessKey: fairnessKeyOf(task) })
  if (task.deadline !== undefined) step.timer({ kind: "activityTimeout", seq, attempt: activity.attempt }, task.deadline)
  if (task.heartbeatTimeoutMs !== undefined) step.timer({ kind: "activityHeartbeat", seq, attempt: activity.attempt }, now + task.heartbeatTimeoutMs)
}

/**
 * The local activity attempts `state` waits for, to run in this process
 * before the step commits: each one's task (as dispatched at `now`) and when
 * it may start (after an in-process backoff).
 */
export const localActivitiesDue = (state: ExecutionState | undefined, now: number): Array<{ readonly task: ActivityTask; readonly runAt: number }> => {
  const due: Array<{ readonly task: ActivityTask; readonly runAt: number }> = []
  if (state === undefined || state.status !== "RUNNING") return due
  for (const [seq, activity] of Object.entries(state.activities)) {
    if (activity.options.local === undefined || !activity.dispatched) continue
    const runAt = Math.max(now, activity.localRunAt ?? now)
    due.push({ task: activityTask(state, Number(seq), activity, runAt), runAt })
  }
  return due
}

/**
 * Hand the local activity attempts `state` waits for to durable timers (each
 * due when it may start): a step that has run local activities for long
 * enough commits, and the steps those timers bring run them.
 */
export const deferLocalActivities = (state: ExecutionState, now: number): Transition => {
  const step = new Step(state, now)
  for (const [seq, activity] of Object.entries(state.activities)) {
    if (activity.options.local === undefined || !activity.dispatched) continue
    const { localRunAt, ...rest } = activity
    step.update({ activities: { ...step.state.activities, [seq]: { ...rest, dispatched: false } } })
    step.timer({ kind: "activityRetry", seq: Number(seq), attempt: activity.attempt }, Math.max(now, localRunAt ?? now))
  }
  return step.done()
}

/** `first` then `second` (applied to `first`'s state) as one transition, committed at once. */
export const chainTransitions = (first: Transition, second: Transition): Transition => {
  const journalRunId = first.journalRunId ?? second.journalRunId
  const journal = first.journal.length === 0 ? second.journal : [...first.journal, ...second.journal]
  const commands = first.commands.length === 0 ? second.commands : [...first.commands, ...second.commands]
  const closed = first.closed || second.closed
  return journalRunId === undefined
    ? { state: second.state, journal, commands, activate: second.activate, closed }
    : { state: second.state, journal, commands, activate: second.activate, closed, journalRunId }
}

/** Cancel the timeout timers of an activity's current attempt. */
export const cancelAttemptTimers = (step: Step, seq: number, activity: ActivityState): void => {
  if (activity.options.local !== undefined) return
  step.cancelTimer({ kind: "activityTimeout", seq, attempt: activity.attempt })
  if (activity.options.heartbeatTimeoutMs !== undefined) step.cancelTimer({ kind: "activityHeartbeat", seq, attempt: activity.attempt })
}

/** Close the run: cancel its timers, terminate open children, tell the parent, wake result waiters. */
export const close = (
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
  if (status !== "TIMED_OUT" && runDeadline(state) !== undefined) step.cancelTimer({ kind: "workflowTimeout" })
  if (state.cronStartAt !== undefined && !state.started) step.cancelTimer({ kind: "cronStart" })
  // Each open child by its parent-close policy: TERMINATE (Temporal's default) ends it with its
  // parent, REQUEST_CANCEL asks it to cancel (unless already asked), ABANDON leaves it running.
  for (const [seq, child] of Object.entries(state.children)) {
    const fromParent = parentRef(state, Number(seq))
    if (child.parentClosePolicy === "ABANDON") continue
    if (child.parentClosePolicy === "REQUEST_CANCEL") {
      if (child.cancelRequested !== true) step.sendWorkflow(child.taskQueue, child.workflowId, { type: "CancelRequested", reason: "parent workflow closed", fromParent })
      continue
    }
    step.sendWorkflow(child.taskQueue, child.workflowId, { type: "Terminate", reason: "parent workflow closed", fromParent })
  }
  // A cron chain goes on after this run unless it was cancelled or terminated, or its execution timed out.
  const cronGoesOn = state.cronSchedule !== undefined && CRON_GOES_ON.has(status) && !(state.executionExpiresAt !== undefined && now >= state.executionExpiresAt)
  // The parent of a cron child hears only of the chain's end (Temporal: a cron child does not complete).
  if (state.parent !== undefined && options.notifyParent && !cronGoesOn) {
    step.sendWorkflow(state.parent.taskQueue, state.parent.workflowId, {
      type: "ChildClosed",
      runId: state.parent.runId,
      seq: state.parent.seq,
      status,
      ...(outcome.result === undefined ? {} : { result: outcome.result }),
      ...(outcome.failure === undefined ? {} : { failure: outcome.failure }),
    })
  }
  // Unanswered requests to other workflows are dropped with the run (their answers find it closed).
  const { taskFailure: _, externalRequests: _requests, ...rest } = step.state
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
  if (cronGoesOn) nextCronRun(step, state, state.cronSchedule!)
}

/** The closes after which a cron chain goes on (cancel and terminate stop it, as in Temporal). */
const CRON_GOES_ON: ReadonlySet<ClosedStatus> = new Set(["COMPLETED", "FAILED", "TIMED_OUT"])

/**
 * The closed run's successor: a new run of the workflow id with the same
 * input (and parent, timeouts and headers), which waits for its schedule
 * time. The execution's deadline spans the chain; the run timeout applies
 * to each run.
 */
const nextCronRun = (step: Step, closed: ExecutionState, cronSchedule: string): void => {
  const next = {
    workflowId: closed.workflowId,
    // Deterministic and unique to this chain (one run closes per step).
    runId: `${closed.workflowId}:cron:${step.now}`,
    workflowType: closed.workflowType,
    taskQueue: closed.taskQueue,
    args: closed.args,
    cronSchedule,
    ...(closed.parent === undefined ? {} : { parent: closed.parent }),
    ...(closed.searchAttributes === undefined ? {} : { searchAttributes: closed.searchAttributes }),
    ...(closed.memo === undefined ? {} : { memo: closed.memo }),
    ...(closed.runTimeoutMs === undefined ? {} : { runTimeoutMs: closed.runTimeoutMs }),
    ...(closed.executionTimeoutMs === undefined ? {} : { executionTimeoutMs: closed.executionTimeoutMs }),
    ...(closed.executionExpiresAt === undefined ? {} : { executionExpiresAt: closed.executionExpiresAt }),
    ...(closed.headers === undefined ? {} : { headers: closed.headers }),
    ...(closed.staticSummary === undefined ? {} : { staticSummary: closed.staticSummary }),
    ...(closed.staticDetails === undefined ? {} : { staticDetails: closed.staticDetails }),
  }
  step.state = initialState(next, step.now)
  step.sendWorkflow(closed.taskQueue, closed.workflowId, { type: "Start", ...next })
}
