/**
 * The schemas at the store boundary: everything this version writes decodes
 * to itself (extra fields a newer version wrote are kept), and what does not
 * match is an `Undecodable` whose reason names the field.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { decodeActivityTask, decodeJournalEntry, decodeQueryAnswer, decodeState, decodeWorkflowMessage } from "../../src/core/codecs.ts"
import { encodeJournalEntry, type JournalEntry } from "../../src/core/journal.ts"
import { type ActivityTask, encodeMessage, type WorkflowMessage } from "../../src/core/messages.ts"
import { encodeState, initialState } from "../../src/core/state.ts"

const failure = { kind: "activity" as const, message: "m", type: "ActivityFailure", cause: { kind: "application" as const, message: "inner", nonRetryable: true, details: [undefined, "1"] } }

const messages: ReadonlyArray<WorkflowMessage> = [
  { type: "Start", workflowId: "w", runId: "r", workflowType: "t", taskQueue: "q", args: ["1", undefined], parent: { workflowId: "p", runId: "pr", taskQueue: "q", seq: 2 }, record: { version: 1, startTime: 5 } },
  // A client's start names the write it made (version and token): a worker's first step computes from it without loading the record.
  { type: "Start", workflowId: "w", runId: "r", workflowType: "t", taskQueue: "q", args: [], record: { version: 1, token: "k", startTime: 5 } },
  { type: "ActivityCompleted", runId: "r", seq: 1, attempt: 1, result: undefined },
  { type: "ActivityFailed", runId: "r", seq: 1, attempt: 2, failure },
  { type: "TimerFired", runId: "r", timer: { kind: "activityRetry", seq: 1, attempt: 2 } },
  { type: "TimerFired", runId: "r", timer: { kind: "taskRetry", attempt: 2 } },
  { type: "ActivityHeartbeat", runId: "r", seq: 1, attempt: 1, details: "{}" },
  { type: "ChildStarted", runId: "r", seq: 3, childRunId: "c" },
  { type: "ChildStartFailed", runId: "r", seq: 3, failure },
  { type: "ChildClosed", runId: "r", seq: 3, status: "FAILED", failure },
  { type: "Signal", signalId: "s", name: "n", args: [] },
  { type: "CancelRequested" },
  { type: "Terminate", runId: "r", reason: "why" },
  { type: "Query", queryId: "q", name: "n", args: ["2"] },
  { type: "Update", runId: "r", updateId: "u", name: "n", args: ["3"] },
]

const roundTrip = <T>(decode: (text: string) => Result.Result<T, { reason: string }>, value: unknown) => {
  const text = JSON.stringify(value)
  const decoded = decode(text)
  expect(Result.isSuccess(decoded) ? decoded.success : decoded.failure).toEqual(JSON.parse(text))
}

const reasonOf = <T>(decode: (text: string) => Result.Result<T, { reason: string }>, text: string): string => {
  const decoded = decode(text)
  if (Result.isSuccess(decoded)) throw new Error(`decoded: ${text}`)
  return decoded.failure.reason
}

describe("codecs", () => {
  it("every workflow message shape this version writes decodes to itself", () => {
    for (const message of messages) roundTrip(decodeWorkflowMessage, JSON.parse(encodeMessage(message)))
  })

  it("activity tasks, states, journal entries and query answers decode to themselves; extra fields are kept", () => {
    const task: ActivityTask = { workflowId: "w", runId: "r", workflowType: "t", workflowTaskQueue: "q", seq: 1, attempt: 1, activityType: "a", args: [], scheduledAt: 1.5, deadline: 9 }
    roundTrip(decodeActivityTask, JSON.parse(encodeMessage(task)))
    roundTrip(decodeActivityTask, { ...task, fromANewerVersion: [1] })
    const state = initialState({ workflowId: "w", runId: "r", workflowType: "t", taskQueue: "q", args: [] }, 5)
    roundTrip(decodeState, JSON.parse(encodeState({
      ...state,
      activities: { 1: { activityType: "a", args: [], options: { taskQueue: "q", retry: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 100_000, maximumAttempts: 0, nonRetryableErrorTypes: [] } }, attempt: 1, scheduledAt: 5, dispatched: true, lastFailure: failure } },
      children: { 2: { workflowId: "c", workflowType: "t", taskQueue: "q", runId: "cr", started: true } },
      pendingJobs: [{ type: "SignalReceived", at: 1, name: "n", args: [] }, { type: "UpdateRequested", at: 1, updateId: "u", name: "n", args: [] }],
      taskFailure: { type: "Error", message: "boom", attempt: 2, at: 7 },
      updates: [
        { id: "u", name: "n", stage: "ADMITTED" },
        { id: "v", name: "n", stage: "COMPLETED", result: "1" },
        { id: "w", name: "n", stage: "COMPLETED", rejected: true, failure },
      ],
    })))
    const entries: ReadonlyArray<JournalEntry> = [
      { type: "WorkflowStarted", at: 1, args: [], task: 1 },
      { type: "ActivityScheduled", at: 1, seq: 1, activityType: "a", args: [] },
      { type: "ActivityRetrying", at: 2, seq: 1, attempt: 1, failure, delayMs: 1000 },
      { type: "ChildCancelRequested", at: 3, seq: 2 },
      { type: "WorkflowCompleted", at: 4, result: "1" },
      { type: "UpdateRequested", at: 5, updateId: "u", name: "n", args: ["1"], task: 2 },
      { type: "UpdateAccepted", at: 5, updateId: "u", name: "n" },
      { type: "UpdateCompleted", at: 6, updateId: "u", result: "2" },
      { type: "UpdateCompleted", at: 6, updateId: "v", failure },
      { type: "WorkflowStarted", at: 1, args: [], task: 1, searchAttributes: { Stage: { type: "KEYWORD", value: "new" } }, memo: { owner: '"ops"' } },
      { type: "SearchAttributesUpserted", at: 5, searchAttributes: { Stage: { type: "KEYWORD", value: "paid" }, Tags: { type: "KEYWORD_LIST", value: ["a"] }, Old: null } },
      { type: "MemoUpserted", at: 6, memo: { note: '"x"', gone: null } },
    ]
    for (const entry of entries) roundTrip(decodeJournalEntry, JSON.parse(encodeJournalEntry(entry)))
    roundTrip(decodeQueryAnswer, { ok: true, result: "3" })
    roundTrip(decodeQueryAnswer, { ok: false, failure })
  })

  it("what does not match is Undecodable, with a reason naming what is wrong", () => {
    expect(reasonOf(decodeWorkflowMessage, "{\"type\":\"Start\"}")).toMatch(/workflowId/)
    expect(reasonOf(decodeWorkflowMessage, "{\"type\":\"Sig")).toMatch(/not JSON/)
    expect(reasonOf(decodeWorkflowMessage, "[]")).toMatch(/JSON object/)
    expect(reasonOf(decodeWorkflowMessage, "{\"runId\":\"r\"}")).toMatch(/"type" is missing/)
    expect(reasonOf(decodeWorkflowMessage, "{\"type\":\"Later\"}")).toMatch(/unknown type "Later"/)
    expect(reasonOf(decodeWorkflowMessage, JSON.stringify({ type: "Signal", signalId: "s", name: "n", args: "x" }))).toMatch(/args/)
    expect(reasonOf(decodeWorkflowMessage, JSON.stringify({ type: "ActivityCompleted", runId: "r", seq: 1.5, attempt: 1 }))).toMatch(/seq/)
    expect(reasonOf(decodeActivityTask, JSON.stringify({ activityType: "a", workflowId: "w" }))).toMatch(/runId/)
    expect(reasonOf(decodeState, "{}")).toMatch(/invalid execution state/)
    expect(reasonOf(decodeJournalEntry, JSON.stringify({ type: "TimerStarted", at: 1, seq: 1 }))).toMatch(/durationMs/)
    expect(reasonOf(decodeJournalEntry, JSON.stringify({ type: "SearchAttributesUpserted", at: 1, searchAttributes: { Stage: { type: "WORD", value: "x" } } }))).toMatch(/invalid journal entry/)
    expect(reasonOf(decodeJournalEntry, JSON.stringify({ type: "MemoUpserted", at: 1, memo: { note: 3 } }))).toMatch(/invalid journal entry/)
    expect(reasonOf(decodeWorkflowMessage, JSON.stringify({ type: "Terminate", reason: "x".repeat(10_000), fromParent: 1 })).length).toBeLessThan(700)
  })
})
