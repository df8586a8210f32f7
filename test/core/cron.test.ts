/**
 * Cron workflows in core: a cron run's `Start` waits for the schedule's next
 * time (a `cronStart` timer) before its code starts; a run that completes,
 * fails or times out is followed by the next run of the same workflow id;
 * cancel and terminate end the chain.
 */
import { describe, expect, it } from "vitest"
import { cronProblem, nextCronTime } from "../../src/core/cron.ts"
import { completeTask, reduce } from "../../src/core/reduce.ts"
import { cancelTimer, running, setTimer, startMessage, T0, T1 } from "./reduceFixtures.ts"

const EVERY_10_MIN = "*/10 * * * *"

describe("cron schedules", () => {
  it("nextCronTime is pure math in UTC; cronProblem explains a bad expression", () => {
    expect(nextCronTime(EVERY_10_MIN, Date.UTC(2026, 0, 1, 12, 3))).toBe(Date.UTC(2026, 0, 1, 12, 10))
    expect(nextCronTime("0 0 * * *", Date.UTC(2026, 0, 1, 12, 3))).toBe(Date.UTC(2026, 0, 2))
    expect(cronProblem(EVERY_10_MIN)).toBeUndefined()
    expect(cronProblem("every day")).toBeTypeOf("string")
    expect(cronProblem("")).toBe("must be a non-empty string")
  })

  it("a cron run's Start waits for the next schedule time; its firing starts the code", () => {
    const at = nextCronTime(EVERY_10_MIN, T1)
    const t = reduce(undefined, startMessage({ cronSchedule: EVERY_10_MIN }), T1)
    expect(t.activate).toBe(false)
    expect(t.state).toMatchObject({ started: false, cronStartAt: at, cronSchedule: EVERY_10_MIN })
    expect(t.commands).toStrictEqual([setTimer("cron-start", at, { kind: "cronStart" })])
    expect(reduce(t.state, startMessage({ cronSchedule: EVERY_10_MIN }), T1 + 1).state).toBe(t.state) // a redelivered Start
    const fired = reduce(t.state, { type: "TimerFired", runId: "r1", timer: { kind: "cronStart" } }, at)
    expect(fired.activate).toBe(true)
    expect(fired.state?.pendingJobs).toStrictEqual([{ type: "WorkflowStarted", at, args: ['"a"'] }])
  })

  it("a completed or failed cron run is followed by the next run with the same input", () => {
    for (const command of [{ type: "CompleteWorkflow", result: '"ok"' }, { type: "FailWorkflow", failure: { kind: "application", message: "no" } }] as const) {
      const t = completeTask(running({ cronSchedule: EVERY_10_MIN }), [command], T1)
      expect(t.closed).toBe(true)
      expect(t.state).toMatchObject({ workflowId: "wf", runId: `wf:cron:${T1}`, status: "RUNNING", started: false, args: ['"a"'], cronSchedule: EVERY_10_MIN })
      expect(t.commands.at(-1)).toMatchObject({ type: "SendWorkflow", key: "wf", message: { type: "Start", runId: `wf:cron:${T1}`, cronSchedule: EVERY_10_MIN } })
    }
  })

  it("terminate and cancel end the chain; terminating a waiting run cancels its cronStart timer", () => {
    const waiting = running({ cronSchedule: EVERY_10_MIN, started: false, cronStartAt: T0 + 600_000 })
    const terminated = reduce(waiting, { type: "Terminate", reason: "stop" }, T1)
    expect(terminated.state?.status).toBe("TERMINATED")
    expect(terminated.commands).toStrictEqual([cancelTimer("cron-start")])
    const cancelled = completeTask(running({ cronSchedule: EVERY_10_MIN }), [{ type: "CancelWorkflow" }], T1)
    expect(cancelled.state?.status).toBe("CANCELLED")
    expect(cancelled.commands).toStrictEqual([])
  })
})
