/**
 * `timelineOf`: a history in, the timeline's lanes and bars out (table
 * tests, no store): attempts and backoffs, a retry still waiting, timers,
 * children, signals and updates, and what is still open at `now`.
 */
import { describe, expect, it } from "vitest"
import type { JournalEntry } from "../../src/core/journal.ts"
import { timelineOf } from "../../src/dashboard/timeline.ts"

const failure = { kind: "application" as const, type: "NetworkTimeout", message: "slow" }

const rows = (events: ReadonlyArray<JournalEntry>, now: number) =>
  timelineOf(events, now).bars.map((b) => `${b.lane} | ${b.label} | ${b.start}-${b.end} | ${b.outcome}`)

describe("timelineOf", () => {
  it("an activity's attempts with the backoff between them, a timer and a child, in lanes in order of appearance", () => {
    const events: Array<JournalEntry> = [
      { type: "WorkflowStarted", at: 0, args: [], task: 1 },
      { type: "ActivityScheduled", at: 0, seq: 1, activityType: "charge", args: [] },
      { type: "ActivityRetrying", at: 10, seq: 1, attempt: 2, failure, delayMs: 5 },
      { type: "ActivityCompleted", at: 20, seq: 1, result: "1", task: 2 },
      { type: "TimerStarted", at: 20, seq: 2, durationMs: 30 },
      { type: "TimerFired", at: 50, seq: 2, task: 3 },
      { type: "ChildStartInitiated", at: 50, seq: 3, workflowType: "ship", workflowId: "c-1", args: [] },
      { type: "ChildStarted", at: 52, seq: 3, runId: "r", task: 4 },
      { type: "ChildFailed", at: 60, seq: 3, failure: { kind: "child", message: "child failed", cause: failure }, task: 5 },
      { type: "WorkflowCompleted", at: 61, result: "2" },
    ]
    const timeline = timelineOf(events, 1_000)
    expect(timeline.lanes).toEqual(["workflow", "activity charge #1", "timer #2", "child ship #3"])
    expect(timeline.end).toBe(61)
    expect(rows(events, 1_000)).toEqual([
      "workflow | run | 0-61 | completed",
      "activity charge #1 | attempt 1 | 0-10 | failed",
      "activity charge #1 | backoff before attempt 2 | 10-15 | completed",
      "activity charge #1 | attempt 2 | 15-20 | completed",
      "timer #2 | sleep 30 ms | 20-50 | completed",
      "child ship #3 | c-1 | 50-60 | failed",
    ])
    expect(timeline.bars[1]!.detail).toBe("NetworkTimeout: slow")
  })

  it("a running workflow: open bars end at now; a retry whose backoff has not elapsed shows the backoff only", () => {
    const events: Array<JournalEntry> = [
      { type: "WorkflowStarted", at: 100, args: [], task: 1 },
      { type: "ActivityScheduled", at: 100, seq: 1, activityType: "flaky", args: [] },
      { type: "ActivityRetrying", at: 110, seq: 1, attempt: 2, failure, delayMs: 3_600_000 },
      { type: "SignalReceived", at: 120, name: "go", args: [], task: 2 },
      { type: "UpdateRequested", at: 130, updateId: "u1", name: "rename", args: [], task: 3 },
      { type: "UpdateAccepted", at: 130, updateId: "u1", name: "rename" },
      { type: "UpdateCompleted", at: 135, updateId: "u1", failure },
      { type: "TimerStarted", at: 140, seq: 2, durationMs: 60_000 },
    ]
    expect(rows(events, 200)).toEqual([
      "workflow | run | 100-200 | open",
      "activity flaky #1 | attempt 1 | 100-110 | failed",
      "activity flaky #1 | backoff before attempt 2 | 110-3600110 | open",
      "signals | go | 120-120 | instant",
      "updates | rename | 130-135 | failed",
      "timer #2 | sleep 60000 ms | 140-200 | open",
    ])
  })

  it("a cancelled activity and a cancelled timer; an empty history", () => {
    const cancelled = { kind: "activity" as const, message: "activity cancelled", cause: { kind: "cancelled" as const, message: "cancelled" } }
    const events: Array<JournalEntry> = [
      { type: "WorkflowStarted", at: 0, args: [], task: 1 },
      { type: "ActivityScheduled", at: 0, seq: 1, activityType: "a", args: [] },
      { type: "TimerStarted", at: 0, seq: 2, durationMs: 10 },
      { type: "TimerCancelled", at: 3, seq: 2 },
      { type: "ActivityFailed", at: 4, seq: 1, failure: cancelled, task: 2 },
      { type: "WorkflowCancelled", at: 5 },
    ]
    expect(rows(events, 99)).toEqual([
      "workflow | run | 0-5 | cancelled",
      "activity a #1 | attempt 1 | 0-4 | cancelled",
      "timer #2 | sleep 10 ms | 0-3 | cancelled",
    ])
    expect(timelineOf([], 7)).toEqual({ origin: 7, end: 7, lanes: [], bars: [] })
  })
})
