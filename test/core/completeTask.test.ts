/**
 * `completeTask` and `failTask`: what workflow code did in one activation in,
 * the next state, journal entries and commands out.
 */
import { describe, expect, it } from "vitest"
import type { FailureInfo } from "../../src/core/failure.ts"
import type { WorkflowCommand } from "../../src/core/journal.ts"
import type { ActivityOptionsResolved, ClosedStatus, WorkflowMessage } from "../../src/core/messages.ts"
import { type Command, completeActivation, completeTask, failTask, recordOfStart, reduce, requestSignalWithStart, requestStart, type ReuseRejected, taskRetryDelay } from "../../src/core/reduce.ts"
import type { ExecutionState } from "../../src/core/state.ts"
import { attributeTerm, indexChanged, indexEntries } from "../../src/core/visibility.ts"
import {
  activity, cancelTimer, child, closed, earlierJob, expectUnchanged, options, PARENT, running, setTimer, T0, T1, toParent,
} from "./reduceFixtures.ts"

const schedule = (seq: number, opts: ActivityOptionsResolved): WorkflowCommand =>
  ({ type: "ScheduleActivity", seq, activityType: "charge", args: ["1"], options: opts })
const sendActivity = (seq: number, extra: { deadline?: number; heartbeatTimeoutMs?: number; startToCloseMs?: number; scheduleToCloseMs?: number }): Command => ({
  type: "SendActivity",
  taskQueue: "acts",
  key: "wf",
  task: { workflowId: "wf", runId: "r1", workflowType: "order", workflowTaskQueue: "q", seq, attempt: 1, activityType: "charge", args: ["1"], scheduledAt: T1, attemptScheduledAt: T1, ...extra },
  fairnessKey: "order",
})

describe("completeTask: journal", () => {
  it("journals the pending jobs with the task number, then the command entries", () => {
    const state = running({ tasks: 2, journalLength: 5, pendingJobs: [earlierJob, { type: "TimerFired", at: T0 + 2, seq: 1 }] })
    const t = completeTask(state, [{ type: "StartTimer", seq: 2, durationMs: 500 }, schedule(3, options())], T1)
    expect(t.journal).toStrictEqual([
      { ...earlierJob, task: 3 },
      { type: "TimerFired", at: T0 + 2, seq: 1, task: 3 },
      { type: "TimerStarted", at: T1, seq: 2, durationMs: 500 },
      { type: "ActivityScheduled", at: T1, seq: 3, activityType: "charge", args: ["1"] },
    ])
    expect(t.state).toMatchObject({ tasks: 3, journalLength: 9, pendingJobs: [] })
    expect(t.activate).toBe(false)
    expect(t.closed).toBe(false)
  })

  it("journals the jobs even when the code made no command", () => {
    const t = completeTask(running({ pendingJobs: [earlierJob] }), [], T1)
    expect(t.journal).toStrictEqual([{ ...earlierJob, task: 2 }])
    expect(t.commands).toStrictEqual([])
    expect(t.state).toMatchObject({ tasks: 2, journalLength: 2, pendingJobs: [] })
  })
})

