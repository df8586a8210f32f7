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
import type { ActivityOptionsResolved, ParentClosePolicy, ParentRef, WorkflowIdReusePolicy } from "./messages.ts"
import type { Headers, Payload } from "./payload.ts"
import type { StoredAttributes } from "./searchAttributes.ts"

/** Search attributes to set (stored form) or, with `null`, remove. */
export type AttributeUpdates = Readonly<Record<string, StoredAttributes[string] | null>>

/** Memo values to set (payloads) or, with `null`, remove. */
export type MemoUpdates = Readonly<Record<string, Payload | null>>

/** `current` with an upsert's `updates` applied (a `null` removes its key): a new object. */
export const applyUpdates = <V>(current: Readonly<Record<string, V>> | undefined, updates: Readonly<Record<string, V | null>>): Readonly<Record<string, V>> => {
  const next: Record<string, V> = { ...current }
  for (const [name, value] of Object.entries(updates)) {
    if (value === null) delete next[name]
    else next[name] = value
  }
  return next
}

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
      /** The child's initial search attributes and memo (its `typedSearchAttributes` and `memo` options). */
      readonly searchAttributes?: StoredAttributes
      readonly memo?: Readonly<Record<string, Payload>>
      readonly runTimeoutMs?: number
      readonly executionTimeoutMs?: number
      readonly headers?: Headers
      /** Run the child as a cron workflow: each run a new run of the child id; the parent hears of the chain's end. */
      readonly cronSchedule?: string
      /** Whether the child may reuse the id of a closed run (or terminate an open one); absent: `ALLOW_DUPLICATE`. */
      readonly workflowIdReusePolicy?: WorkflowIdReusePolicy
      readonly staticSummary?: string
      readonly staticDetails?: string
    }
  /** Ask the child to cancel; `acknowledge`: the child reports when it has recorded the request (`ChildCancelDelivered`). */
  | { readonly type: "RequestCancelChild"; readonly seq: number; readonly acknowledge?: boolean }
  | { readonly type: "SignalExternal"; readonly seq: number; readonly workflowId: string; readonly runId?: string; readonly name: string; readonly args: ReadonlyArray<Payload>; readonly headers?: Headers }
  | { readonly type: "CancelExternal"; readonly seq: number; readonly workflowId: string; readonly runId?: string }
  | { readonly type: "CompleteWorkflow"; readonly result: Payload }
  | { readonly type: "FailWorkflow"; readonly failure: FailureInfo }
  | { readonly type: "CancelWorkflow" }
  | {
      readonly type: "ContinueAsNew"
      readonly runId: string
      readonly workflowType: string
      readonly taskQueue: string
      readonly args: ReadonlyArray<Payload>
      /** The next run's search attributes and memo; absent: this run's (inherited). */
      readonly searchAttributes?: StoredAttributes
      readonly memo?: Readonly<Record<string, Payload>>
      readonly headers?: Headers
      /** The next run's run timeout; absent: this run's (inherited). */
      readonly runTimeoutMs?: number
    }
  /** `patched(id)` / `deprecatePatch(id)` took the new code path here. */
  | { readonly type: "Patch"; readonly patchId: string }
  /** An update's validator passed: the handler runs (journaled). */
  | { readonly type: "AcceptUpdate"; readonly updateId: string; readonly name: string }
  /** An update was rejected (its validator threw, or no handler): never journaled, and its job is left out of the journal. */
  | { readonly type: "RejectUpdate"; readonly updateId: string; readonly failure: FailureInfo }
  /** An accepted update's handler returned or threw. */
  | { readonly type: "CompleteUpdate"; readonly updateId: string; readonly result?: Payload; readonly failure?: FailureInfo }
  /** `upsertSearchAttributes(...)`: merged into the run's search attributes (and its index entries). */
  | { readonly type: "UpsertSearchAttributes"; readonly searchAttributes: AttributeUpdates }
  /** `upsertMemo(...)`: merged into the run's memo. */
  | { readonly type: "UpsertMemo"; readonly memo: MemoUpdates }

/** The commands the journal records (all but rejections, which leave no history, as in Temporal). */
export type JournaledCommand = Exclude<WorkflowCommand, { readonly type: "RejectUpdate" }>

/** Is this command journaled? */
export const isJournaled = (command: WorkflowCommand): command is JournaledCommand => command.type !== "RejectUpdate"

