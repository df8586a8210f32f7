import { describe, expect, it } from "vitest"
import type { CommandEntry, JournalEntry } from "../../src/core/journal.ts"
import { findMismatch, splitTasks } from "../../src/core/replay.ts"

const activity = (seq: number, activityType: string, args: Array<string> = []): CommandEntry =>
  ({ type: "ActivityScheduled", at: 1, seq, activityType, args })
const timer = (seq: number, durationMs = 1000): CommandEntry => ({ type: "TimerStarted", at: 1, seq, durationMs })
const child = (seq: number, workflowType: string, workflowId = "c"): CommandEntry =>
  ({ type: "ChildStartInitiated", at: 1, seq, workflowType, workflowId, args: [] })
const upsert = (stage: string): CommandEntry => ({ type: "SearchAttributesUpserted", at: 1, searchAttributes: { Stage: { type: "KEYWORD", value: stage } } })
const memo = (note: string): CommandEntry => ({ type: "MemoUpserted", at: 1, memo: { note } })
const complete = (result = '"done"'): CommandEntry => ({ type: "WorkflowCompleted", at: 1, result })

describe("splitTasks", () => {
  const journal: Array<JournalEntry> = [
    { type: "WorkflowStarted", at: 10, args: ['"x"'], task: 1 }, // 0
    activity(1, "charge"), // 1
    timer(2), // 2
    { type: "ActivityRetrying", at: 20, seq: 1, attempt: 2, failure: { kind: "application", message: "m" }, delayMs: 1000 }, // 3
    { type: "ActivityCompleted", at: 30, seq: 1, result: '"ok"', task: 2 }, // 4
    { type: "SignalReceived", at: 30, name: "go", args: [], task: 2 }, // 5
    activity(3, "ship"), // 6
    { type: "TimerFired", at: 40, seq: 2, task: 3 }, // 7
    complete(), // 8
    { type: "WorkflowTerminated", at: 50, reason: "late note" }, // 9
  ]

  it("groups jobs and commands by task number, skipping notes", () => {
    expect(splitTasks(journal)).toStrictEqual([
      { task: 1, jobs: [{ type: "WorkflowStarted", at: 10, args: ['"x"'] }], commands: [activity(1, "charge"), timer(2)], historyLength: 0 },
      {
        task: 2,
        jobs: [{ type: "ActivityCompleted", at: 30, seq: 1, result: '"ok"' }, { type: "SignalReceived", at: 30, name: "go", args: [] }],
        commands: [activity(3, "ship")],
        historyLength: 4,
      },
      { task: 3, jobs: [{ type: "TimerFired", at: 40, seq: 2 }], commands: [complete()], historyLength: 7 },
    ])
  })

  it("strips the task number from jobs", () => {
    for (const task of splitTasks(journal)) for (const job of task.jobs) expect(job).not.toHaveProperty("task")
  })

  it("counts notes in historyLength (they are journal entries)", () => {
    const withNote: Array<JournalEntry> = [
      { type: "WorkflowStarted", at: 0, args: [], task: 1 },
      { type: "ActivityRetrying", at: 1, seq: 1, attempt: 2, failure: { kind: "application", message: "m" }, delayMs: 5 },
      { type: "ActivityRetrying", at: 2, seq: 1, attempt: 3, failure: { kind: "application", message: "m" }, delayMs: 5 },
      { type: "ActivityCompleted", at: 3, seq: 1, result: undefined, task: 2 },
    ]
    expect(splitTasks(withNote).map((t) => [t.task, t.historyLength])).toStrictEqual([[1, 0], [2, 3]])
  })

  it("starts a new task when the task number changes, even for consecutive jobs", () => {
    const tasks = splitTasks([
      { type: "WorkflowStarted", at: 0, args: [], task: 1 },
      { type: "SignalReceived", at: 1, name: "a", args: [], task: 2 },
      { type: "SignalReceived", at: 2, name: "b", args: [], task: 2 },
    ])
    expect(tasks.map((t) => [t.task, t.jobs.length, t.historyLength])).toStrictEqual([[1, 1, 0], [2, 2, 1]])
  })

  it("returns no tasks for an empty journal", () => {
    expect(splitTasks([])).toStrictEqual([])
  })
})