describe("completeTask: commands", () => {
  it.each<[string, Partial<ActivityOptionsResolved>, number | undefined]>([
    ["startToClose only", { startToCloseMs: 10_000 }, T1 + 10_000],
    ["scheduleToClose nearer", { startToCloseMs: 10_000, scheduleToCloseMs: 4000 }, T1 + 4000],
    ["startToClose nearer", { startToCloseMs: 3000, scheduleToCloseMs: 4000 }, T1 + 3000],
    ["scheduleToClose only", { scheduleToCloseMs: 60_000 }, T1 + 60_000],
    ["no timeout", {}, undefined],
  ])("ScheduleActivity (%s) → SendActivity and an activityTimeout timer at min(startToClose, scheduleToClose)", (_name, patch, deadline) => {
    const opts = options(patch)
    const t = completeTask(running(), [schedule(1, opts)], T1)
    expect(t.commands).toStrictEqual(deadline === undefined
      ? [sendActivity(1, {})]
      : [sendActivity(1, { deadline, ...patch }), setTimer("timeout:1", deadline, { kind: "activityTimeout", seq: 1, attempt: 1 })])
    expect(t.state?.activities).toStrictEqual({ 1: activity({ options: opts, scheduledAt: T1 }) })
  })

  it("passes the heartbeat timeout to the task and arms the heartbeat timer", () => {
    const t = completeTask(running(), [schedule(2, options({ heartbeatTimeoutMs: 2000 }))], T1)
    expect(t.commands).toStrictEqual([
      sendActivity(2, { heartbeatTimeoutMs: 2000 }),
      setTimer("heartbeat:2", T1 + 2000, { kind: "activityHeartbeat", seq: 2, attempt: 1 }),
    ])
  })

  it("a heartbeat re-arms the heartbeat timer and keeps its details for the next attempt; a missed one times the attempt out", () => {
    const scheduled = completeTask(running(), [schedule(2, options({ heartbeatTimeoutMs: 2000 }))], T1).state
    const beat = reduce(scheduled, { type: "ActivityHeartbeat", runId: "r1", seq: 2, attempt: 1, details: '"half"' }, T1 + 1500)
    expect(beat.commands).toStrictEqual([setTimer("heartbeat:2", T1 + 3500, { kind: "activityHeartbeat", seq: 2, attempt: 1 })])
    expect(beat.state?.activities[2]?.heartbeatDetails).toBe('"half"')
    const missed = reduce(beat.state, { type: "TimerFired", runId: "r1", timer: { kind: "activityHeartbeat", seq: 2, attempt: 1 } }, T1 + 3500)
    expect(missed.journal).toMatchObject([{ type: "ActivityRetrying", seq: 2, attempt: 2, failure: { kind: "timeout", timeoutType: "HEARTBEAT" } }])
    // A heartbeat from a stale attempt changes nothing.
    expectUnchanged(reduce(missed.state, { type: "ActivityHeartbeat", runId: "r1", seq: 2, attempt: 1, details: undefined }, T1 + 3600), missed.state)
  })

  it("a failure carries the attempt's last heartbeat details to its retry, whether or not its heartbeat was read first", () => {
    const scheduled = completeTask(running(), [schedule(2, options())], T1).state
    const failure: FailureInfo = { kind: "application", message: "down", type: "Unreachable" }
    const failed = reduce(scheduled, { type: "ActivityFailed", runId: "r1", seq: 2, attempt: 1, failure, heartbeatDetails: '"half"' }, T1 + 100)
    expect(failed.journal).toMatchObject([{ type: "ActivityRetrying", seq: 2, attempt: 2 }])
    expect(failed.state?.activities[2]?.heartbeatDetails).toBe('"half"')
    // The heartbeat read after the failure is stale: it changes nothing (before, it was all the retry had).
    expectUnchanged(reduce(failed.state, { type: "ActivityHeartbeat", runId: "r1", seq: 2, attempt: 1, details: '"half"' }, T1 + 101), failed.state)
    const retried = reduce(failed.state, { type: "TimerFired", runId: "r1", timer: { kind: "activityRetry", seq: 2, attempt: 2 } }, T1 + 10_000)
    const sent = retried.commands.find((c) => c.type === "SendActivity")
    expect(sent?.type === "SendActivity" ? sent.task.heartbeatDetails : "no task").toBe('"half"')
    // A failure without details keeps what an earlier heartbeat recorded.
    const beat = reduce(scheduled, { type: "ActivityHeartbeat", runId: "r1", seq: 2, attempt: 1, details: '"early"' }, T1 + 50)
    const plain = reduce(beat.state, { type: "ActivityFailed", runId: "r1", seq: 2, attempt: 1, failure }, T1 + 100)
    expect(plain.state?.activities[2]?.heartbeatDetails).toBe('"early"')
  })

  it("StartTimer → pending timer and a sleep timer at now + duration", () => {
    const t = completeTask(running({ timers: [1] }), [{ type: "StartTimer", seq: 2, durationMs: 30_000 }], T1)
    expect(t.state?.timers).toStrictEqual([1, 2])
    expect(t.commands).toStrictEqual([setTimer("sleep:2", T1 + 30_000, { kind: "sleep", seq: 2 })])
  })

  it("CancelTimer → timer dropped and its store timer cancelled; when it fires anyway it is ignored", () => {
    const t = completeTask(running({ timers: [1, 2] }), [{ type: "CancelTimer", seq: 2 }], T1)
    expect(t.state?.timers).toStrictEqual([1])
    expect(t.journal).toStrictEqual([{ type: "TimerCancelled", at: T1, seq: 2 }])
    expect(t.commands).toStrictEqual([cancelTimer("sleep:2")])
    expectUnchanged(reduce(t.state, { type: "TimerFired", runId: "r1", timer: { kind: "sleep", seq: 2 } }, T1 + 1), t.state)
  })

  it("RequestCancelActivity of a running attempt → kept, marked cancelRequested, its timers still armed", () => {
    const t = completeTask(running({ activities: { 1: activity(), 2: activity() } }), [{ type: "RequestCancelActivity", seq: 1 }], T1)
    expect(t.state?.activities).toStrictEqual({ 1: activity({ cancelRequested: true }), 2: activity() })
    expect(t.journal).toContainEqual({ type: "ActivityCancelRequested", at: T1, seq: 1 })
    expect(t.commands).toStrictEqual([])
  })

  it("RequestCancelActivity during a retry backoff → dropped and its retry timer cancelled (TRY_CANCEL, ABANDON)", () => {
    for (const cancellationType of [undefined, "ABANDON"] as const) {
      const waiting = activity({ dispatched: false, attempt: 2, ...(cancellationType === undefined ? {} : { options: options({ startToCloseMs: 10_000, cancellationType }) }) })
      const t = completeTask(running({ activities: { 1: waiting } }), [{ type: "RequestCancelActivity", seq: 1 }], T1)
      expect(t.state?.activities).toStrictEqual({})
      expect(t.commands).toStrictEqual([cancelTimer("retry:1")])
    }
  })

  it("RequestCancelActivity during a retry backoff, WAIT_CANCELLATION_COMPLETED → its retry timer moved to now, which delivers the CancelledFailure", () => {
    const waiting = activity({ dispatched: false, attempt: 2, options: options({ startToCloseMs: 10_000, cancellationType: "WAIT_CANCELLATION_COMPLETED" }) })
    const t = completeTask(running({ activities: { 1: waiting } }), [{ type: "RequestCancelActivity", seq: 1 }], T1)
    expect(t.state?.activities).toStrictEqual({ 1: { ...waiting, cancelRequested: true } })
    expect(t.commands).toStrictEqual([setTimer("retry:1", T1, { kind: "activityRetry", seq: 1, attempt: 2 })])
    const fired = reduce(t.state, { type: "TimerFired", runId: "r1", timer: { kind: "activityRetry", seq: 1, attempt: 2 } }, T1 + 1)
    expect(fired.state?.activities).toStrictEqual({})
    expect(fired.state?.pendingJobs).toStrictEqual([{
      type: "ActivityFailed",
      at: T1 + 1,
      seq: 1,
      failure: { kind: "activity", message: "Activity task cancelled", activityType: "charge", cause: { kind: "cancelled", message: "Activity cancelled" } },
    }])
    expect(fired.commands).toStrictEqual([])
  })

  it.each([
    ["TRY_CANCEL", undefined, false],
    ["ABANDON", "ABANDON", false],
    ["WAIT_CANCELLATION_COMPLETED", "WAIT_CANCELLATION_COMPLETED", true],
  ] as const)("after RequestCancelActivity (%s), the attempt's outcome ends the call — delivered to the code: %s", (_name, cancellationType, delivered) => {
    const opts = options({ startToCloseMs: 10_000, ...(cancellationType === undefined ? {} : { cancellationType }) })
    const cancelled = running({ activities: { 1: activity({ options: opts, cancelRequested: true }) } })
    const completed = reduce(cancelled, { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 1, result: '"done"' }, T1)
    expect(completed.state?.activities).toStrictEqual({})
    expect(completed.commands).toStrictEqual([cancelTimer("timeout:1")])
    expect(completed.state?.pendingJobs).toStrictEqual(delivered ? [{ type: "ActivityCompleted", at: T1, seq: 1, result: '"done"' }] : [])
    // A retryable failure is not retried: the call was cancelled.
    const failure: FailureInfo = { kind: "application", message: "boom" }
    const failed = reduce(cancelled, { type: "ActivityFailed", runId: "r1", seq: 1, attempt: 1, failure }, T1)
    expect(failed.state?.activities).toStrictEqual({})
    expect(failed.journal).toStrictEqual([])
    expect(failed.state?.pendingJobs).toStrictEqual(delivered ? [{ type: "ActivityFailed", at: T1, seq: 1, failure: { kind: "activity", message: "Activity task failed", activityType: "charge", cause: failure } }] : [])
    // Its timeout too ends it, with no retry.
    const timedOut = reduce(cancelled, { type: "TimerFired", runId: "r1", timer: { kind: "activityTimeout", seq: 1, attempt: 1 } }, T1)
    expect(timedOut.state?.activities).toStrictEqual({})
    expect(timedOut.state?.pendingJobs.length).toBe(delivered ? 1 : 0)
  })

  it("a second RequestCancelActivity changes nothing", () => {
    const t = completeTask(running({ activities: { 1: activity({ cancelRequested: true }) } }), [{ type: "RequestCancelActivity", seq: 1 }], T1)
    expect(t.state?.activities).toStrictEqual({ 1: activity({ cancelRequested: true }) })
    expect(t.commands).toStrictEqual([])
  })

  it("StartChild → Start message to the child's key with the parent ref and a derived run id", () => {
    const t = completeTask(running(), [{ type: "StartChild", seq: 3, workflowType: "ship", workflowId: "kid", taskQueue: "cq", args: ['"box"'] }], T1)
    expect(t.state?.children).toStrictEqual({ 3: child() })
    expect(t.journal).toStrictEqual([{ type: "ChildStartInitiated", at: T1, seq: 3, workflowType: "ship", workflowId: "kid", args: ['"box"'] }])
    expect(t.commands).toStrictEqual([{
      type: "SendWorkflow",
      taskQueue: "cq",
      key: "kid",
      message: {
        type: "Start",
        workflowId: "kid",
        runId: "r1.3",
        workflowType: "ship",
        taskQueue: "cq",
        args: ['"box"'],
        parent: { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 },
      },
    }])
    // The child's own Start then reports back to this run, and its ChildStarted is accepted.
    const message = (t.commands[0] as Extract<Command, { type: "SendWorkflow" }>).message
    const childStart = reduce(undefined, message, T1 + 1)
    const back = (childStart.commands[0] as Extract<Command, { type: "SendWorkflow" }>).message
    expect(reduce(t.state, back, T1 + 2).state?.pendingJobs).toStrictEqual([{ type: "ChildStarted", at: T1 + 2, seq: 3, runId: "r1.3" }])
  })

  it("RequestCancelChild → CancelRequested from this parent; the child stays listed (and is terminated with the parent) until it closes", () => {
    const t = completeTask(running({ children: { 3: child() } }), [{ type: "RequestCancelChild", seq: 3 }], T1)
    expect(t.state?.children).toStrictEqual({ 3: child({ cancelRequested: true }) })
    const fromParent = { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 }
    expect(t.commands).toStrictEqual([
      { type: "SendWorkflow", taskQueue: "cq", key: "kid", message: { type: "CancelRequested", reason: "parent cancelled the child", fromParent } },
    ])
    // Asked once: a second request sends nothing.
    expect(completeTask(t.state!, [{ type: "RequestCancelChild", seq: 3 }], T1).commands).toStrictEqual([])
    // Closing the parent still terminates it.
    const closed = completeTask(t.state!, [{ type: "CompleteWorkflow", result: undefined }], T1)
    expect(closed.commands).toContainEqual({ type: "SendWorkflow", taskQueue: "cq", key: "kid", message: { type: "Terminate", reason: "parent workflow closed", fromParent } })
  })

  it("a parent's message reaches the child's current run, not an unrelated execution with the same id", () => {
    const fromParent = { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 }
    const childRun = running({ workflowId: "kid", runId: "kid-run-2", parent: fromParent })
    expect(reduce(childRun, { type: "Terminate", reason: "parent workflow closed", fromParent }, T1).state?.status).toBe("TERMINATED")
    const stranger = running({ workflowId: "kid", runId: "other", parent: { ...fromParent, runId: "someone-else" } })
    expectUnchanged(reduce(stranger, { type: "Terminate", reason: "parent workflow closed", fromParent }, T1), stranger)
  })
})

