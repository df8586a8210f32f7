/**
 * Decoding what comes back from the store: stream message bodies, execution
 * records and journal entries. Each is JSON checked against a `Schema` that
 * mirrors the interfaces of `messages.ts`, `state.ts` and `journal.ts`, so
 * nothing past this boundary meets a missing field or a value of the wrong
 * type. A body that is not JSON, or does not match, is an `Undecodable` with
 * the reason; the interpreter dead-letters such a message at once.
 *
 * The schemas only *check*: a value that passes is returned as parsed, with
 * any extra fields a newer version wrote left in place.
 *
 * Payloads are JSON text or absent: a payload field may be missing (JSON
 * drops `undefined`), and an `undefined` in an argument list comes back as
 * `null` (which `payload.ts` `decode` reads as `undefined` again).
 */
import { Result, Schema } from "effect"
import type { FailureInfo } from "./failure.ts"
import type { JournalEntry } from "./journal.ts"
import type { ActivityTask, TaskToken, WorkflowMessage } from "./messages.ts"
import type { ExecutionState } from "./state.ts"

/** Why a stored string could not be decoded. */
export interface Undecodable {
  readonly reason: string
}

const PayloadField = Schema.optional(Schema.String)
const PayloadList = Schema.Array(Schema.Union([Schema.String, Schema.Null, Schema.Undefined]))
const Headers = Schema.optional(Schema.Record(Schema.String, Schema.String))
const Seq = Schema.Int
const Time = Schema.Finite

interface FailureShape {
  readonly kind: string
  readonly message: string
  readonly type?: string | undefined
  readonly nonRetryable?: boolean | undefined
  readonly details?: ReadonlyArray<string | null | undefined> | undefined
  readonly stack?: string | undefined
  readonly cause?: FailureShape | undefined
  readonly activityType?: string | undefined
  readonly workflowType?: string | undefined
  readonly workflowId?: string | undefined
  readonly timeoutType?: string | undefined
  readonly category?: string | undefined
}

const Failure: Schema.Codec<FailureShape> = Schema.Struct({
  kind: Schema.Literals(["application", "activity", "child", "cancelled", "terminated", "timeout"]),
  message: Schema.String,
  type: Schema.optional(Schema.String),
  nonRetryable: Schema.optional(Schema.Boolean),
  details: Schema.optional(PayloadList),
  stack: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.suspend((): Schema.Codec<FailureShape> => Failure)),
  activityType: Schema.optional(Schema.String),
  workflowType: Schema.optional(Schema.String),
  workflowId: Schema.optional(Schema.String),
  timeoutType: Schema.optional(Schema.Literals(["START_TO_CLOSE", "SCHEDULE_TO_CLOSE", "HEARTBEAT"])),
  category: Schema.optional(Schema.Literal("BENIGN")),
})

const ParentRef = Schema.Struct({ workflowId: Schema.String, runId: Schema.String, taskQueue: Schema.String, seq: Seq })
const ExternalRequester = Schema.Struct({ ...ParentRef.fields, sentOn: Schema.String })

const RetryPolicy = Schema.Struct({
  initialIntervalMs: Time,
  backoffCoefficient: Schema.Finite,
  maximumIntervalMs: Time,
  maximumAttempts: Schema.Int,
  nonRetryableErrorTypes: Schema.Array(Schema.String),
})

const ActivityOptions = Schema.Struct({
  taskQueue: Schema.String,
  startToCloseMs: Schema.optional(Time),
  scheduleToCloseMs: Schema.optional(Time),
  heartbeatTimeoutMs: Schema.optional(Time),
  retry: RetryPolicy,
  cancellationType: Schema.optional(Schema.Literals(["WAIT_CANCELLATION_COMPLETED", "ABANDON"])),
  local: Schema.optional(Schema.Struct({ retryThresholdMs: Time })),
})

const TimerPurpose = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("sleep"), seq: Seq }),
  Schema.Struct({ kind: Schema.Literals(["activityRetry", "activityTimeout", "activityHeartbeat"]), seq: Seq, attempt: Schema.Int }),
  Schema.Struct({ kind: Schema.Literal("taskRetry"), attempt: Schema.Int }),
  Schema.Struct({ kind: Schema.Literals(["workflowTimeout", "cronStart"]) }),
])

