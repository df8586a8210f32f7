/**
 * A readable timeline of a workflow history, for demos, logs and debugging:
 *
 * ```
 *   +0.000s  [task 1] started with ["o-1"]
 *   +0.001s           → activity charge (seq 1)
 *   +0.203s           ↻ activity seq 1 attempt 2 in 200ms: NetworkTimeout: ...
 * ```
 */
import { formatMillis } from "../core/duration.ts"
import { describeFailure } from "../core/failure.ts"
import type { JournalEntry } from "../core/journal.ts"
import type { Payload } from "../core/payload.ts"

const show = (payload: Payload): string => (payload === undefined ? "undefined" : payload.length > 80 ? `${payload.slice(0, 77)}...` : payload)
const list = (payloads: ReadonlyArray<Payload>): string => `[${payloads.map(show).join(", ")}]`

/** One line describing `entry`. */
export const describeEntry = (entry: JournalEntry): string => {
  switch (entry.type) {
    case "WorkflowStarted":
      return `started with ${list(entry.args)}`
    case "ActivityScheduled":
      return `→ ${entry.local === true ? "local activity" : "activity"} ${entry.activityType} (seq ${entry.seq})`
    case "ActivityRetrying":
      return `↻ activity seq ${entry.seq} attempt ${entry.attempt} in ${formatMillis(entry.delayMs)}: ${describeFailure(entry.failure)}`
    case "ActivityCompleted":
      return `✓ activity seq ${entry.seq} returned ${show(entry.result)}`
    case "ActivityFailed":
      return `✗ activity seq ${entry.seq} failed: ${describeFailure(entry.failure)}`
    case "ActivityCancelRequested":
      return `⊘ cancel activity seq ${entry.seq}`
    case "TimerStarted":
      return `→ timer ${formatMillis(entry.durationMs)} (seq ${entry.seq})`
    case "TimerFired":
      return `✓ timer seq ${entry.seq} fired`
    case "TimerCancelled":
      return `⊘ timer seq ${entry.seq} cancelled`
    case "ChildStartInitiated":
      return `→ child ${entry.workflowType} ${entry.workflowId} (seq ${entry.seq})`
    case "ChildStarted":
      return `✓ child seq ${entry.seq} started (run ${entry.runId})`
    case "ChildStartFailed":
      return `✗ child seq ${entry.seq} could not start: ${describeFailure(entry.failure)}`
    case "ChildCompleted":
      return `✓ child seq ${entry.seq} returned ${show(entry.result)}`
    case "ChildFailed":
      return `✗ child seq ${entry.seq} failed: ${describeFailure(entry.failure)}`
    case "ChildCancelRequested":
      return `⊘ cancel child seq ${entry.seq}`
    case "ChildCancelDelivered":
      return `✓ child seq ${entry.seq} has the cancellation request`
    case "ExternalSignalInitiated":
      return `→ signal ${entry.name} to ${entry.workflowId} ${list(entry.args)} (seq ${entry.seq})`
    case "ExternalCancelInitiated":
      return `→ cancel ${entry.workflowId} (seq ${entry.seq})`
    case "ExternalRequestResolved":
      return entry.failure === undefined ? `✓ request seq ${entry.seq} delivered` : `✗ request seq ${entry.seq} failed: ${describeFailure(entry.failure)}`
    case "SignalReceived":
      return `⚑ signal ${entry.name} ${list(entry.args)}`
    case "CancelRequested":
      return `⊘ cancellation requested${entry.reason === undefined ? "" : `: ${entry.reason}`}`
    case "WorkflowCompleted":
      return `■ completed with ${show(entry.result)}`
    case "WorkflowFailed":
      return `■ failed: ${describeFailure(entry.failure)}`
    case "WorkflowCancelled":
      return "■ cancelled"
    case "WorkflowTerminated":
      return `■ terminated: ${entry.reason}`
    case "WorkflowTimedOut":
      return "■ timed out"
    case "WorkflowContinuedAsNew":
      return `■ continued as new: run ${entry.newRunId} with ${list(entry.args)}`
    case "PatchMarker":
      return `⚐ patch ${entry.patchId}`
    case "UpdateRequested":
      return `⚑ update ${entry.name} ${list(entry.args)} (id ${entry.updateId})`
    case "UpdateAccepted":
      return `→ update ${entry.name} accepted (id ${entry.updateId})`
    case "UpdateCompleted":
      return entry.failure === undefined
        ? `✓ update ${entry.updateId} returned ${show(entry.result)}`
        : `✗ update ${entry.updateId} failed: ${describeFailure(entry.failure)}`
    case "SearchAttributesUpserted":
      return `✎ search attributes ${changes(entry.searchAttributes, (attribute) => JSON.stringify(attribute.value))}`
    case "MemoUpserted":
      return `✎ memo ${changes(entry.memo, show)}`
  }
}

/** An upsert's changes: `Stage = "paid", Region removed`. */
const changes = <V>(updates: Readonly<Record<string, V | null>>, value: (v: V) => string): string =>
  Object.entries(updates).map(([name, v]) => (v === null ? `${name} removed` : `${name} = ${value(v)}`)).join(", ")

/** The timeline of `events`, times relative to the first entry (or `since`). */
export const formatHistory = (history: { readonly events: ReadonlyArray<JournalEntry> }, since?: number): string => {
  const origin = since ?? history.events[0]?.at ?? 0
  let lastTask = 0
  return history.events
    .map((entry) => {
      const time = `+${((entry.at - origin) / 1000).toFixed(3)}s`.padStart(10)
      const task = "task" in entry && entry.task !== lastTask ? `[task ${(lastTask = entry.task)}]` : ""
      return `${time}  ${task.padEnd(9)} ${describeEntry(entry)}`
    })
    .join("\n")
}