describe("completeTask: closing commands", () => {
  const failure: FailureInfo = { kind: "application", message: "no stock", type: "OutOfStock" }
  const cancelled: FailureInfo = { kind: "cancelled", message: "Workflow cancelled" }
  it.each<[string, WorkflowCommand, ClosedStatus, { result?: string; failure?: FailureInfo }]>([
    ["CompleteWorkflow", { type: "CompleteWorkflow", result: '"done"' }, "COMPLETED", { result: '"done"' }],
    ["CompleteWorkflow with no result", { type: "CompleteWorkflow", result: undefined }, "COMPLETED", {}],
    ["FailWorkflow", { type: "FailWorkflow", failure }, "FAILED", { failure }],
    ["CancelWorkflow", { type: "CancelWorkflow" }, "CANCELLED", { failure: cancelled }],
  ])("%s → %s, parent notified, closed", (_name, command, status, outcome) => {
    const state = running({ parent: PARENT, pendingJobs: [earlierJob] })
    const t = completeTask(state, [command], T1)
    expect(t.state).toStrictEqual({ ...state, tasks: 2, journalLength: 3, pendingJobs: [], status, closeTime: T1, ...outcome })
    expect(t.journal).toHaveLength(2)
    expect(t.journal[1]?.type).toBe({ COMPLETED: "WorkflowCompleted", FAILED: "WorkflowFailed", CANCELLED: "WorkflowCancelled" }[status as string])
    expect(t.commands).toStrictEqual([toParent({ type: "ChildClosed", runId: "pr", seq: 4, status, ...outcome })])
    expect(t.closed).toBe(true)
    expect(t.activate).toBe(false)
  })

  it("ignores commands after the close in the same batch", () => {
    const t = completeTask(running(), [{ type: "CompleteWorkflow", result: "1" }, { type: "StartTimer", seq: 9, durationMs: 1 }, schedule(10, options())], T1)
    expect(t.journal.map((entry) => entry.type)).toStrictEqual(["WorkflowCompleted"])
    expect(t.commands).toStrictEqual([])
    expect(t.state).toMatchObject({ status: "COMPLETED", timers: [], activities: {}, journalLength: 2 })
  })

  it("cancels what the same batch started before closing", () => {
    const t = completeTask(running(), [schedule(1, options({ startToCloseMs: 1000 })), { type: "StartTimer", seq: 2, durationMs: 5 }, { type: "CancelWorkflow" }], T1)
    expect(t.commands).toStrictEqual([
      sendActivity(1, { deadline: T1 + 1000, startToCloseMs: 1000 }),
      setTimer("timeout:1", T1 + 1000, { kind: "activityTimeout", seq: 1, attempt: 1 }),
      setTimer("sleep:2", T1 + 5, { kind: "sleep", seq: 2 }),
      cancelTimer("sleep:2"),
      cancelTimer("timeout:1"),
    ])
    expect(t.state).toMatchObject({ status: "CANCELLED", activities: {}, timers: [] })
  })

  it("terminates open children when closing", () => {
    const t = completeTask(running({ children: { 3: child() } }), [{ type: "CompleteWorkflow", result: undefined }], T1)
    expect(t.commands).toStrictEqual([
      { type: "SendWorkflow", taskQueue: "cq", key: "kid", message: { type: "Terminate", reason: "parent workflow closed", fromParent: { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 } } },
    ])
  })
})