/** An event delivered to workflow code. */
export type Job =
  | {
      readonly type: "WorkflowStarted"
      readonly at: number
      readonly args: ReadonlyArray<Payload>
      readonly parent?: ParentRef
      /** The run's search attributes and memo as it started (what `workflowInfo()` shows before any upsert). */
      readonly searchAttributes?: StoredAttributes
      readonly memo?: Readonly<Record<string, Payload>>
      readonly headers?: Headers
    }
  | { readonly type: "ActivityCompleted"; readonly at: number; readonly seq: number; readonly result: Payload }
  | { readonly type: "ActivityFailed"; readonly at: number; readonly seq: number; readonly failure: FailureInfo }
  | { readonly type: "TimerFired"; readonly at: number; readonly seq: number }
  | { readonly type: "ChildStarted"; readonly at: number; readonly seq: number; readonly runId: string }
  | { readonly type: "ChildStartFailed"; readonly at: number; readonly seq: number; readonly failure: FailureInfo }
  | { readonly type: "ChildCompleted"; readonly at: number; readonly seq: number; readonly result: Payload }
  | { readonly type: "ChildFailed"; readonly at: number; readonly seq: number; readonly failure: FailureInfo }
  /** Child `seq` recorded this run's request to cancel it. */
  | { readonly type: "ChildCancelDelivered"; readonly at: number; readonly seq: number }
  | { readonly type: "SignalReceived"; readonly at: number; readonly name: string; readonly args: ReadonlyArray<Payload>; readonly headers?: Headers }
  | { readonly type: "CancelRequested"; readonly at: number; readonly reason?: string }
  | { readonly type: "UpdateRequested"; readonly at: number; readonly updateId: string; readonly name: string; readonly args: ReadonlyArray<Payload>; readonly headers?: Headers }
  /** External request `seq` reached its target (no `failure`) or could not (`failure`). */
  | { readonly type: "ExternalRequestResolved"; readonly at: number; readonly seq: number; readonly failure?: FailureInfo }

/** A job as journaled: with the number of the workflow task that delivered it. */
export type JobEntry = Job & { readonly task: number }

/** A command as journaled. */
export type CommandEntry =
  /** `local`: a local activity (`proxyLocalActivities`), run by the workflow worker in the scheduling step. */
  | { readonly type: "ActivityScheduled"; readonly at: number; readonly seq: number; readonly activityType: string; readonly args: ReadonlyArray<Payload>; readonly local?: true }
  | { readonly type: "TimerStarted"; readonly at: number; readonly seq: number; readonly durationMs: number }
  | { readonly type: "TimerCancelled"; readonly at: number; readonly seq: number }
  | { readonly type: "ActivityCancelRequested"; readonly at: number; readonly seq: number }
  | { readonly type: "ChildStartInitiated"; readonly at: number; readonly seq: number; readonly workflowType: string; readonly workflowId: string; readonly args: ReadonlyArray<Payload> }
  | { readonly type: "ChildCancelRequested"; readonly at: number; readonly seq: number }
  | { readonly type: "ExternalSignalInitiated"; readonly at: number; readonly seq: number; readonly workflowId: string; readonly name: string; readonly args: ReadonlyArray<Payload> }
  | { readonly type: "ExternalCancelInitiated"; readonly at: number; readonly seq: number; readonly workflowId: string }
  | { readonly type: "WorkflowCompleted"; readonly at: number; readonly result: Payload }
  | { readonly type: "WorkflowFailed"; readonly at: number; readonly failure: FailureInfo }
  | { readonly type: "WorkflowCancelled"; readonly at: number }
  | { readonly type: "WorkflowContinuedAsNew"; readonly at: number; readonly newRunId: string; readonly workflowType: string; readonly args: ReadonlyArray<Payload> }
  | { readonly type: "PatchMarker"; readonly at: number; readonly patchId: string }
  | { readonly type: "UpdateAccepted"; readonly at: number; readonly updateId: string; readonly name: string }
  | { readonly type: "UpdateCompleted"; readonly at: number; readonly updateId: string; readonly result?: Payload; readonly failure?: FailureInfo }
  | { readonly type: "SearchAttributesUpserted"; readonly at: number; readonly searchAttributes: AttributeUpdates }
  | { readonly type: "MemoUpserted"; readonly at: number; readonly memo: MemoUpdates }

/** A fact recorded for people; replay skips it. */
export type NoteEntry =
  | { readonly type: "ActivityRetrying"; readonly at: number; readonly seq: number; readonly attempt: number; readonly failure: FailureInfo; readonly delayMs: number }
  | { readonly type: "WorkflowTerminated"; readonly at: number; readonly reason: string }
  /** The run reached its run timeout or its execution's timeout. */
  | { readonly type: "WorkflowTimedOut"; readonly at: number }

/** One journal entry. */
export type JournalEntry = JobEntry | CommandEntry | NoteEntry

