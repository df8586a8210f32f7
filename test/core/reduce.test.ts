/**
 * `reduce`: one workflow-stream message in, the next state, journal entries
 * and commands out. Workflow-task completion is in `completeTask.test.ts`.
 */
import { describe, expect, it } from "vitest"
import type { FailureInfo } from "../../src/core/failure.ts"
import type { Job } from "../../src/core/journal.ts"
import type { WorkflowMessage } from "../../src/core/messages.ts"
import { type Command, reduce } from "../../src/core/reduce.ts"
import { type ExecutionState, initialState } from "../../src/core/state.ts"
import {
  activity, cancelTimer, child, closed, earlierJob, expectUnchanged, options, PARENT, RUN, running, setTimer,
  startMessage, T0, T1, toParent,
} from "./reduceFixtures.ts"

const boom: FailureInfo = { kind: "application", message: "boom", type: "Error" }

describe("Start", () => {
  it("starts a fresh run: WorkflowStarted queued, activation requested", () => {
    const t = reduce(undefined, startMessage(), T1)
    expect(t).toStrictEqual({
      state: { ...initialState(RUN, T1), started: true, pendingJobs: [{ type: "WorkflowStarted", at: T1, args: ['"a"'] }] },
      journal: [],
      commands: [],
      activate: true,
      closed: false,
    })
  })

  it("starts a child: records the parent and tells it the child started", () => {
    const t = reduce(undefined, startMessage({ parent: PARENT }), T1)
    expect(t.state?.parent).toStrictEqual(PARENT)
    expect(t.state?.pendingJobs).toStrictEqual([{ type: "WorkflowStarted", at: T1, args: ['"a"'], parent: PARENT }])
    expect(t.commands).toStrictEqual([toParent({ type: "ChildStarted", runId: "pr", seq: 4, childRunId: "r1" })])
    expect(t.activate).toBe(true)
  })

  it("delivers jobs queued before the start after WorkflowStarted (signal-with-start)", () => {
    const signalled = reduce(initialState(RUN, T0), { type: "Signal", signalId: "s1", name: "go", args: [] }, T0 + 1)
    expect(signalled.activate).toBe(false)
    expect(signalled.state?.pendingJobs).toHaveLength(1)
    const t = reduce(signalled.state, startMessage(), T1)
    expect(t.state?.pendingJobs).toStrictEqual([
      { type: "WorkflowStarted", at: T1, args: ['"a"'] },
      { type: "SignalReceived", at: T0 + 1, name: "go", args: [] },
    ])
    expect(t.state?.signalIds).toStrictEqual(["s1"])
    expect(t.state?.startTime).toBe(T0)
    expect(t.activate).toBe(true)
  })

  it.each<[string, ExecutionState, WorkflowMessage]>([
    ["duplicate Start of the started run", running(), startMessage()],
    ["duplicate child Start of the started run", running({ parent: PARENT }), startMessage({ parent: PARENT })],
    ["Start of the same run after it closed", closed(), startMessage()],
    ["client Start while another run is open", running(), startMessage({ runId: "r2" })],
  ])("%s → unchanged", (_name, state, message) => {
    expectUnchanged(reduce(state, message, T1), state)
  })

  it("rejects a child Start while another run is open: ChildStartFailed to the parent, state untouched", () => {
    const state = running()
    const t = reduce(state, startMessage({ runId: "pr.4", parent: PARENT }), T1)
    expect(t.state).toBe(state)
    expect(t).toStrictEqual({
      state,
      journal: [],
      commands: [toParent({
        type: "ChildStartFailed",
        runId: "pr",
        seq: 4,
        failure: { kind: "application", type: "WorkflowExecutionAlreadyStartedError", message: "Workflow execution already started: wf", nonRetryable: true },
      })],
      activate: false,
      closed: false,
    })
  })

  it("replaces a closed previous run with a fresh one", () => {
    const previous = closed({ tasks: 7, journalLength: 30, signalIds: ["s"], parent: PARENT })
    const t = reduce(previous, startMessage({ runId: "r2", args: ['"b"'] }), T1)
    expect(t.state).toStrictEqual({
      ...initialState({ ...RUN, runId: "r2", args: ['"b"'] }, T1),
      started: true,
      pendingJobs: [{ type: "WorkflowStarted", at: T1, args: ['"b"'] }],
    })
    expect(t.activate).toBe(true)
  })
})