describe("failTask and task retries", () => {
  const failing = (attempt: number, patch: Partial<ExecutionState> = {}) =>
    running({ pendingJobs: [earlierJob], taskFailure: { type: "Error", message: "bug", attempt, at: T0 }, ...patch })
  const retryTimer = (attempt: number): WorkflowMessage => ({ type: "TimerFired", runId: "r1", timer: { kind: "taskRetry", attempt } })

  it("records the failure, keeps the jobs, and arms a taskRetry timer", () => {
    const state = running({ pendingJobs: [earlierJob] })
    expect(failTask(state, { type: "DeterminismViolationError", message: "replay diverged" }, T1)).toStrictEqual({
      state: { ...state, taskFailure: { type: "DeterminismViolationError", message: "replay diverged", attempt: 1, at: T1 } },
      journal: [],
      commands: [setTimer("task-retry", T1 + 1000, { kind: "taskRetry", attempt: 1 })],
      activate: false,
      closed: false,
    })
  })

  it.each<[number, number]>([[1, 1000], [2, 2000], [3, 4000], [4, 8000], [5, 10_000], [9, 10_000]])("attempt %i retries after %i ms", (attempt, delay) => {
    expect(taskRetryDelay(attempt)).toBe(delay)
    const state = attempt === 1 ? running({ pendingJobs: [earlierJob] }) : failing(attempt - 1)
    const t = failTask(state, { type: "Error", message: "again" }, T1)
    expect(t.state?.taskFailure).toStrictEqual({ type: "Error", message: "again", attempt, at: T1 })
    expect(t.commands).toStrictEqual([setTimer("task-retry", T1 + delay, { kind: "taskRetry", attempt })])
  })

  it("queues new jobs without activation while the task is failing", () => {
    const t = reduce(failing(2), { type: "Signal", signalId: "s9", name: "go", args: [] }, T1)
    expect(t.state?.pendingJobs).toStrictEqual([earlierJob, { type: "SignalReceived", at: T1, name: "go", args: [] }])
    expect(t.activate).toBe(false)
    expect(t.commands).toStrictEqual([])
  })

  it("the taskRetry timer of the current attempt activates, changing nothing else", () => {
    const state = failing(2)
    const t = reduce(state, retryTimer(2), T1)
    expect(t).toStrictEqual({ state, journal: [], commands: [], activate: true, closed: false })
  })

  it.each<[string, ExecutionState]>([
    ["a stale attempt", failing(3)],
    ["a run that is no longer failing", running({ pendingJobs: [earlierJob] })],
  ])("ignores a taskRetry timer for %s", (_name, state) => {
    expectUnchanged(reduce(state, retryTimer(2), T1), state)
  })

  it("completeTask clears the failure and cancels its retry timer", () => {
    const t = completeTask(failing(2), [{ type: "StartTimer", seq: 1, durationMs: 10 }], T1)
    expect(t.state).not.toHaveProperty("taskFailure")
    expect(t.state).toMatchObject({ tasks: 2, pendingJobs: [] })
    expect(t.journal[0]).toStrictEqual({ ...earlierJob, task: 2 })
    expect(t.commands).toStrictEqual([cancelTimer("task-retry"), setTimer("sleep:1", T1 + 10, { kind: "sleep", seq: 1 })])
  })

  it("closing cancels the pending task retry", () => {
    const t = completeTask(failing(1), [{ type: "FailWorkflow", failure: { kind: "application", message: "x" } }], T1)
    expect(t.state).not.toHaveProperty("taskFailure")
    expect(t.commands).toStrictEqual([cancelTimer("task-retry")])
  })
})

