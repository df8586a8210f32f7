/**
 * Local activities in core: a local `ScheduleActivity` sends nothing and
 * arms no timer (the step runs the attempt itself: `localActivitiesDue`);
 * a failure whose backoff is within `localRetryThreshold` is retried in the
 * process (`localRunAt`), a longer one by a durable timer; a step that must
 * commit hands what is still due to durable timers (`deferLocalActivities`).
 */
import { describe, expect, it } from "vitest"
import type { FailureInfo } from "../../src/core/failure.ts"
import type { WorkflowCommand } from "../../src/core/journal.ts"
import { chainTransitions, completeTask, deferLocalActivities, localActivitiesDue, reduce } from "../../src/core/reduce.ts"
import { activity, options, running, setTimer, T1 } from "./reduceFixtures.ts"

const local = (retryThresholdMs = 60_000, patch = {}) => options({ startToCloseMs: 2000, local: { retryThresholdMs }, ...patch })
const scheduleLocal = (seq: number, retryThresholdMs?: number): WorkflowCommand =>
  ({ type: "ScheduleActivity", seq, activityType: "charge", args: ["1"], options: local(retryThresholdMs) })
const failure: FailureInfo = { kind: "application", message: "flaky" }

describe("local activities: scheduling", () => {
  it("ScheduleActivity (local) → journaled as local, no SendActivity and no timer; the attempt is due in this step", () => {
    const t = completeTask(running(), [scheduleLocal(1)], T1)
    expect(t.journal).toStrictEqual([{ type: "ActivityScheduled", at: T1, seq: 1, activityType: "charge", args: ["1"], local: true }])
    expect(t.commands).toStrictEqual([])
    expect(t.state?.activities).toStrictEqual({ 1: activity({ options: local(), scheduledAt: T1 }) })
    expect(localActivitiesDue(t.state, T1 + 10)).toStrictEqual([{
      runAt: T1 + 10,
      task: {
        workflowId: "wf", runId: "r1", workflowType: "order", workflowTaskQueue: "q", seq: 1, attempt: 1, activityType: "charge", args: ["1"],
        scheduledAt: T1, attemptScheduledAt: T1 + 10, deadline: T1 + 10 + 2000, startToCloseMs: 2000, local: true,
      },
    }])
  })

  it("nothing is due for remote activities, a local one waiting on its durable retry timer, or a closed run", () => {
    expect(localActivitiesDue(running({ activities: { 1: activity() } }), T1)).toStrictEqual([])
    expect(localActivitiesDue(running({ activities: { 1: activity({ options: local(), dispatched: false }) } }), T1)).toStrictEqual([])
    expect(localActivitiesDue(running({ status: "COMPLETED", activities: { 1: activity({ options: local() }) } }), T1)).toStrictEqual([])
  })

  it("its completion is reduced like a remote one's: a job, no timers to cancel", () => {
    const state = running({ activities: { 1: activity({ options: local() }) } })
    const t = reduce(state, { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 1, result: '"ok"' }, T1)
    expect(t.commands).toStrictEqual([])
    expect(t.state?.activities).toStrictEqual({})
    expect(t.state?.pendingJobs).toStrictEqual([{ type: "ActivityCompleted", at: T1, seq: 1, result: '"ok"' }])
    expect(t.activate).toBe(true)
  })

  it("a local attempt's deadline (its activityTimeout, reported by the step) fails it as a timeout and retries it", () => {
    const state = running({ activities: { 1: activity({ options: local() }) } })
    const t = reduce(state, { type: "TimerFired", runId: "r1", timer: { kind: "activityTimeout", seq: 1, attempt: 1 } }, T1)
    expect(t.journal).toMatchObject([{ type: "ActivityRetrying", seq: 1, attempt: 2, failure: { kind: "timeout", timeoutType: "START_TO_CLOSE" } }])
    expect(t.state?.activities[1]).toMatchObject({ attempt: 2, dispatched: true, localRunAt: T1 + 1000 })
  })
})

describe("local activities: retries", () => {
  it("a backoff within localRetryThreshold → retried in the process after the backoff (no timer)", () => {
    const state = running({ activities: { 1: activity({ options: local(5000) }) } })
    const t = reduce(state, { type: "ActivityFailed", runId: "r1", seq: 1, attempt: 1, failure }, T1)
    expect(t.commands).toStrictEqual([])
    expect(t.journal).toStrictEqual([{ type: "ActivityRetrying", at: T1, seq: 1, attempt: 2, failure, delayMs: 1000 }])
    expect(t.state?.activities[1]).toStrictEqual(activity({ options: local(5000), attempt: 2, lastFailure: failure, localRunAt: T1 + 1000 }))
    expect(localActivitiesDue(t.state, T1)).toMatchObject([{ runAt: T1 + 1000, task: { attempt: 2, attemptScheduledAt: T1 + 1000 } }])
  })

  it("a backoff beyond localRetryThreshold → a durable retry timer; when it fires, the attempt is due in that step", () => {
    const state = running({ activities: { 1: activity({ options: local(500) }) } })
    const t = reduce(state, { type: "ActivityFailed", runId: "r1", seq: 1, attempt: 1, failure }, T1)
    expect(t.commands).toStrictEqual([setTimer("retry:1", T1 + 1000, { kind: "activityRetry", seq: 1, attempt: 2 })])
    expect(t.state?.activities[1]).toMatchObject({ attempt: 2, dispatched: false })
    expect(localActivitiesDue(t.state, T1)).toStrictEqual([])
    const fired = reduce(t.state, { type: "TimerFired", runId: "r1", timer: { kind: "activityRetry", seq: 1, attempt: 2 } }, T1 + 1000)
    expect(fired.commands).toStrictEqual([])
    expect(localActivitiesDue(fired.state, T1 + 1000)).toMatchObject([{ task: { seq: 1, attempt: 2, local: true } }])
  })

  it("the last attempt's failure fails the call, as for a remote activity", () => {
    const state = running({ activities: { 1: activity({ options: local(), attempt: 3 }) } })
    const t = reduce(state, { type: "ActivityFailed", runId: "r1", seq: 1, attempt: 3, failure }, T1)
    expect(t.state?.activities).toStrictEqual({})
    expect(t.state?.pendingJobs).toMatchObject([{ type: "ActivityFailed", seq: 1, failure: { kind: "activity", cause: failure } }])
  })

  it("deferLocalActivities → every due attempt waits on a durable timer at its start time", () => {
    const state = running({ activities: { 1: activity({ options: local() }), 2: activity({ options: local(), attempt: 2, localRunAt: T1 + 700 }), 3: activity() } })
    const t = deferLocalActivities(state, T1)
    expect(t.commands).toStrictEqual([
      setTimer("retry:1", T1, { kind: "activityRetry", seq: 1, attempt: 1 }),
      setTimer("retry:2", T1 + 700, { kind: "activityRetry", seq: 2, attempt: 2 }),
    ])
    expect(localActivitiesDue(t.state, T1)).toStrictEqual([])
    expect(t.state?.activities[3]).toStrictEqual(activity())
  })

  it("chainTransitions joins journals and commands and keeps the later state", () => {
    const first = completeTask(running(), [scheduleLocal(1)], T1)
    const second = reduce(first.state, { type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 1, result: '"ok"' }, T1 + 1)
    const both = chainTransitions(first, second)
    expect(both.state).toBe(second.state)
    expect(both.journal).toStrictEqual([...first.journal, ...second.journal])
    expect(both.activate).toBe(true)
  })
})
