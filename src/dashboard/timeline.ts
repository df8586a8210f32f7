/**
 * The dashboard's timeline of one run, derived from its history: one lane
 * per durable call (each activity, timer, child workflow), plus lanes for
 * the workflow itself, signals and updates; each lane holds bars over time —
 * every activity attempt and the backoff before the next, a timer from start
 * to fire, a child from initiation to its outcome, a signal as an instant.
 * Pure: the caller passes `now`, where anything still open ends.
 */
import { describeFailure, type FailureInfo, rootCause } from "../core/failure.ts"
import type { JournalEntry } from "../core/journal.ts"

/** What a bar stands for. */
export type BarKind = "workflow" | "attempt" | "backoff" | "timer" | "child" | "signal" | "update"

/** How a bar ended (`open`: still running at `now`). */
export type BarOutcome = "completed" | "failed" | "cancelled" | "open" | "instant"

/** One bar of the timeline; times are epoch ms. */
export interface TimelineBar {
  readonly lane: string
  readonly kind: BarKind
  readonly label: string
  readonly start: number
  readonly end: number
  readonly outcome: BarOutcome
  /** Why it failed, what it returned: one line for a tooltip. */
  readonly detail?: string
}

/** A run's timeline: its lanes in the order they first appear, and their bars. */
export interface Timeline {
  readonly origin: number
  readonly end: number
  readonly lanes: ReadonlyArray<string>
  readonly bars: ReadonlyArray<TimelineBar>
}

interface Open {
  lane: string
  kind: BarKind
  label: string
  start: number
}

const failedOrCancelled = (failure: FailureInfo): BarOutcome => (rootCause(failure).kind === "cancelled" ? "cancelled" : "failed")

/** The timeline of `events`; bars still open end at `now`. */
export const timelineOf = (events: ReadonlyArray<JournalEntry>, now: number): Timeline => {
  const lanes: Array<string> = []
  const bars: Array<TimelineBar> = []
  const open = new Map<string, Open>()
  const laneBySeq = new Map<number, string>()
  const lane = (name: string): string => {
    if (!lanes.includes(name)) lanes.push(name)
    return name
  }
  const begin = (key: string, bar: Open): void => void open.set(key, bar)
  const finish = (key: string, end: number, outcome: BarOutcome, detail?: string): void => {
    const bar = open.get(key)
    if (bar === undefined) return
    open.delete(key)
    bars.push({ ...bar, end: Math.max(end, bar.start), outcome, ...(detail === undefined ? {} : { detail }) })
  }
  const origin = events[0]?.at ?? now
  let closedAt: number | undefined
  for (const entry of events) {
    switch (entry.type) {
      case "WorkflowStarted":
        begin("workflow", { lane: lane("workflow"), kind: "workflow", label: "run", start: entry.at })
        break
      case "WorkflowCompleted":
        closedAt = entry.at
        finish("workflow", entry.at, "completed")
        break
      case "WorkflowFailed":
        closedAt = entry.at
        finish("workflow", entry.at, "failed", describeFailure(entry.failure))
        break
      case "WorkflowCancelled":
      case "WorkflowTerminated":
      case "WorkflowTimedOut":
      case "WorkflowContinuedAsNew":
        closedAt = entry.at
        finish("workflow", entry.at, entry.type === "WorkflowContinuedAsNew" ? "completed" : "cancelled", entry.type.slice("Workflow".length))
        break
      case "ActivityScheduled": {
        const name = lane(`activity ${entry.activityType} #${entry.seq}`)
        laneBySeq.set(entry.seq, name)
        begin(`seq ${entry.seq}`, { lane: name, kind: "attempt", label: "attempt 1", start: entry.at })
        break
      }
      case "ActivityRetrying": {
        const name = laneBySeq.get(entry.seq) ?? lane(`activity #${entry.seq}`)
        finish(`seq ${entry.seq}`, entry.at, "failed", describeFailure(entry.failure))
        const resumes = entry.at + entry.delayMs
        bars.push({ lane: name, kind: "backoff", label: `backoff before attempt ${entry.attempt}`, start: entry.at, end: resumes, outcome: resumes > now ? "open" : "completed" })
        begin(`seq ${entry.seq}`, { lane: name, kind: "attempt", label: `attempt ${entry.attempt}`, start: resumes })
        break
      }
      case "ActivityCompleted":
        finish(`seq ${entry.seq}`, entry.at, "completed")
        break
      case "ActivityFailed":
        finish(`seq ${entry.seq}`, entry.at, failedOrCancelled(entry.failure), describeFailure(entry.failure))
        break
      case "TimerStarted": {
        const name = lane(`timer #${entry.seq}`)
        laneBySeq.set(entry.seq, name)
        begin(`seq ${entry.seq}`, { lane: name, kind: "timer", label: `sleep ${entry.durationMs} ms`, start: entry.at })
        break
      }
      case "TimerFired":
        finish(`seq ${entry.seq}`, entry.at, "completed")
        break
      case "TimerCancelled":
        finish(`seq ${entry.seq}`, entry.at, "cancelled")
        break
      case "ChildStartInitiated": {
        const name = lane(`child ${entry.workflowType} #${entry.seq}`)
        laneBySeq.set(entry.seq, name)
        begin(`seq ${entry.seq}`, { lane: name, kind: "child", label: entry.workflowId, start: entry.at })
        break
      }
      case "ChildCompleted":
        finish(`seq ${entry.seq}`, entry.at, "completed")
        break
      case "ChildFailed":
      case "ChildStartFailed":
        finish(`seq ${entry.seq}`, entry.at, failedOrCancelled(entry.failure), describeFailure(entry.failure))
        break
      case "SignalReceived":
        bars.push({ lane: lane("signals"), kind: "signal", label: entry.name, start: entry.at, end: entry.at, outcome: "instant" })
        break
      case "UpdateRequested":
        begin(`update ${entry.updateId}`, { lane: lane("updates"), kind: "update", label: entry.name, start: entry.at })
        break
      case "UpdateCompleted":
        finish(`update ${entry.updateId}`, entry.at, entry.failure === undefined ? "completed" : "failed", entry.failure === undefined ? undefined : describeFailure(entry.failure))
        break
      default:
        break
    }
  }
  const end = closedAt ?? Math.max(now, events.at(-1)?.at ?? now)
  for (const [key, bar] of [...open]) {
    // A retry whose backoff has not elapsed yet has no attempt to show.
    if (bar.start >= end && bar.kind === "attempt") open.delete(key)
    else finish(key, end, "open")
  }
  bars.sort((a, b) => lanes.indexOf(a.lane) - lanes.indexOf(b.lane) || a.start - b.start)
  return { origin, end: Math.max(end, ...bars.map((bar) => bar.end)), lanes, bars }
}