describe("a closed run", () => {
  it.each<[string, ExecutionState]>([
    ["completed", closed({ pendingJobs: [earlierJob] })],
    ["terminated", running({ status: "TERMINATED", closeTime: T1 })],
  ])("ignores completeTask and failTask (%s)", (_name, state) => {
    expectUnchanged(completeTask(state, [{ type: "StartTimer", seq: 1, durationMs: 1 }], T1), state)
    expectUnchanged(failTask(state, { type: "Error", message: "x" }, T1), state)
  })

  it("is replaced only by a Start of a new run, not by activity messages", () => {
    const state = closed({ activities: { 1: activity() } })
    expectUnchanged(reduce(state, { type: "ActivityFailed", runId: "r1", seq: 1, attempt: 1, failure: { kind: "application", message: "m" } }, T1), state)
  })
})

describe("completeActivation: the reduce that asked for the activation, then what the code did", () => {
  it("joins the two transitions into one commit: journal and commands in order", () => {
    const before = running({ tasks: 1, journalLength: 2, timers: [1] })
    const first = reduce(before, { type: "TimerFired", runId: "r1", timer: { kind: "sleep", seq: 1 } }, T1)
    expect(first.activate).toBe(true)
    const t = completeActivation(first, { ok: true, commands: [{ type: "CompleteWorkflow", result: '"done"' }] }, T1)
    expect(t.activate).toBe(false)
    expect(t.closed).toBe(true)
    expect(t.state).toMatchObject({ status: "COMPLETED", result: '"done"' })
    expect(t.journal.map((entry) => entry.type)).toEqual(["TimerFired", "WorkflowCompleted"])
    expect(t.journalRunId).toBe("r1")
  })

  it("on a failed activation keeps the jobs and schedules a task retry", () => {
    const before = running({ tasks: 1, journalLength: 2 })
    const first = reduce(before, { type: "Signal", signalId: "s", name: "go", args: [] }, T1)
    const t = completeActivation(first, { ok: false, failure: { type: "TypeError", message: "x is not a function" } }, T1)
    expect(t.state?.pendingJobs).toHaveLength(1)
    expect(t.state?.taskFailure).toMatchObject({ type: "TypeError", attempt: 1 })
    expect(t.commands).toContainEqual(expect.objectContaining({ type: "SetTimer", fireAt: T1 + taskRetryDelay(1) }))
    expect(t.journal).toEqual([])
  })
})