const ClosedStatus = Schema.Literals(["COMPLETED", "FAILED", "CANCELLED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT"])

const RunTimeouts = { runTimeoutMs: Schema.optional(Time), executionTimeoutMs: Schema.optional(Time), executionExpiresAt: Schema.optional(Time) }

const type = <T extends string>(name: T) => Schema.Literal(name)

const SearchAttribute = Schema.Struct({
  type: Schema.Literals(["KEYWORD", "TEXT", "INT", "DOUBLE", "BOOL", "DATETIME", "KEYWORD_LIST"]),
  value: Schema.Union([Schema.String, Schema.Finite, Schema.Boolean, Schema.Array(Schema.String)]),
})
const SearchAttributes = Schema.Record(Schema.String, SearchAttribute)
const Memo = Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Undefined]))
/** An upsert's changes: a value to set, or `null` to remove the key. */
const SearchAttributeUpdates = Schema.Record(Schema.String, Schema.Union([SearchAttribute, Schema.Null]))
const MemoUpdates = Schema.Record(Schema.String, Schema.Union([Schema.String, Schema.Null]))

/** The schema of a workflow stream message (`WorkflowMessage`). */
export const WorkflowMessageSchema = Schema.Union([
  Schema.Struct({
    type: type("Start"),
    workflowId: Schema.String,
    runId: Schema.String,
    workflowType: Schema.String,
    taskQueue: Schema.String,
    args: PayloadList,
    parent: Schema.optional(ParentRef),
    searchAttributes: Schema.optional(SearchAttributes),
    memo: Schema.optional(Memo),
    ...RunTimeouts,
    cronSchedule: Schema.optional(Schema.String),
    headers: Headers,
    record: Schema.optional(Schema.Struct({ version: Schema.Int, token: Schema.optional(Schema.String), startTime: Time })),
    workflowIdReusePolicy: Schema.optional(Schema.Literals(["ALLOW_DUPLICATE", "ALLOW_DUPLICATE_FAILED_ONLY", "REJECT_DUPLICATE", "TERMINATE_IF_RUNNING"])),
    startDelayMs: Schema.optional(Time),
    staticSummary: Schema.optional(Schema.String),
    staticDetails: Schema.optional(Schema.String),
  }),
  Schema.Struct({ type: type("ActivityCompleted"), runId: Schema.String, seq: Seq, attempt: Schema.Int, result: PayloadField }),
  Schema.Struct({ type: type("ActivityFailed"), runId: Schema.String, seq: Seq, attempt: Schema.Int, failure: Failure, heartbeatDetails: PayloadField }),
  Schema.Struct({ type: type("TimerFired"), runId: Schema.String, timer: TimerPurpose }),
  Schema.Struct({ type: type("ActivityHeartbeat"), runId: Schema.String, seq: Seq, attempt: Schema.Int, details: PayloadField }),
  Schema.Struct({ type: type("ChildStarted"), runId: Schema.String, seq: Seq, childRunId: Schema.String }),
  Schema.Struct({ type: type("ChildStartFailed"), runId: Schema.String, seq: Seq, failure: Failure }),
  Schema.Struct({
    type: type("ChildClosed"),
    runId: Schema.String,
    seq: Seq,
    status: ClosedStatus,
    result: PayloadField,
    failure: Schema.optional(Failure),
  }),
  Schema.Struct({
    type: type("Signal"),
    runId: Schema.optional(Schema.String),
    signalId: Schema.String,
    name: Schema.String,
    args: PayloadList,
    headers: Headers,
    requester: Schema.optional(ExternalRequester),
  }),
  Schema.Struct({
    type: type("CancelRequested"),
    runId: Schema.optional(Schema.String),
    reason: Schema.optional(Schema.String),
    fromParent: Schema.optional(ParentRef),
    requester: Schema.optional(ExternalRequester),
    acknowledge: Schema.optional(Schema.Boolean),
  }),
  Schema.Struct({ type: type("ChildCancelDelivered"), runId: Schema.String, seq: Seq }),
  Schema.Struct({ type: type("Terminate"), runId: Schema.optional(Schema.String), reason: Schema.String, fromParent: Schema.optional(ParentRef) }),
  Schema.Struct({ type: type("Query"), runId: Schema.optional(Schema.String), queryId: Schema.String, name: Schema.String, args: PayloadList, headers: Headers }),
  Schema.Struct({ type: type("Update"), runId: Schema.optional(Schema.String), updateId: Schema.String, name: Schema.String, args: PayloadList, headers: Headers }),
  Schema.Struct({ type: type("ExternalRequestReply"), runId: Schema.String, seq: Seq, failure: Schema.optional(Failure) }),
])