describe("findMismatch", () => {
  it.each<[string, Array<CommandEntry>, Array<CommandEntry>]>([
    ["nothing", [], []],
    ["equal calls", [activity(1, "charge"), timer(2), child(3, "ship"), complete()], [activity(1, "charge"), timer(2), child(3, "ship"), complete()]],
    ["different activity args", [activity(1, "charge", ['"a"'])], [activity(1, "charge", ['"b"'])]],
    ["different timer duration", [timer(1, 1000)], [timer(1, 5000)]],
    ["different child workflow id", [child(1, "ship", "c-1")], [child(1, "ship", "c-2")]],
    ["different completion result", [complete('"a"')], [complete('"b"')]],
    ["different timestamps", [{ ...timer(1), at: 5 }], [{ ...timer(1), at: 9 }]],
    ["different upserted values", [upsert("paid"), memo('"a"')], [upsert("shipped"), memo('"b"')]],
  ])("%s → no mismatch", (_name, recorded, made) => {
    expect(findMismatch(recorded, made)).toBeUndefined()
  })

  it.each<[string, Array<CommandEntry>, Array<CommandEntry>, string]>([
    [
      "reordered calls",
      [activity(1, "charge"), timer(2)],
      [timer(1), activity(2, "charge")],
      "the journal records activity charge (seq 1) but the code made timer (seq 1)",
    ],
    [
      "renamed activity",
      [activity(1, "charge")],
      [activity(1, "refund")],
      "the journal records activity charge (seq 1) but the code made activity refund (seq 1)",
    ],
    [
      "renamed child workflow",
      [child(2, "ship")],
      [child(2, "deliver")],
      "the journal records child workflow ship (seq 2) but the code made child workflow deliver (seq 2)",
    ],
    [
      "same name, different seq",
      [activity(1, "charge")],
      [activity(2, "charge")],
      "the journal records activity charge (seq 1) but the code made activity charge (seq 2)",
    ],
    ["timer with a different seq", [timer(1)], [timer(2)], "the journal records timer (seq 1) but the code made timer (seq 2)"],
    [
      "missing call",
      [activity(1, "charge"), timer(2)],
      [activity(1, "charge")],
      "the journal records timer (seq 2), which the code no longer makes",
    ],
    [
      "extra call",
      [activity(1, "charge")],
      [activity(1, "charge"), child(2, "ship")],
      "the code made child workflow ship (seq 2), which the journal does not record",
    ],
    [
      "completion instead of a call",
      [activity(1, "charge")],
      [complete()],
      "the journal records activity charge (seq 1) but the code made workflow completion",
    ],
    [
      "failure instead of completion",
      [complete()],
      [{ type: "WorkflowFailed", at: 1, failure: { kind: "application", message: "m" } }],
      "the journal records workflow completion but the code made workflow failure",
    ],
    [
      "cancellation kinds differ",
      [{ type: "TimerCancelled", at: 1, seq: 1 }],
      [{ type: "ActivityCancelRequested", at: 1, seq: 1 }],
      "the journal records timer cancellation (seq 1) but the code made activity cancellation (seq 1)",
    ],
    ["an upsert the code no longer makes", [upsert("paid"), timer(1)], [timer(1)], "the journal records search attribute upsert (Stage) but the code made timer (seq 1)"],
    ["a memo upsert instead of a search attribute upsert", [upsert("paid")], [memo('"a"')], "the journal records search attribute upsert (Stage) but the code made memo upsert (note)"],
  ])("%s", (_name, recorded, made, message) => {
    expect(findMismatch(recorded, made)).toBe(message)
  })

  it("reports the first disagreement only", () => {
    expect(findMismatch([activity(1, "a"), activity(2, "b")], [activity(1, "x"), activity(2, "y")])).toBe(
      "the journal records activity a (seq 1) but the code made activity x (seq 1)",
    )
  })
})