describe("requestStart: a client asks for a new run", () => {
  const run = { workflowId: "wf", runId: "r2", workflowType: "order", taskQueue: "q", args: [] }

  it("writes the initial state and sends Start when no run is open", () => {
    for (const previous of [undefined, closed()]) {
      const t = requestStart(previous, run, T1, { version: 7, token: "tk" })
      if (!("journal" in t)) throw new Error("expected a transition")
      expect(t.state).toMatchObject({ runId: "r2", status: "RUNNING", started: false, startTime: T1 })
      const start = { type: "Start" as const, ...run, record: { version: 7, token: "tk", startTime: T1 } }
      expect(t.commands).toEqual([{ type: "SendWorkflow", taskQueue: "q", key: "wf", message: start }])
      // A worker with nothing cached can take the record from the Start: exactly what was written.
      expect(recordOfStart(start)).toEqual({ version: 7, token: "tk", state: t.state })
    }
  })

  it("only a client's Start describes a record (a child's Start writes none before it is read)", () => {
    expect(recordOfStart({ type: "Start", ...run })).toBeUndefined()
    expect(recordOfStart({ type: "Start", ...run, parent: PARENT, record: { version: 1, token: "tk", startTime: T1 } })).toBeUndefined()
    // An older client's Start names no token: the worker loads the record rather than guess it.
    expect(recordOfStart({ type: "Start", ...run, record: { version: 1, startTime: T1 } })).toBeUndefined()
    expect(recordOfStart({ type: "Signal", signalId: "s", name: "n", args: [] })).toBeUndefined()
  })

  it("refuses while a run is open", () => {
    const open = running()
    expect(requestStart(open, run, T1, { version: 2, token: "tk" })).toEqual({ alreadyRunning: open })
  })
})