/** The schema of an activity stream message (`ActivityTask`). */
export const ActivityTaskSchema = Schema.Struct({
  workflowId: Schema.String,
  runId: Schema.String,
  workflowType: Schema.String,
  workflowTaskQueue: Schema.String,
  seq: Seq,
  attempt: Schema.Int,
  activityType: Schema.String,
  args: PayloadList,
  scheduledAt: Time,
  deadline: Schema.optional(Time),
  heartbeatTimeoutMs: Schema.optional(Time),
  heartbeatDetails: PayloadField,
  headers: Headers,
  startToCloseMs: Schema.optional(Time),
  scheduleToCloseMs: Schema.optional(Time),
  attemptScheduledAt: Schema.optional(Time),
})

const at = { at: Time }
const Job = [
  Schema.Struct({
    type: type("WorkflowStarted"),
    ...at,
    args: PayloadList,
    parent: Schema.optional(ParentRef),
    searchAttributes: Schema.optional(SearchAttributes),
    memo: Schema.optional(Memo),
    headers: Headers,
  }),
  Schema.Struct({ type: type("ActivityCompleted"), ...at, seq: Seq, result: PayloadField }),
  Schema.Struct({ type: type("ActivityFailed"), ...at, seq: Seq, failure: Failure }),
  Schema.Struct({ type: type("TimerFired"), ...at, seq: Seq }),
  Schema.Struct({ type: type("ChildStarted"), ...at, seq: Seq, runId: Schema.String }),
  Schema.Struct({ type: type("ChildStartFailed"), ...at, seq: Seq, failure: Failure }),
  Schema.Struct({ type: type("ChildCompleted"), ...at, seq: Seq, result: PayloadField }),
  Schema.Struct({ type: type("ChildFailed"), ...at, seq: Seq, failure: Failure }),
  Schema.Struct({ type: type("ChildCancelDelivered"), ...at, seq: Seq }),
  Schema.Struct({ type: type("SignalReceived"), ...at, name: Schema.String, args: PayloadList, headers: Headers }),
  Schema.Struct({ type: type("CancelRequested"), ...at, reason: Schema.optional(Schema.String) }),
  Schema.Struct({ type: type("UpdateRequested"), ...at, updateId: Schema.String, name: Schema.String, args: PayloadList, headers: Headers }),
  Schema.Struct({ type: type("ExternalRequestResolved"), ...at, seq: Seq, failure: Schema.optional(Failure) }),
] as const

const JobSchema = Schema.Union(Job)
const JobEntries = Job.map((job) => Schema.Struct({ ...job.fields, task: Schema.Int }))

