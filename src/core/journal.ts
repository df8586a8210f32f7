/**
 * The journal (history) of one workflow run, and the commands workflow code
 * produces.
 *
 * Three sorts of entries, in the order they happened:
 * - **jobs**: events delivered to workflow code (`WorkflowStarted`,
 *   `ActivityCompleted`, `SignalReceived`, ...). Each carries `task`, the
 *   number of the workflow task (activation) that delivered it; replay
 *   re-delivers exactly the same batches.
 * - **commands**: durable calls the code made (`ActivityScheduled`,
 *   `TimerStarted`, `ChildStartInitiated`, ...), with their kind and name, so a
 *   replay can check the code still makes the same calls in the same order.
 * - **notes**: facts for people (`ActivityRetrying`, `WorkflowTerminated`),
 *   ignored by replay.
 */
import type { FailureInfo } from "./failure.ts"
import type { ActivityOptionsResolved, ParentClosePolicy, ParentRef } from "./messages.ts"
import type { Headers, Payload } from "./payload.ts"

/** A durable call made by workflow code during one activation. */
export type WorkflowCommand =
  | {
      readonly type: "ScheduleActivity"
      readonly seq: number
      readonly activityType: string
      readonly args: ReadonlyArray<Payload>
      readonly options: ActivityOptionsResolved
      readonly headers?: Headers
    }
  | { readonly type: "StartTimer"; readonly seq: number; readonly durationMs: number }
  | { readonly type: "CancelTimer"; readonly seq: number }
  | { readonly type: "RequestCancelActivity"; readonly seq: number }
  | {
      readonly type: "StartChild"
      readonly seq: number
      readonly workflowType: string
      readonly workflowId: string
      readonly taskQueue: string
      readonly args: ReadonlyArray<Payload>
      /** What happens to the child when this run closes; absent: `TERMINATE`. */
      readonly parentClosePolicy?: ParentClosePolicy
      readonly headers?: Headers
    }
  | { readonly type: "RequestCancelChild"; readonly seq: number }
  | { readonly type: "CompleteWorkflow"; readonly result: Payload }
  | { readonly type: "FailWorkflow"; readonly failure: FailureInfo }
  | { readonly type: "CancelWorkflow" }
  | {
      readonly type: "ContinueAsNew"
      readonly runId: string
      readonly workflowType: string
      readonly taskQueue: string
      readonly args: ReadonlyArray<Payload>
      readonly headers?: Headers
    }
  /** `patched(id)` / `deprecatePatch(id)` took the new code path here. */
  | { readonly type: "Patch"; readonly patchId: string }

/** An event delivered to workflow code. */
export type Job =
  | { readonly type: "WorkflowStarted"; readonly at: number; readonly args: ReadonlyArray<Payload>; readonly parent?: ParentRef; readonly headers?: Headers }
  | { readonly type: "ActivityCompleted"; readonly at: number; readonly seq: number; readonly result: Payload }
  | { readonly type: "ActivityFailed"; readonly at: number; readonly seq: number; readonly failure: FailureInfo }
  | { readonly type: "TimerFired"; readonly at: number; readonly seq: number }
  | { readonly type: "ChildStarted"; readonly at: number; readonly seq: number; readonly runId: string }
  | { readonly type: "ChildStartFailed"; readonly at: number; readonly seq: number; readonly failure: FailureInfo }
  | { readonly type: "ChildCompleted"; readonly at: number; readonly seq: number; readonly result: Payload }
  | { readonly type: "ChildFailed"; readonly at: number; readonly seq: number; readonly failure: FailureInfo }
  | { readonly type: "SignalReceived"; readonly at: number; readonly name: string; readonly args: ReadonlyArray<Payload>; readonly headers?: Headers }
  | { readonly type: "CancelRequested"; readonly at: number; readonly reason?: string }

/** A job as journaled: with the number of the workflow task that delivered it. */
export type JobEntry = Job & { readonly task: number }

/** A command as journaled. */
export type CommandEntry =
  | { readonly type: "ActivityScheduled"; readonly at: number; readonly seq: number; readonly activityType: string; readonly args: ReadonlyArray<Payload> }
  | { readonly type: "TimerStarted"; readonly at: number; readonly seq: number; readonly durationMs: number }
  | { readonly type: "TimerCancelled"; readonly at: number; readonly seq: number }
  | { readonly type: "ActivityCancelRequested"; readonly at: number; readonly seq: number }
  | { readonly type: "ChildStartInitiated"; readonly at: number; readonly seq: number; readonly workflowType: string; readonly workflowId: string; readonly args: ReadonlyArray<Payload> }
  | { readonly type: "ChildCancelRequested"; readonly at: number; readonly seq: number }
  | { readonly type: "WorkflowCompleted"; readonly at: number; readonly result: Payload }
  | { readonly type: "WorkflowFailed"; readonly at: number; readonly failure: FailureInfo }
  | { readonly type: "WorkflowCancelled"; readonly at: number }
  | { readonly type: "WorkflowContinuedAsNew"; readonly at: number; readonly newRunId: string; readonly workflowType: string; readonly args: ReadonlyArray<Payload> }
  | { readonly type: "PatchMarker"; readonly at: number; readonly patchId: string }