describe("requestSignalWithStart: signal the open run, or start one with the signal behind its Start", () => {
  const run = { workflowId: "wf", runId: "r2", workflowType: "order", taskQueue: "q", args: [] }
  const signal = { signalId: "sig-1", name: "approve", args: ['"ada"'] }
  const signalled = <A extends object>(outcome: A | ReuseRejected): A => {
    if ("reuseRejected" in outcome) throw new Error("the reuse policy refused the start")
    return outcome
  }

  it("no open run: the new run's state, then Start and the signal (fenced to the new run) on its stream, in that order", () => {
    for (const previous of [undefined, closed()]) {
      const { transition, signaledRunId } = signalled(requestSignalWithStart(previous, run, signal, T1, { version: 4, token: "t4" }))
      expect(signaledRunId).toBe("r2")
      expect(transition.state).toMatchObject({ runId: "r2", status: "RUNNING", started: false })
      expect(transition.commands).toEqual([
        { type: "SendWorkflow", taskQueue: "q", key: "wf", message: { type: "Start", ...run, record: { version: 4, token: "t4", startTime: T1 } } },
        { type: "SendWorkflow", taskQueue: "q", key: "wf", message: { type: "Signal", runId: "r2", ...signal } },
      ])
    }
  })

  it("an open run: the signal only, for that run, and the state untouched (no version bump)", () => {
    const open = running()
    const { transition, signaledRunId } = signalled(requestSignalWithStart(open, run, signal, T1, { version: 9, token: "t9" }))
    expect(signaledRunId).toBe(open.runId)
    expect(transition.state).toBe(open)
    expect(transition.journal).toEqual([])
    expect(transition.commands).toEqual([{ type: "SendWorkflow", taskQueue: open.taskQueue, key: open.workflowId, message: { type: "Signal", runId: open.runId, ...signal } }])
  })
})

