/**
 * What `checkWorkflow` asserts about one run: the journals record each fact
 * once, activity invocations match the journaled attempts, and every prefix
 * of every history replays against the code. Each check returns a problem
 * (a sentence) or nothing.
 */
import type { JournalEntry } from "../../../core/journal.ts"
import { splitTasks } from "../../../core/replay.ts"
import { Worker, type WorkflowHistory } from "../../worker.ts"
import type { WorkflowFunction } from "../../workflow/internal/run.ts"
import type { ActivityInvocation, RunRecord } from "./checkRun.ts"

const CLOSE = new Set(["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled", "WorkflowTerminated", "WorkflowContinuedAsNew"])
const seqOf = (e: JournalEntry): number | undefined => ("seq" in e ? e.seq : undefined)

/** Facts that must appear at most once, by identity (signals are counted separately: one name may be sent many times; upserts may repeat). */
const factKey = (e: JournalEntry): string | undefined => {
  switch (e.type) {
    case "SignalReceived":
    case "PatchMarker":
    case "SearchAttributesUpserted":
    case "MemoUpserted":
      return undefined
    case "ActivityRetrying":
      return `${e.type} seq ${e.seq} attempt ${e.attempt}`
    default: {
      const seq = seqOf(e)
      return seq === undefined ? e.type : `${e.type} seq ${seq}`
    }
  }
}