describe("messages that become jobs", () => {
  const failed = (cause: FailureInfo): FailureInfo =>
    ({ kind: "child", message: "Child Workflow execution failed", workflowType: "ship", workflowId: "kid", cause })
  const withChild = running({ children: { 3: child() } })
  const cancelled: FailureInfo = { kind: "cancelled", message: "Workflow cancelled" }
  const terminated: FailureInfo = { kind: "terminated", message: "ops" }

  it.each<[string, ExecutionState, WorkflowMessage, Job, Partial<ExecutionState>, Array<Command>]>([
    ["Signal", running({ pendingJobs: [earlierJob] }), { type: "Signal", signalId: "s1", name: "go", args: ["1"] },
      { type: "SignalReceived", at: T1, name: "go", args: ["1"] }, { signalIds: ["s1"] }, []],
    ["Signal for this run", running({ signalIds: ["s0"] }), { type: "Signal", runId: "r1", signalId: "s1", name: "go", args: [] },
      { type: "SignalReceived", at: T1, name: "go", args: [] }, { signalIds: ["s0", "s1"] }, []],
    ["CancelRequested with a reason", running(), { type: "CancelRequested", reason: "bye" },
      { type: "CancelRequested", at: T1, reason: "bye" }, { cancelRequested: true }, []],
    ["CancelRequested without a reason", running(), { type: "CancelRequested" },
      { type: "CancelRequested", at: T1 }, { cancelRequested: true }, []],
    ["TimerFired (sleep)", running({ timers: [2, 5] }), { type: "TimerFired", runId: "r1", timer: { kind: "sleep", seq: 2 } },
      { type: "TimerFired", at: T1, seq: 2 }, { timers: [5] }, []],
    ["ActivityCompleted (current attempt)", running({ activities: { 1: activity(), 2: activity({ activityType: "ship" }) } }),
      { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 1, result: '"ok"' },
      { type: "ActivityCompleted", at: T1, seq: 1, result: '"ok"' }, { activities: { 2: activity({ activityType: "ship" }) } }, [cancelTimer("timeout:1")]],
    ["ActivityCompleted (attempt 2)", running({ activities: { 1: activity({ attempt: 2 }) } }),
      { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 2, result: undefined },
      { type: "ActivityCompleted", at: T1, seq: 1, result: undefined }, { activities: {} }, [cancelTimer("timeout:1")]],
    ["ChildStartFailed", withChild, { type: "ChildStartFailed", runId: "r1", seq: 3, failure: boom },
      { type: "ChildStartFailed", at: T1, seq: 3, failure: boom }, { children: {} }, []],
    ["ChildClosed COMPLETED", withChild, { type: "ChildClosed", runId: "r1", seq: 3, status: "COMPLETED", result: '"shipped"' },
      { type: "ChildCompleted", at: T1, seq: 3, result: '"shipped"' }, { children: {} }, []],
    ["ChildClosed FAILED", withChild, { type: "ChildClosed", runId: "r1", seq: 3, status: "FAILED", failure: boom },
      { type: "ChildFailed", at: T1, seq: 3, failure: failed(boom) }, { children: {} }, []],
    ["ChildClosed CANCELLED", withChild, { type: "ChildClosed", runId: "r1", seq: 3, status: "CANCELLED", failure: cancelled },
      { type: "ChildFailed", at: T1, seq: 3, failure: failed(cancelled) }, { children: {} }, []],
    ["ChildClosed TERMINATED", withChild, { type: "ChildClosed", runId: "r1", seq: 3, status: "TERMINATED", failure: terminated },
      { type: "ChildFailed", at: T1, seq: 3, failure: failed(terminated) }, { children: {} }, []],
    ["ChildClosed TERMINATED without a failure", withChild, { type: "ChildClosed", runId: "r1", seq: 3, status: "TERMINATED" },
      { type: "ChildFailed", at: T1, seq: 3, failure: failed({ kind: "application", message: "child terminated" }) }, { children: {} }, []],
  ])("%s → job, activation", (_name, state, message, job, patch, commands) => {
    expect(reduce(state, message, T1)).toStrictEqual({
      state: { ...state, ...patch, pendingJobs: [...state.pendingJobs, job] },
      journal: [],
      commands,
      activate: true,
      closed: false,
    })
  })

  it("queues jobs without activation before the run has started", () => {
    const state = initialState(RUN, T0)
    const t = reduce(state, { type: "CancelRequested" }, T1)
    expect(t.state?.pendingJobs).toStrictEqual([{ type: "CancelRequested", at: T1 }])
    expect(t.activate).toBe(false)
  })

  it.each<[string, ExecutionState, WorkflowMessage]>([
    ["ActivityCompleted for a stale attempt", running({ activities: { 1: activity({ attempt: 2 }) } }),
      { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 1, result: '"late"' }],
    ["ActivityCompleted while waiting for a retry", running({ activities: { 1: activity({ attempt: 2, dispatched: false }) } }),
      { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 2, result: '"early"' }],
    ["ActivityCompleted for an unknown seq", running({ activities: { 1: activity() } }),
      { type: "ActivityCompleted", runId: "r1", seq: 9, attempt: 1, result: undefined }],
    ["ActivityCompleted for another run", running({ activities: { 1: activity() } }),
      { type: "ActivityCompleted", runId: "r0", seq: 1, attempt: 1, result: undefined }],
    ["ActivityFailed for a stale attempt", running({ activities: { 1: activity({ attempt: 3 }) } }),
      { type: "ActivityFailed", runId: "r1", seq: 1, attempt: 2, failure: boom }],
    ["TimerFired for a cancelled timer", running({ timers: [5] }), { type: "TimerFired", runId: "r1", timer: { kind: "sleep", seq: 2 } }],
    ["TimerFired for another run", running({ timers: [2] }), { type: "TimerFired", runId: "r0", timer: { kind: "sleep", seq: 2 } }],
    ["ChildStarted with another child run id", running({ children: { 3: child() } }), { type: "ChildStarted", runId: "r1", seq: 3, childRunId: "x" }],
    ["ChildStarted for an unknown seq", running({ children: { 3: child() } }), { type: "ChildStarted", runId: "r1", seq: 8, childRunId: "r1.8" }],
    ["ChildClosed for an unknown seq", running(), { type: "ChildClosed", runId: "r1", seq: 3, status: "COMPLETED", result: undefined }],
    ["duplicate Signal id", running({ signalIds: ["s1"] }), { type: "Signal", signalId: "s1", name: "go", args: [] }],
    ["Signal for another run", running(), { type: "Signal", runId: "r0", signalId: "s1", name: "go", args: [] }],
    ["second CancelRequested", running({ cancelRequested: true }), { type: "CancelRequested", reason: "again" }],
    ["Terminate for another run", running(), { type: "Terminate", runId: "r0", reason: "old" }],
    ["Signal to a closed run", closed(), { type: "Signal", signalId: "s1", name: "go", args: [] }],
    ["ActivityCompleted to a closed run", closed({ activities: { 1: activity() } }),
      { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 1, result: undefined }],
    ["TimerFired to a closed run", closed({ timers: [2] }), { type: "TimerFired", runId: "r1", timer: { kind: "sleep", seq: 2 } }],
    ["CancelRequested to a closed run", closed(), { type: "CancelRequested" }],
    ["Terminate to a closed run", closed(), { type: "Terminate", reason: "ops" }],
    ["Signal with no run at all", undefined as unknown as ExecutionState, { type: "Signal", signalId: "s1", name: "go", args: [] }],
  ])("%s → unchanged", (_name, state, message) => {
    expectUnchanged(reduce(state, message, T1), state)
  })

  it("ChildStarted → job, activation; the child is still awaited", () => {
    const state = running({ pendingJobs: [earlierJob], children: { 3: child(), 5: child({ workflowId: "other", runId: "r1.5" }) } })
    const t = reduce(state, { type: "ChildStarted", runId: "r1", seq: 3, childRunId: "r1.3" }, T1)
    expect(t.state?.pendingJobs).toStrictEqual([earlierJob, { type: "ChildStarted", at: T1, seq: 3, runId: "r1.3" }])
    expect(t.state?.children[3]).toMatchObject(child())
    expect(t.state?.children[5]).toStrictEqual(child({ workflowId: "other", runId: "r1.5" }))
    expect(t).toMatchObject({ journal: [], commands: [], activate: true, closed: false })
  })

  it("a duplicate ChildStarted is ignored (invariant 2: at-least-once delivery)", () => {
    const first = reduce(running({ children: { 3: child() } }), { type: "ChildStarted", runId: "r1", seq: 3, childRunId: "r1.3" }, T1)
    expect(first.activate).toBe(true)
    expectUnchanged(reduce(first.state, { type: "ChildStarted", runId: "r1", seq: 3, childRunId: "r1.3" }, T1 + 1), first.state)
  })
})

