/**
 * The second half of an activating step: what workflow code did with its
 * jobs. `completeTask` journals the jobs (as one task) and the commands and
 * turns the commands into messages and timers; `failTask` keeps the jobs and
 * schedules a retry of the task. Pure.
 */
import { applyUpdates, commandEntry, isJournaled, type WorkflowCommand } from "./journal.ts"
import { type ExecutionState, initialState, isRunning, type UpdateState } from "./state.ts"
import { close, dispatchActivity, parentRef, removeActivity, Step, taskRetryDelay, type Transition, unchanged } from "./step.ts"

/** How many completed updates a run keeps for waiting clients and to dedupe update ids (state stays bounded). */
export const UPDATE_OUTCOME_WINDOW = 64

/**
 * Workflow code ran on `state.pendingJobs` and made `commands`: journal the
 * jobs (as one task) and the commands, and turn the commands into messages
 * and timers. A rejected update leaves no history: neither its job nor the
 * rejection is journaled (replay never sees it), only its outcome is kept
 * in the state for the client.
 */
export const completeTask = (state: ExecutionState, commands: ReadonlyArray<WorkflowCommand>, now: number): Transition => {
  if (!isRunning(state)) return unchanged(state)
  const step = new Step(state, now)
  const task = state.tasks + 1
  // Made only when the task rejects an update (most tasks reject none).
  let rejected: Set<string> | undefined
  for (const command of commands) if (command.type === "RejectUpdate") (rejected ??= new Set()).add(command.updateId)
  for (const job of state.pendingJobs) {
    if (job.type !== "UpdateRequested" || rejected?.has(job.updateId) !== true) step.record({ ...job, task })
  }
  if (state.taskFailure !== undefined) {
    step.cancelTimer({ kind: "taskRetry", attempt: state.taskFailure.attempt })
    const { taskFailure: _, ...rest } = step.state
    step.state = rest
  }
  const next = step.owned()
  next.pendingJobs = []
  next.tasks = task
  for (const command of commands) {
    if (isJournaled(command)) step.record(commandEntry(command, now))
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
        ...(command.headers === undefined ? {} : { headers: command.headers }),
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
      if (activity === undefined || activity.cancelRequested === true) return
      if (activity.dispatched && activity.options.local === undefined) {
        // The attempt runs on, its timers armed: its outcome (or timeout) ends the call, with no retry.
        // Its worker learns of the cancellation through heartbeats (not under ABANDON).
        step.update({ activities: { ...state.activities, [command.seq]: { ...activity, cancelRequested: true } } })
        return
      }
      // Nothing runs (a retry backoff, or a local attempt not started): the cancellation is final at once.
      if (activity.options.cancellationType === "WAIT_CANCELLATION_COMPLETED") {
        // The code still waits: a timer due now brings its CancelledFailure in the next step.
        const { localRunAt: _, ...rest } = activity
        step.update({ activities: { ...state.activities, [command.seq]: { ...rest, dispatched: false, cancelRequested: true } } })
        step.timer({ kind: "activityRetry", seq: command.seq, attempt: activity.attempt }, now)
        return
      }
      removeActivity(step, command.seq)
      step.cancelTimer({ kind: "activityRetry", seq: command.seq, attempt: activity.attempt })
      return
    }
    case "StartChild": {
      const runId = `${state.runId}.${command.seq}`
      step.update({
        children: {
          ...state.children,
          [command.seq]: {
            workflowId: command.workflowId,
            workflowType: command.workflowType,
            taskQueue: command.taskQueue,
            runId,
            ...(command.parentClosePolicy === undefined || command.parentClosePolicy === "TERMINATE" ? {} : { parentClosePolicy: command.parentClosePolicy }),
          },
        },
      })
      step.sendWorkflow(command.taskQueue, command.workflowId, {
        type: "Start",
        workflowId: command.workflowId,
        runId,
        workflowType: command.workflowType,
        taskQueue: command.taskQueue,
        args: command.args,
        parent: parentRef(state, command.seq),
        ...(command.searchAttributes === undefined ? {} : { searchAttributes: command.searchAttributes }),
        ...(command.memo === undefined ? {} : { memo: command.memo }),
        ...(command.runTimeoutMs === undefined ? {} : { runTimeoutMs: command.runTimeoutMs }),
        ...(command.executionTimeoutMs === undefined ? {} : { executionTimeoutMs: command.executionTimeoutMs }),
        ...(command.headers === undefined ? {} : { headers: command.headers }),
        ...(command.cronSchedule === undefined ? {} : { cronSchedule: command.cronSchedule }),
        ...(command.workflowIdReusePolicy === undefined ? {} : { workflowIdReusePolicy: command.workflowIdReusePolicy }),
        ...(command.staticSummary === undefined ? {} : { staticSummary: command.staticSummary }),
        ...(command.staticDetails === undefined ? {} : { staticDetails: command.staticDetails }),
      })
      return
    }
    case "RequestCancelChild": {
      const child = state.children[command.seq]
      if (child === undefined || child.cancelRequested === true) return
      // The child stays listed until it closes: if it catches the cancellation and runs on,
      // the parent's close still terminates it.
      step.update({ children: { ...state.children, [command.seq]: { ...child, cancelRequested: true } } })
      step.sendWorkflow(child.taskQueue, child.workflowId, {
        type: "CancelRequested",
        reason: "parent cancelled the child",
        fromParent: parentRef(state, command.seq),
        ...(command.acknowledge === true ? { acknowledge: true } : {}),
      })
      return
    }
    case "SignalExternal":
    case "CancelExternal": {
      step.update({ externalRequests: [...(state.externalRequests ?? []), command.seq] })
      const requester = { ...parentRef(state, command.seq), sentOn: state.taskQueue }
      const runId = command.runId === undefined ? {} : { runId: command.runId }
      step.sendWorkflow(state.taskQueue, command.workflowId, command.type === "SignalExternal"
        // The signal id is the request's own: a redelivered request is one signal.
        ? { type: "Signal", ...runId, signalId: `${state.runId}:${command.seq}`, name: command.name, args: command.args, ...(command.headers === undefined ? {} : { headers: command.headers }), requester }
        : { type: "CancelRequested", ...runId, reason: `cancelled by workflow ${state.workflowId}`, requester })
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
      // As in Temporal, the next run inherits the search attributes and the memo (as upserted) unless the command sets them.
      const searchAttributes = command.searchAttributes ?? state.searchAttributes
      const memo = command.memo ?? state.memo
      const runTimeoutMs = command.runTimeoutMs ?? state.runTimeoutMs
      const next = {
        workflowId: state.workflowId,
        runId: command.runId,
        workflowType: command.workflowType,
        taskQueue: command.taskQueue,
        args: command.args,
        ...(state.parent === undefined ? {} : { parent: state.parent }),
        ...(searchAttributes === undefined ? {} : { searchAttributes }),
        ...(memo === undefined ? {} : { memo }),
        // The execution's deadline spans runs; the run timeout applies to each run afresh.
        ...(runTimeoutMs === undefined ? {} : { runTimeoutMs }),
        ...(state.executionTimeoutMs === undefined ? {} : { executionTimeoutMs: state.executionTimeoutMs }),
        ...(state.executionExpiresAt === undefined ? {} : { executionExpiresAt: state.executionExpiresAt }),
        ...(state.cronSchedule === undefined ? {} : { cronSchedule: state.cronSchedule }),
        ...(command.headers === undefined ? {} : { headers: command.headers }),
      }
      step.state = initialState(next, now)
      step.sendWorkflow(command.taskQueue, state.workflowId, { type: "Start", ...next })
      return
    }
    case "Patch":
      return
    case "AcceptUpdate":
      setUpdate(step, command.updateId, { stage: "ACCEPTED" })
      return
    case "RejectUpdate":
      setUpdate(step, command.updateId, { stage: "COMPLETED", rejected: true, failure: command.failure })
      return
    case "CompleteUpdate":
      setUpdate(step, command.updateId, {
        stage: "COMPLETED",
        ...(command.result === undefined ? {} : { result: command.result }),
        ...(command.failure === undefined ? {} : { failure: command.failure }),
      })
      return
    case "UpsertSearchAttributes":
      // A new object: the commit sees the change (`indexChanged`) and rewrites the run's index entries.
      step.update({ searchAttributes: applyUpdates(state.searchAttributes, command.searchAttributes) })
      return
    case "UpsertMemo":
      step.update({ memo: applyUpdates(state.memo, command.memo) })
      return
  }
}