describe("completeTask: search attributes and memo", () => {
  const stage = (value: string) => ({ type: "KEYWORD" as const, value })
  const withAttributes = running({ searchAttributes: { Stage: stage("new"), Region: stage("eu") }, memo: { owner: '"ops"', note: '"x"' } })

  it("UpsertSearchAttributes merges into a new searchAttributes object (null removes), journals it, and changes the index", () => {
    const command: WorkflowCommand = { type: "UpsertSearchAttributes", searchAttributes: { Stage: stage("paid"), Region: null, Amount: { type: "INT", value: 3 } } }
    const t = completeTask(withAttributes, [command], T1)
    expect(t.state?.searchAttributes).toStrictEqual({ Stage: stage("paid"), Amount: { type: "INT", value: 3 } })
    expect(t.journal).toStrictEqual([{ type: "SearchAttributesUpserted", at: T1, searchAttributes: command.searchAttributes }])
    expect(t.commands).toStrictEqual([])
    expect(indexChanged(withAttributes, t.state)).toBe(true)
    const terms = indexEntries(t.state).map((entry) => entry.term)
    expect(terms).toContain(attributeTerm("Stage", "paid"))
    expect(terms).not.toContain(attributeTerm("Stage", "new"))
    expect(terms).not.toContain(attributeTerm("Region", "eu"))
  })

  it("upserts in one task apply in order; the first one gives a run without attributes its own", () => {
    const t = completeTask(running(), [
      { type: "UpsertSearchAttributes", searchAttributes: { Stage: stage("new") } },
      { type: "UpsertSearchAttributes", searchAttributes: { Stage: stage("paid") } },
      { type: "UpsertSearchAttributes", searchAttributes: { Gone: null } },
    ], T1)
    expect(t.state?.searchAttributes).toStrictEqual({ Stage: stage("paid") })
    expect(t.journal.map((entry) => entry.type)).toStrictEqual(["SearchAttributesUpserted", "SearchAttributesUpserted", "SearchAttributesUpserted"])
  })

  it("UpsertMemo merges top-level keys (null removes) and leaves the index alone", () => {
    const t = completeTask(withAttributes, [{ type: "UpsertMemo", memo: { note: null, step: "2" } }], T1)
    expect(t.state?.memo).toStrictEqual({ owner: '"ops"', step: "2" })
    expect(t.state?.searchAttributes).toBe(withAttributes.searchAttributes)
    expect(t.journal).toStrictEqual([{ type: "MemoUpserted", at: T1, memo: { note: null, step: "2" } }])
    expect(indexChanged(withAttributes, t.state)).toBe(false)
  })

  it("StartChild carries the child's search attributes and memo to its Start; the child's WorkflowStarted job shows them", () => {
    const t = completeTask(running(), [{
      type: "StartChild", seq: 3, workflowType: "ship", workflowId: "kid", taskQueue: "cq", args: [], searchAttributes: { Stage: stage("child") }, memo: { from: '"parent"' },
    }], T1)
    const start = t.commands[0]
    expect(start).toMatchObject({ type: "SendWorkflow", key: "kid", message: { type: "Start", searchAttributes: { Stage: stage("child") }, memo: { from: '"parent"' } } })
    const started = reduce(undefined, (start as Extract<Command, { type: "SendWorkflow" }>).message, T1 + 1)
    expect(started.state?.searchAttributes).toStrictEqual({ Stage: stage("child") })
    expect(started.state?.pendingJobs[0]).toStrictEqual({
      type: "WorkflowStarted", at: T1 + 1, args: [], parent: { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 }, searchAttributes: { Stage: stage("child") }, memo: { from: '"parent"' },
    })
  })

  it("ContinueAsNew hands the next run the upserted attributes and memo, unless the command replaces them", () => {
    const upsert: WorkflowCommand = { type: "UpsertSearchAttributes", searchAttributes: { Stage: stage("rolled") } }
    const next = { type: "ContinueAsNew" as const, runId: "r2", workflowType: "order", taskQueue: "q", args: [] }
    const inherited = completeTask(withAttributes, [upsert, next], T1)
    expect(inherited.state).toMatchObject({ runId: "r2", searchAttributes: { Stage: stage("rolled"), Region: stage("eu") }, memo: withAttributes.memo })
    const replaced = completeTask(withAttributes, [upsert, { ...next, searchAttributes: { Stage: stage("fresh") }, memo: {} }], T1)
    expect(replaced.state).toMatchObject({ runId: "r2", searchAttributes: { Stage: stage("fresh") }, memo: {} })
    expect(replaced.commands.find((c) => c.type === "SendWorkflow")).toMatchObject({ message: { type: "Start", runId: "r2", searchAttributes: { Stage: stage("fresh") }, memo: {} } })
  })
})