describe("activity failures, retries and timeouts", () => {
  const at = T0 + 2000
  const retrying = (seq: number, attempt: number, failure: FailureInfo, delayMs: number) =>
    ({ type: "ActivityRetrying", at, seq, attempt, failure, delayMs })

  it.each<[string, number, number]>([["attempt 1 → retry in 1 s", 1, 1000], ["attempt 2 → retry in 2 s", 2, 2000]])("%s", (_name, attempt, delay) => {
    const state = running({ activities: { 1: activity({ attempt }) } })
    expect(reduce(state, { type: "ActivityFailed", runId: "r1", seq: 1, attempt, failure: boom }, at)).toStrictEqual({
      state: { ...state, journalLength: 2, activities: { 1: activity({ attempt: attempt + 1, dispatched: false, lastFailure: boom }) } },
      journal: [retrying(1, attempt + 1, boom, delay)],
      commands: [cancelTimer("timeout:1"), setTimer("retry:1", at + delay, { kind: "activityRetry", seq: 1, attempt: attempt + 1 })],
      activate: false,
      closed: false,
      journalRunId: "r1",
    })
  })

  it.each<[string, Partial<Parameters<typeof activity>[0]>, FailureInfo]>([
    ["non-retryable error type", {}, { ...boom, type: "CardDeclined" }],
    ["nonRetryable failure", {}, { ...boom, nonRetryable: true }],
    ["maximumAttempts reached", { attempt: 3 }, boom],
    ["next attempt would start after scheduleToClose", { options: options({ scheduleToCloseMs: 2500 }) }, boom],
    ["next attempt would start at scheduleToClose", { options: options({ scheduleToCloseMs: 3000 }) }, boom],
  ])("final failure: %s → ActivityFailed job of kind activity", (_name, patch, failure) => {
    const state = running({ activities: { 1: activity(patch), 2: activity() } })
    const attempt = state.activities[1]!.attempt
    expect(reduce(state, { type: "ActivityFailed", runId: "r1", seq: 1, attempt, failure }, at)).toStrictEqual({
      state: {
        ...state,
        activities: { 2: activity() },
        pendingJobs: [{ type: "ActivityFailed", at, seq: 1, failure: { kind: "activity", message: "Activity task failed", activityType: "charge", cause: failure } }],
      },
      journal: [],
      commands: [cancelTimer("timeout:1")],
      activate: true,
      closed: false,
    })
  })

  it("retries while the next attempt starts before scheduleToClose", () => {
    const state = running({ activities: { 1: activity({ options: options({ scheduleToCloseMs: 3001 }) }) } })
    const t = reduce(state, { type: "ActivityFailed", runId: "r1", seq: 1, attempt: 1, failure: boom }, at)
    expect(t.journal).toStrictEqual([retrying(1, 2, boom, 1000)])
  })

  const retryTimer: WorkflowMessage = { type: "TimerFired", runId: "r1", timer: { kind: "activityRetry", seq: 1, attempt: 2 } }
  it.each<[string, number | undefined, number | undefined, number, number]>([
    ["startToClose nearer", 10_000, 60_000, T0 + 7000, T0 + 17_000],
    ["scheduleToClose nearer", 10_000, 20_000, T0 + 15_000, T0 + 20_000],
    ["only scheduleToClose", undefined, 20_000, T0 + 7000, T0 + 20_000],
  ])("activityRetry timer dispatches the attempt once (%s)", (_name, startToCloseMs, scheduleToCloseMs, now, deadline) => {
    const opts = options({ ...(startToCloseMs === undefined ? {} : { startToCloseMs }), ...(scheduleToCloseMs === undefined ? {} : { scheduleToCloseMs }) })
    const state = running({ activities: { 1: activity({ attempt: 2, dispatched: false, options: opts }) } })
    const t = reduce(state, retryTimer, now)
    expect(t).toStrictEqual({
      state: { ...state, activities: { 1: activity({ attempt: 2, dispatched: true, options: opts }) } },
      journal: [],
      commands: [
        {
          type: "SendActivity",
          taskQueue: "acts",
          key: "wf",
          task: { workflowId: "wf", runId: "r1", workflowType: "order", workflowTaskQueue: "q", seq: 1, attempt: 2, activityType: "charge", args: ["1"], scheduledAt: T0, attemptScheduledAt: now, deadline, ...(startToCloseMs === undefined ? {} : { startToCloseMs }), ...(scheduleToCloseMs === undefined ? {} : { scheduleToCloseMs }) },
          fairnessKey: "order",
        },
        setTimer("timeout:1", deadline, { kind: "activityTimeout", seq: 1, attempt: 2 }),
      ],
      activate: false,
      closed: false,
    })
    expectUnchanged(reduce(t.state, retryTimer, now + 1), t.state)
  })

  it("ignores an activityRetry timer for another attempt", () => {
    const state = running({ activities: { 1: activity({ attempt: 3, dispatched: false }) } })
    expectUnchanged(reduce(state, retryTimer, T1), state)
  })

  it("activityTimeout (start-to-close) → retry with a timeout failure", () => {
    const state = running({ activities: { 1: activity() } })
    const t = reduce(state, { type: "TimerFired", runId: "r1", timer: { kind: "activityTimeout", seq: 1, attempt: 1 } }, T0 + 10_000)
    const failure: FailureInfo = { kind: "timeout", message: "Activity task timed out", timeoutType: "START_TO_CLOSE" }
    expect(t.journal).toStrictEqual([{ ...retrying(1, 2, failure, 1000), at: T0 + 10_000 }])
    expect(t.state?.activities[1]).toStrictEqual(activity({ attempt: 2, dispatched: false, lastFailure: failure }))
    expect(t.commands).toStrictEqual([cancelTimer("timeout:1"), setTimer("retry:1", T0 + 11_000, { kind: "activityRetry", seq: 1, attempt: 2 })])
    expect(t.activate).toBe(false)
  })

  it("activityTimeout (schedule-to-close) → final, non-retryable ActivityFailed", () => {
    const state = running({ activities: { 1: activity({ options: options({ startToCloseMs: 10_000, scheduleToCloseMs: 5000 }) }) } })
    const t = reduce(state, { type: "TimerFired", runId: "r1", timer: { kind: "activityTimeout", seq: 1, attempt: 1 } }, T0 + 5000)
    const cause: FailureInfo = { kind: "timeout", message: "Activity task timed out", timeoutType: "SCHEDULE_TO_CLOSE", nonRetryable: true }
    expect(t.state?.activities).toStrictEqual({})
    expect(t.state?.pendingJobs).toStrictEqual([{ type: "ActivityFailed", at: T0 + 5000, seq: 1, failure: { kind: "activity", message: "Activity task failed", activityType: "charge", cause } }])
    expect(t.journal).toStrictEqual([])
    expect(t.activate).toBe(true)
  })

  it.each<[string, number, boolean]>([["a stale attempt", 1, true], ["an attempt waiting for its retry", 2, false]])("ignores activityTimeout for %s", (_name, attempt, dispatched) => {
    const state = running({ activities: { 1: activity({ attempt: 2, dispatched }) } })
    expectUnchanged(reduce(state, { type: "TimerFired", runId: "r1", timer: { kind: "activityTimeout", seq: 1, attempt } }, T1), state)
  })
})