/** A fact recorded for people; replay skips it. */
export type NoteEntry =
  | { readonly type: "ActivityRetrying"; readonly at: number; readonly seq: number; readonly attempt: number; readonly failure: FailureInfo; readonly delayMs: number }
  | { readonly type: "WorkflowTerminated"; readonly at: number; readonly reason: string }

/** One journal entry. */
export type JournalEntry = JobEntry | CommandEntry | NoteEntry

const JOB_TYPES: ReadonlySet<string> = new Set([
  "WorkflowStarted", "ActivityCompleted", "ActivityFailed", "TimerFired", "ChildStarted",
  "ChildStartFailed", "ChildCompleted", "ChildFailed", "SignalReceived", "CancelRequested",
])
const NOTE_TYPES: ReadonlySet<string> = new Set(["ActivityRetrying", "WorkflowTerminated"])

/** Is this entry a job (delivered to code)? */
export const isJobEntry = (entry: JournalEntry): entry is JobEntry => JOB_TYPES.has(entry.type)
/** Is this entry a note (ignored by replay)? */
export const isNoteEntry = (entry: JournalEntry): entry is NoteEntry => NOTE_TYPES.has(entry.type)
/** Is this entry a recorded command? */
export const isCommandEntry = (entry: JournalEntry): entry is CommandEntry => !isJobEntry(entry) && !isNoteEntry(entry)

/** The journal form of a command, stamped with the step's time. */
export const commandEntry = (command: WorkflowCommand, at: number): CommandEntry => {
  switch (command.type) {
    case "ScheduleActivity":
      return { type: "ActivityScheduled", at, seq: command.seq, activityType: command.activityType, args: command.args }
    case "StartTimer":
      return { type: "TimerStarted", at, seq: command.seq, durationMs: command.durationMs }
    case "CancelTimer":
      return { type: "TimerCancelled", at, seq: command.seq }
    case "RequestCancelActivity":
      return { type: "ActivityCancelRequested", at, seq: command.seq }
    case "StartChild":
      return { type: "ChildStartInitiated", at, seq: command.seq, workflowType: command.workflowType, workflowId: command.workflowId, args: command.args }
    case "RequestCancelChild":
      return { type: "ChildCancelRequested", at, seq: command.seq }
    case "CompleteWorkflow":
      return { type: "WorkflowCompleted", at, result: command.result }
    case "FailWorkflow":
      return { type: "WorkflowFailed", at, failure: command.failure }
    case "CancelWorkflow":
      return { type: "WorkflowCancelled", at }
    case "ContinueAsNew":
      return { type: "WorkflowContinuedAsNew", at, newRunId: command.runId, workflowType: command.workflowType, args: command.args }
    case "Patch":
      return { type: "PatchMarker", at, patchId: command.patchId }
  }
}

/** What a command is, for determinism checks and messages: `activity charge #3`. */
export const describeCall = (entry: CommandEntry): string => {
  switch (entry.type) {
    case "ActivityScheduled":
      return `activity ${entry.activityType} (seq ${entry.seq})`
    case "ChildStartInitiated":
      return `child workflow ${entry.workflowType} (seq ${entry.seq})`
    case "TimerStarted":
      return `timer (seq ${entry.seq})`
    case "TimerCancelled":
      return `timer cancellation (seq ${entry.seq})`
    case "ActivityCancelRequested":
      return `activity cancellation (seq ${entry.seq})`
    case "ChildCancelRequested":
      return `child cancellation (seq ${entry.seq})`
    case "WorkflowCompleted":
      return "workflow completion"
    case "WorkflowFailed":
      return "workflow failure"
    case "WorkflowCancelled":
      return "workflow cancellation"
    case "WorkflowContinuedAsNew":
      return `continue-as-new (${entry.workflowType})`
    case "PatchMarker":
      return `patch marker ${entry.patchId}`
  }
}

/**
 * Does recorded command `recorded` describe the same durable call as `made`?
 * Kind, sequence number and name must agree; arguments may differ (as in Temporal).
 */
export const sameCall = (recorded: CommandEntry, made: CommandEntry): boolean => {
  if (recorded.type !== made.type) return false
  switch (recorded.type) {
    case "ActivityScheduled":
      return made.type === "ActivityScheduled" && recorded.seq === made.seq && recorded.activityType === made.activityType
    case "ChildStartInitiated":
      return made.type === "ChildStartInitiated" && recorded.seq === made.seq && recorded.workflowType === made.workflowType
    case "TimerStarted":
    case "TimerCancelled":
    case "ActivityCancelRequested":
    case "ChildCancelRequested":
      return "seq" in made && recorded.seq === made.seq
    case "WorkflowCompleted":
    case "WorkflowFailed":
    case "WorkflowCancelled":
    case "WorkflowContinuedAsNew":
      return true
    case "PatchMarker":
      return made.type === "PatchMarker" && recorded.patchId === made.patchId
  }
}

/** Encode a journal entry for the store. */
export const encodeJournalEntry = (entry: JournalEntry): string => JSON.stringify(entry)