/** The schema of a journal entry (`JournalEntry`): a job with its task, a command, or a note. */
export const JournalEntrySchema = Schema.Union([
  // Flat, so a bad entry's reason is about the member its `type` names (not a list of every job).
  ...JobEntries,
  Schema.Struct({ type: type("ActivityScheduled"), ...at, seq: Seq, activityType: Schema.String, args: PayloadList, local: Schema.optional(Schema.Literal(true)) }),
  Schema.Struct({ type: type("TimerStarted"), ...at, seq: Seq, durationMs: Time }),
  Schema.Struct({ type: Schema.Literals(["TimerCancelled", "ActivityCancelRequested", "ChildCancelRequested"]), ...at, seq: Seq }),
  Schema.Struct({
    type: type("ChildStartInitiated"),
    ...at,
    seq: Seq,
    workflowType: Schema.String,
    workflowId: Schema.String,
    args: PayloadList,
  }),
  Schema.Struct({ type: type("ExternalSignalInitiated"), ...at, seq: Seq, workflowId: Schema.String, name: Schema.String, args: PayloadList }),
  Schema.Struct({ type: type("ExternalCancelInitiated"), ...at, seq: Seq, workflowId: Schema.String }),
  Schema.Struct({ type: type("WorkflowCompleted"), ...at, result: PayloadField }),
  Schema.Struct({ type: type("WorkflowFailed"), ...at, failure: Failure }),
  Schema.Struct({ type: type("WorkflowCancelled"), ...at }),
  Schema.Struct({ type: type("WorkflowContinuedAsNew"), ...at, newRunId: Schema.String, workflowType: Schema.String, args: PayloadList }),
  Schema.Struct({ type: type("PatchMarker"), ...at, patchId: Schema.String }),
  Schema.Struct({ type: type("UpdateAccepted"), ...at, updateId: Schema.String, name: Schema.String }),
  Schema.Struct({ type: type("UpdateCompleted"), ...at, updateId: Schema.String, result: PayloadField, failure: Schema.optional(Failure) }),
  Schema.Struct({ type: type("SearchAttributesUpserted"), ...at, searchAttributes: SearchAttributeUpdates }),
  Schema.Struct({ type: type("MemoUpserted"), ...at, memo: MemoUpdates }),
  Schema.Struct({ type: type("ActivityRetrying"), ...at, seq: Seq, attempt: Schema.Int, failure: Failure, delayMs: Time }),
  Schema.Struct({ type: type("WorkflowTerminated"), ...at, reason: Schema.String }),
  Schema.Struct({ type: type("WorkflowTimedOut"), ...at }),
])

/** The schema of a stored execution record's state (`ExecutionState`). */
export const ExecutionStateSchema = Schema.Struct({
  workflowId: Schema.String,
  runId: Schema.String,
  workflowType: Schema.String,
  taskQueue: Schema.String,
  args: PayloadList,
  parent: Schema.optional(ParentRef),
  headers: Headers,
  status: Schema.Union([Schema.Literal("RUNNING"), ClosedStatus]),
  started: Schema.Boolean,
  startTime: Time,
  closeTime: Schema.optional(Time),
  journalLength: Schema.Int,
  tasks: Schema.Int,
  activities: Schema.Record(Schema.String, Schema.Struct({
    activityType: Schema.String,
    args: PayloadList,
    options: ActivityOptions,
    attempt: Schema.Int,
    scheduledAt: Time,
    dispatched: Schema.Boolean,
    heartbeatDetails: PayloadField,
    lastFailure: Schema.optional(Failure),
    headers: Headers,
    cancelRequested: Schema.optional(Schema.Literal(true)),
    localRunAt: Schema.optional(Time),
  })),
  timers: Schema.Array(Seq),
  children: Schema.Record(Schema.String, Schema.Struct({
    workflowId: Schema.String,
    workflowType: Schema.String,
    taskQueue: Schema.String,
    runId: Schema.String,
    started: Schema.optional(Schema.Boolean),
    cancelRequested: Schema.optional(Schema.Boolean),
    cancelDelivered: Schema.optional(Schema.Boolean),
    parentClosePolicy: Schema.optional(Schema.Literals(["TERMINATE", "REQUEST_CANCEL", "ABANDON"])),
  })),
  cancelRequested: Schema.Boolean,
  signalIds: Schema.Array(Schema.String),
  pendingJobs: Schema.Array(JobSchema),
  taskFailure: Schema.optional(Schema.Struct({ type: Schema.String, message: Schema.String, attempt: Schema.Int, at: Time })),
  result: PayloadField,
  failure: Schema.optional(Failure),
  searchAttributes: Schema.optional(SearchAttributes),
  memo: Schema.optional(Memo),
  updates: Schema.optional(Schema.Array(Schema.Struct({
    id: Schema.String,
    name: Schema.String,
    stage: Schema.Literals(["ADMITTED", "ACCEPTED", "COMPLETED"]),
    rejected: Schema.optional(Schema.Boolean),
    result: PayloadField,
    failure: Schema.optional(Failure),
  }))),
  ...RunTimeouts,
  externalRequests: Schema.optional(Schema.Array(Seq)),
  cronSchedule: Schema.optional(Schema.String),
  cronStartAt: Schema.optional(Time),
  staticSummary: Schema.optional(Schema.String),
  staticDetails: Schema.optional(Schema.String),
})