describe("Terminate", () => {
  it("closes as TERMINATED: timers cancelled, open children terminated, parent notified", () => {
    const state = running({
      parent: PARENT,
      timers: [2],
      activities: { 1: activity(), 4: activity({ attempt: 2, dispatched: false }) },
      children: { 3: child() },
      pendingJobs: [earlierJob],
      taskFailure: { type: "Error", message: "bug", attempt: 2, at: T0 },
    })
    const { taskFailure: _, ...base } = state
    const failure: FailureInfo = { kind: "terminated", message: "ops" }
    expect(reduce(state, { type: "Terminate", reason: "ops" }, T1)).toStrictEqual({
      state: { ...base, journalLength: 2, status: "TERMINATED", closeTime: T1, activities: {}, timers: [], children: {}, pendingJobs: [], failure },
      journal: [{ type: "WorkflowTerminated", at: T1, reason: "ops" }],
      commands: [
        cancelTimer("sleep:2"),
        cancelTimer("timeout:1"),
        cancelTimer("retry:4"),
        cancelTimer("task-retry"),
        { type: "SendWorkflow", taskQueue: "cq", key: "kid", message: { type: "Terminate", reason: "parent workflow closed", fromParent: { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 } } },
        toParent({ type: "ChildClosed", runId: "pr", seq: 4, status: "TERMINATED", failure }),
      ],
      activate: false,
      closed: true,
      journalRunId: "r1",
    })
  })

  it("treats each open child by its parent-close policy: terminate, request cancel (once), or abandon", () => {
    const state = running({
      children: {
        3: child({ workflowId: "kid-terminate" }),
        5: child({ workflowId: "kid-cancel", parentClosePolicy: "REQUEST_CANCEL" }),
        6: child({ workflowId: "kid-asked", parentClosePolicy: "REQUEST_CANCEL", cancelRequested: true }),
        7: child({ workflowId: "kid-abandon", parentClosePolicy: "ABANDON" }),
      },
    })
    const toChildren = reduce(state, { type: "Terminate", reason: "ops" }, T1).commands.filter((c) => c.type === "SendWorkflow")
    const fromParent = (seq: number) => ({ workflowId: "wf", runId: "r1", taskQueue: "q", seq })
    expect(toChildren).toEqual([
      { type: "SendWorkflow", taskQueue: "cq", key: "kid-terminate", message: { type: "Terminate", reason: "parent workflow closed", fromParent: fromParent(3) } },
      { type: "SendWorkflow", taskQueue: "cq", key: "kid-cancel", message: { type: "CancelRequested", reason: "parent workflow closed", fromParent: fromParent(5) } },
    ])
  })

  it("terminates a run addressed by its run id", () => {
    expect(reduce(running(), { type: "Terminate", runId: "r1", reason: "ops" }, T1).closed).toBe(true)
  })
})

describe("Query", () => {
  const query: WorkflowMessage = { type: "Query", queryId: "q1", name: "status", args: ['"x"'] }
  it.each<[string, ExecutionState | undefined]>([
    ["a running run", running({ pendingJobs: [earlierJob] })],
    ["a closed run", closed()],
  ])("on %s → query set, state unchanged", (_name, state) => {
    const t = reduce(state, query, T1)
    expect(t.state).toBe(state)
    expect(t).toStrictEqual({ state, journal: [], commands: [], activate: false, closed: false, query: { queryId: "q1", name: "status", args: ['"x"'] } })
  })
})