const JOB_TYPES: ReadonlySet<string> = new Set([
  "WorkflowStarted", "ActivityCompleted", "ActivityFailed", "TimerFired", "ChildStarted",
  "ChildStartFailed", "ChildCompleted", "ChildFailed", "SignalReceived", "CancelRequested", "ExternalRequestResolved",
  "UpdateRequested", "ChildCancelDelivered",
])
const NOTE_TYPES: ReadonlySet<string> = new Set(["ActivityRetrying", "WorkflowTerminated", "WorkflowTimedOut"])

/** Is this entry a job (delivered to code)? */
export const isJobEntry = (entry: JournalEntry): entry is JobEntry => JOB_TYPES.has(entry.type)
/** Is this entry a note (ignored by replay)? */
export const isNoteEntry = (entry: JournalEntry): entry is NoteEntry => NOTE_TYPES.has(entry.type)
/** Is this entry a recorded command? */
export const isCommandEntry = (entry: JournalEntry): entry is CommandEntry => !isJobEntry(entry) && !isNoteEntry(entry)

/** The journal form of a command, stamped with the step's time. */
export const commandEntry = (command: JournaledCommand, at: number): CommandEntry => {
  switch (command.type) {
    case "ScheduleActivity":
      return command.options.local === undefined
        ? { type: "ActivityScheduled", at, seq: command.seq, activityType: command.activityType, args: command.args }
        : { type: "ActivityScheduled", at, seq: command.seq, activityType: command.activityType, args: command.args, local: true }
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
    case "SignalExternal":
      return { type: "ExternalSignalInitiated", at, seq: command.seq, workflowId: command.workflowId, name: command.name, args: command.args }
    case "CancelExternal":
      return { type: "ExternalCancelInitiated", at, seq: command.seq, workflowId: command.workflowId }
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
    case "AcceptUpdate":
      return { type: "UpdateAccepted", at, updateId: command.updateId, name: command.name }
    case "CompleteUpdate":
      return {
        type: "UpdateCompleted",
        at,
        updateId: command.updateId,
        ...(command.result === undefined ? {} : { result: command.result }),
        ...(command.failure === undefined ? {} : { failure: command.failure }),
      }
    case "UpsertSearchAttributes":
      return { type: "SearchAttributesUpserted", at, searchAttributes: command.searchAttributes }
    case "UpsertMemo":
      return { type: "MemoUpserted", at, memo: command.memo }
  }
}

/** What a command is, for determinism checks and messages: `activity charge #3`. */
export const describeCall = (entry: CommandEntry): string => {
  switch (entry.type) {
    case "ActivityScheduled":
      return `${entry.local === true ? "local activity" : "activity"} ${entry.activityType} (seq ${entry.seq})`
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
    case "ExternalSignalInitiated":
      return `signal ${entry.name} to workflow ${entry.workflowId} (seq ${entry.seq})`
    case "ExternalCancelInitiated":
      return `cancellation of workflow ${entry.workflowId} (seq ${entry.seq})`
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
    case "UpdateAccepted":
      return `update ${entry.name} accepted (id ${entry.updateId})`
    case "UpdateCompleted":
      return `update completion (id ${entry.updateId})`
    case "SearchAttributesUpserted":
      return `search attribute upsert (${Object.keys(entry.searchAttributes).join(", ")})`
    case "MemoUpserted":
      return `memo upsert (${Object.keys(entry.memo).join(", ")})`
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
      return made.type === "ActivityScheduled" && recorded.seq === made.seq && recorded.activityType === made.activityType && recorded.local === made.local
    case "ChildStartInitiated":
      return made.type === "ChildStartInitiated" && recorded.seq === made.seq && recorded.workflowType === made.workflowType
    case "ExternalSignalInitiated":
      return made.type === "ExternalSignalInitiated" && recorded.seq === made.seq && recorded.workflowId === made.workflowId && recorded.name === made.name
    case "ExternalCancelInitiated":
      return made.type === "ExternalCancelInitiated" && recorded.seq === made.seq && recorded.workflowId === made.workflowId
    case "TimerStarted":
    case "TimerCancelled":
    case "ActivityCancelRequested":
    case "ChildCancelRequested":
      return "seq" in made && recorded.seq === made.seq
    case "WorkflowCompleted":
    case "WorkflowFailed":
    case "WorkflowCancelled":
    case "WorkflowContinuedAsNew":
    case "SearchAttributesUpserted":
    case "MemoUpserted":
      return true
    case "PatchMarker":
      return made.type === "PatchMarker" && recorded.patchId === made.patchId
    case "UpdateAccepted":
      return made.type === "UpdateAccepted" && recorded.updateId === made.updateId && recorded.name === made.name
    case "UpdateCompleted":
      return made.type === "UpdateCompleted" && recorded.updateId === made.updateId
  }
}

/** Encode a journal entry for the store. */
export const encodeJournalEntry = (entry: JournalEntry): string => JSON.stringify(entry)