/** The schema of a query's answer, as a worker commits it for the asking client. */
export const QueryAnswerSchema = Schema.Union([
  Schema.Struct({ ok: Schema.Literal(true), result: PayloadField }),
  Schema.Struct({ ok: Schema.Literal(false), failure: Failure }),
])

/** A query's answer: the handler's result, or why it failed. */
export type QueryAnswer = { readonly ok: true; readonly result: string | undefined } | { readonly ok: false; readonly failure: FailureInfo }

const MAX_REASON = 500

const WORKFLOW_MESSAGE_TYPES: ReadonlySet<string> = new Set(
  WorkflowMessageSchema.members.map((member) => (member.fields.type as unknown as { readonly literal: string }).literal),
)

/** A union's discriminator checked first, so the reason names the bad `type` instead of every member. */
const typeOf = (types: ReadonlySet<string>) => (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected a JSON object"
  const type = (value as { readonly type?: unknown }).type
  if (typeof type !== "string") return `"type" is ${type === undefined ? "missing" : `not a string (${typeof type})`}`
  return types.has(type) ? undefined : `unknown type ${JSON.stringify(type.slice(0, 100))} (from a newer version?)`
}

/** Parse `text` as JSON and check it against `schema`; the parsed value itself on success. */
const check = <T>(schema: Schema.Codec<unknown>, what: string, precheck?: (value: unknown) => string | undefined) => {
  const validate = Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown, never, never>, { errors: "first" })
  return (text: string): Result.Result<T, Undecodable> => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      return Result.fail({ reason: `${what}: not JSON (${error instanceof Error ? error.message : String(error)})` })
    }
    const early = precheck?.(value)
    if (early !== undefined) return Result.fail({ reason: `${what}: ${early}` })
    const checked = validate(value)
    if (Result.isSuccess(checked)) return Result.succeed(value as T)
    const detail = checked.failure.message.replace(/\s+/g, " ").trim()
    // Cut from the middle: a union's list of members comes first, what is wrong at the end.
    return Result.fail({ reason: `${what}: ${detail.length > MAX_REASON ? `${detail.slice(0, 150)} … ${detail.slice(150 - MAX_REASON)}` : detail}` })
  }
}

/** Decode a workflow stream message body (`Undecodable`: corrupt, incomplete, or a type from a newer version). */
export const decodeWorkflowMessage: (body: string) => Result.Result<WorkflowMessage, Undecodable> = check(
  WorkflowMessageSchema as Schema.Codec<unknown>,
  "invalid workflow message",
  typeOf(WORKFLOW_MESSAGE_TYPES),
)

/** Decode an activity stream message body. */
export const decodeActivityTask: (body: string) => Result.Result<ActivityTask, Undecodable> = check(
  ActivityTaskSchema as Schema.Codec<unknown>,
  "invalid activity task",
)

/** Decode the text of an activity task token (given back by a client: async completion). */
export const decodeTaskToken: (text: string) => Result.Result<TaskToken, Undecodable> = check(
  Schema.Struct({
    namespace: Schema.String,
    workflowId: Schema.String,
    runId: Schema.String,
    workflowTaskQueue: Schema.String,
    seq: Seq,
    attempt: Schema.Int,
  }) as Schema.Codec<unknown>,
  "invalid task token",
)

/** Decode a stored execution state. */
export const decodeState: (text: string) => Result.Result<ExecutionState, Undecodable> = check(
  ExecutionStateSchema as Schema.Codec<unknown>,
  "invalid execution state",
)

/** Decode a stored journal entry. */
export const decodeJournalEntry: (text: string) => Result.Result<JournalEntry, Undecodable> = check(
  JournalEntrySchema as Schema.Codec<unknown>,
  "invalid journal entry",
)

/** Decode a query answer written by a worker's commit. */
export const decodeQueryAnswer: (text: string) => Result.Result<QueryAnswer, Undecodable> = check(
  QueryAnswerSchema as Schema.Codec<unknown>,
  "invalid query answer",
)