/** Move update `id` to its next stage; only the last `UPDATE_OUTCOME_WINDOW` completed ones are kept. */
const setUpdate = (step: Step, id: string, patch: Omit<UpdateState, "id" | "name">): void => {
  const updates = (step.state.updates ?? []).map((update) => (update.id === id ? { id, name: update.name, ...patch } : update))
  let excess = updates.filter((update) => update.stage === "COMPLETED").length - UPDATE_OUTCOME_WINDOW
  step.update({ updates: excess <= 0 ? updates : updates.filter((update) => update.stage !== "COMPLETED" || excess-- <= 0) })
}

/** What running workflow code on a run's pending jobs produced. */
export type ActivationOutcome =
  | { readonly ok: true; readonly commands: ReadonlyArray<WorkflowCommand> }
  | { readonly ok: false; readonly failure: { readonly type: string; readonly message: string } }

/**
 * The whole transition of an activating step: `first` (the `reduce` that
 * asked for the activation) followed by what the code did — `completeTask`
 * on success, `failTask` otherwise — as one transition, committed at once.
 */
export const completeActivation = (first: Transition, outcome: ActivationOutcome, now: number): Transition => {
  const state = first.state
  if (state === undefined) return first
  const second = outcome.ok ? completeTask(state, outcome.commands, now) : failTask(state, outcome.failure, now)
  const journalRunId = first.journalRunId ?? second.journalRunId
  const journal = first.journal.length === 0 ? second.journal : [...first.journal, ...second.journal]
  const commands = first.commands.length === 0 ? second.commands : [...first.commands, ...second.commands]
  const closed = first.closed || second.closed
  return journalRunId === undefined
    ? { state: second.state, journal, commands, activate: false, closed }
    : { state: second.state, journal, commands, activate: false, closed, journalRunId }
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