/** Each journal records each fact once, in a well-formed order. */
export const checkJournals = (run: RunRecord): Array<string> => {
  const problems: Array<string> = []
  for (const history of run.histories) {
    const where = `journal of ${history.workflowId}`
    const events = history.events
    const counts = new Map<string, number>()
    for (const e of events) {
      const key = factKey(e)
      if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    const repeated = [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} (${n} times)`)
    if (repeated.length > 0) problems.push(`${where} records a fact more than once: ${repeated.join(", ")}`)
    if (events[0]?.type !== "WorkflowStarted") problems.push(`${where} does not start with WorkflowStarted`)
    const closes = events.filter((e) => CLOSE.has(e.type))
    if (closes.length > 1 || (closes.length === 1 && closes[0] !== events[events.length - 1])) problems.push(`${where} has entries after its close, or closes twice`)
    const tasks = events.flatMap((e) => ("task" in e ? [e.task] : []))
    tasks.forEach((task, i) => {
      if (i > 0 && task !== tasks[i - 1] && task !== tasks[i - 1]! + 1) problems.push(`${where}: workflow task ${task} follows task ${tasks[i - 1]}`)
    })
    const started = events.filter((e) => e.type === "ActivityScheduled" || e.type === "TimerStarted" || e.type === "ChildStartInitiated")
    const seqs = started.map((e) => seqOf(e)!).sort((a, b) => a - b)
    if (seqs.some((s, i) => s !== i + 1)) problems.push(`${where}: durable calls are numbered ${JSON.stringify(seqs)}, not 1..${seqs.length}`)
    for (const e of events) {
      if (e.type === "ActivityScheduled") {
        const retries = events.flatMap((r) => (r.type === "ActivityRetrying" && r.seq === e.seq ? [r.attempt] : []))
        if (retries.some((a, i) => a !== i + 2)) problems.push(`${where}: retries of activity seq ${e.seq} are numbered ${JSON.stringify(retries)}`)
      }
    }
    const signals = new Map<string, number>()
    for (const e of events) if (e.type === "SignalReceived") signals.set(e.name, (signals.get(e.name) ?? 0) + 1)
    if (history.workflowId === run.rootWorkflowId) {
      for (const [name, n] of signals) {
        const sent = run.signalsSent[name] ?? 0
        if (n > sent) problems.push(`${where} records signal ${name} ${n} times, but it was sent ${sent} times (a duplicate delivery was not deduplicated)`)
      }
    }
  }
  return problems
}

/** The attempts each journal records: `workflowId/seq/attempt`, and those whose outcome says they ran. */
const recordedAttempts = (histories: ReadonlyArray<WorkflowHistory>) => {
  const recorded = new Set<string>()
  const ran = new Set<string>()
  for (const history of histories) {
    for (const e of history.events) {
      if (e.type !== "ActivityScheduled") continue
      const retries = history.events.filter((r) => r.type === "ActivityRetrying" && r.seq === e.seq) as Array<Extract<JournalEntry, { type: "ActivityRetrying" }>>
      const last = retries.length + 1
      for (let a = 1; a <= last; a++) recorded.add(`${history.workflowId}/${e.seq}/${a}`)
      for (const r of retries) if (r.failure.kind !== "timeout") ran.add(`${history.workflowId}/${e.seq}/${r.attempt - 1}`)
      const end = history.events.find((x) => (x.type === "ActivityCompleted" || x.type === "ActivityFailed") && x.seq === e.seq)
      if (end?.type === "ActivityCompleted" || (end?.type === "ActivityFailed" && end.failure.kind !== "timeout" && end.failure.cause?.kind !== "timeout" && end.failure.cause?.kind !== "cancelled")) {
        ran.add(`${history.workflowId}/${e.seq}/${last}`)
      }
    }
  }
  return { recorded, ran }
}

/**
 * Activity invocations equal the journaled attempts: no attempt runs that the
 * journal does not record, every attempt with a recorded outcome ran, and an
 * attempt runs more than once only when a fault allowed it (`duplicates` counts those).
 */
export const checkInvocations = (run: RunRecord, faultsAllowDuplicates: boolean): { problems: Array<string>; duplicates: number } => {
  const problems: Array<string> = []
  const { recorded, ran } = recordedAttempts(run.histories)
  const invoked = new Map<string, ActivityInvocation & { n: number }>()
  for (const i of run.invocations) {
    const key = `${i.workflowId}/${i.seq}/${i.attempt}`
    const known = invoked.get(key)
    invoked.set(key, { ...i, n: (known?.n ?? 0) + 1 })
  }
  const show = (key: string) => {
    const i = invoked.get(key)
    const [workflowId, seq, attempt] = key.split("/")
    return `${i?.activityType ?? "activity"} (workflow ${workflowId}, seq ${seq}, attempt ${attempt})`
  }
  const unrecorded = [...invoked.keys()].filter((k) => !recorded.has(k))
  if (unrecorded.length > 0) problems.push(`activity attempts ran that no journal records: ${unrecorded.map(show).join(", ")}`)
  const missing = [...ran].filter((k) => !invoked.has(k))
  if (missing.length > 0) problems.push(`the journal records outcomes of activity attempts that never ran: ${missing.map(show).join(", ")}`)
  let duplicates = 0
  for (const [key, i] of invoked) if (i.n > 1) duplicates += i.n - 1
  if (duplicates > 0 && !faultsAllowDuplicates) {
    const twice = [...invoked].filter(([, i]) => i.n > 1).map(([k, i]) => `${show(k)} ran ${i.n} times`)
    problems.push(`activity attempts ran more than once with no fault that allows it: ${twice.join(", ")}`)
  }
  return { problems, duplicates }
}

/** Cut points: the journal length after each workflow task. */
export const taskPrefixes = (events: ReadonlyArray<JournalEntry>): Array<{ readonly tasks: number; readonly length: number }> => {
  const tasks = splitTasks(events)
  return tasks.map((task, i) => ({ tasks: task.task, length: tasks[i + 1]?.historyLength ?? events.length }))
}

/** Replay every task-boundary prefix of `history` against `workflows`; the first failure, if any. */
export const replayPrefixes = async (
  workflows: Readonly<Record<string, WorkflowFunction>>,
  history: WorkflowHistory,
): Promise<{ readonly tasks: number; readonly error: Error } | undefined> => {
  for (const { tasks, length } of taskPrefixes(history.events)) {
    const error = await Worker.runReplayHistory({ workflows }, { ...history, events: history.events.slice(0, length) }).then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    )
    if (error !== undefined) return { tasks, error }
  }
  return undefined
}
