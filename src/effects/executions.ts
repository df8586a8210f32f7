/**
 * Executions: the typed face of the encoded `Store`.
 *
 * The store contract speaks strings (records, journal entries, message
 * bodies, replies) and logical stream addresses. This module is the one
 * place in the interpreter that turns those into core's types and back:
 * every codec, every stream address, and the retry of a lost optimistic
 * race. The rest of `src/effects` works with `ExecutionState`, `JournalEntry`,
 * `WorkflowMessage` and `Transition`, and never parses JSON.
 */
import { Data, Effect, Exit, Option, Result } from "effect"
import { decodeActivityTask, decodeJournalEntry, decodeQueryAnswer, decodeState, decodeWorkflowMessage, type Undecodable } from "../core/codecs.ts"
import { encodeJournalEntry, type JournalEntry } from "../core/journal.ts"
import { type ActivityTask, encodeMessage, type WorkflowMessage } from "../core/messages.ts"
import type { Command, Transition } from "../core/reduce.ts"
import { encodeState, type ExecutionState } from "../core/state.ts"
import { indexChanged, indexDelta } from "../core/visibility.ts"
import {
  attachEncodedValue,
  type Claim,
  type Claimed,
  type Commit,
  CommitConflict,
  type CommitStateWrite,
  type CommitWrites,
  type Delivery,
  type EncodedValue,
  encodedValue,
  type ExecutionRecord,
  type MayCarryValue,
  type OutboundMessage,
  type ReadOptions,
  Store,
  type StoreError,
  type StoreShape,
  type StreamAddress,
  type TimerEntry,
} from "../stores/Store.ts"
import type { QueryOutcome } from "./executors.ts"
import type { Handoff, Reservation } from "./handoff.ts"
import { drawWriteToken } from "./writeToken.ts"

/**
 * A value and its encoding, computed on first read: what this module attaches
 * to what it writes (`EncodedValue`), so the embedded store, which keeps the
 * holder, never encodes — and its readers never decode — what only this
 * process reads. A backend that reads the text (Redis) encodes it then, once.
 */
class Lazy<T> implements EncodedValue<T> {
  #encoded: string | undefined = undefined
  constructor(
    readonly value: T,
    private readonly encode: (value: T) => string,
  ) {}
  get encoded(): string {
    if (this.#encoded === undefined) this.#encoded = this.encode(this.value)
    return this.#encoded
  }
  /** The encoding if something has read it, else undefined. */
  get known(): string | undefined {
    return this.#encoded
  }
}

/** An outbound message whose body is encoded on first read. */
const outboundOf = (stream: StreamAddress, key: string, message: WorkflowMessage | ActivityTask, fairnessKey?: string): OutboundMessage => {
  const holder = new Lazy<WorkflowMessage | ActivityTask>(message, encodeMessage)
  return attachEncodedValue<OutboundMessage>(
    fairnessKey === undefined ? { stream, key, get body() { return holder.encoded } } : { stream, key, fairnessKey, get body() { return holder.encoded } },
    holder,
  )
}

/**
 * What a reader gets back: the value this module attached when it wrote it,
 * if the backend kept it (undefined otherwise). Only this module's own
 * holders count — their values were typed before they were encoded — so a
 * holder anyone else attaches (the key is a global symbol) is ignored and its
 * text decoded and checked like any other.
 */
const carried = <T>(from: MayCarryValue): T | undefined => {
  const holder = from[encodedValue]
  return holder instanceof Lazy ? (holder.value as T) : undefined
}

/** A value with writable fields (a commit this module is building). */
type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** A task queue's workflow stream. */
export const workflowStream = (taskQueue: string): StreamAddress => ({ kind: "workflow", taskQueue })
/** A task queue's activity stream. */
export const activityStream = (taskQueue: string): StreamAddress => ({ kind: "activity", taskQueue })

/** A message for the workflow `workflowId` on its task queue's workflow stream. */
export const toWorkflow = (taskQueue: string, workflowId: string, message: WorkflowMessage): OutboundMessage =>
  outboundOf(workflowStream(taskQueue), workflowId, message)

/**
 * Which stored write a step computes from: the record's version and the
 * token of the write that produced it (0 and "": never written). A commit
 * names both (`Commit.expectedVersion`, `expectedToken`), so a guess made
 * before a store rollback cannot pass for the record written since.
 */
export interface Revision {
  readonly version: number
  readonly token: string
}

/** The revision of a record that does not exist. */
export const NO_RECORD: Revision = { version: 0, token: "" }

/** An execution's state as of a store revision (version 0: never written). */
export interface Versioned extends Revision {
  readonly state: ExecutionState | undefined
}

/**
 * A stored record or journal entry that does not decode. Only this version's
 * own writes reach the store, so it is a bug or damage, not bad input: it
 * surfaces as a defect (the step's message stays pending and is re-delivered,
 * then dead-lettered after `maxDeliveries`).
 */
export class CorruptRecord extends Data.TaggedError("CorruptRecord")<{ readonly key: string; readonly message: string }> {}

/** Decode a record `load` (or `awaitUpdate`) returned for `workflowId`. */
export const decodeExecution = (workflowId: string, record: ExecutionRecord): Effect.Effect<Versioned> => {
  const { version, token } = record
  // A state this process wrote and the store kept whole was typed before it was encoded: no need to check it again.
  const kept = carried<ExecutionState>(record)
  if (kept !== undefined) return Effect.succeed({ version, token, state: kept })
  const state = decodeState(record.state)
  return Result.isSuccess(state)
    ? Effect.succeed({ version, token, state: state.success })
    : Effect.die(new CorruptRecord({ key: workflowId, message: `record of workflow ${workflowId}: ${state.failure.reason}` }))
}

/** Load and decode an execution's state; `version` 0 and no state when there is none. */
export const loadExecution = (workflowId: string): Effect.Effect<Versioned, StoreError, Store> =>
  Store.use((store) =>
    Effect.flatMap(store.load(workflowId), (record): Effect.Effect<Versioned> =>
      Option.isNone(record) ? Effect.succeed({ ...NO_RECORD, state: undefined }) : decodeExecution(workflowId, record.value)))

/** Load and decode a run's journal. */
export const loadJournal = (workflowId: string, runId: string): Effect.Effect<Array<JournalEntry>, StoreError, Store> =>
  Store.use((store) =>
    Effect.flatMap(store.loadJournal(workflowId, runId), (entries) => {
      const decoded: Array<JournalEntry> = []
      for (const [index, text] of entries.entries()) {
        const entry = decodeJournalEntry(text)
        if (Result.isFailure(entry)) {
          return Effect.die(new CorruptRecord({ key: workflowId, message: `journal of run ${runId} of workflow ${workflowId}, entry ${index}: ${entry.failure.reason}` }))
        }
        decoded.push(entry.success)
      }
      return Effect.succeed(decoded)
    }))

/** Append messages to workflows' streams outside any step (signals, cancellations, queries, heartbeats). */
export const sendToWorkflow = (taskQueue: string, workflowId: string, message: WorkflowMessage): Effect.Effect<void, StoreError, Store> =>
  Store.use((store) => store.append([toWorkflow(taskQueue, workflowId, message)]))

/** Read a batch of workflow messages for `consumer`. */
export const readWorkflowMessages = (taskQueue: string, options: ReadOptions): Effect.Effect<ReadonlyArray<Delivery>, StoreError, Store> =>
  Store.use((store) => store.read(workflowStream(taskQueue), options))

/**
 * Decode a workflow delivery's message (`Undecodable`: corrupt, incomplete,
 * or of a type from a newer version). A message this process wrote and the
 * store kept whole comes back as the typed value it was encoded from, and is
 * not checked again; a body that arrived as text always is.
 */
export const workflowMessageOf = (delivery: Delivery): Result.Result<WorkflowMessage, Undecodable> => {
  const kept = carried<WorkflowMessage>(delivery)
  return kept !== undefined ? Result.succeed(kept) : decodeWorkflowMessage(delivery.body)
}

/** Decode an activity delivery's task (as `workflowMessageOf`). */
export const activityTaskOf = (delivery: Delivery): Result.Result<ActivityTask, Undecodable> => {
  const kept = carried<ActivityTask>(delivery)
  return kept !== undefined ? Result.succeed(kept) : decodeActivityTask(delivery.body)
}

/** The `type` a workflow message body claims, if it is JSON with a string `type` (for logs). */
export const claimedType = (body: string): string | undefined => {
  try {
    const value = JSON.parse(body) as { readonly type?: unknown } | null
    return typeof value === "object" && value !== null && typeof value.type === "string" ? value.type.slice(0, 100) : undefined
  } catch {
    return undefined
  }
}

/** Park a delivery that can never be decoded in its stream's dead letters, with the reason (false: no longer pending). */
export const deadLetterDelivery = (delivery: Delivery, reason: string): Effect.Effect<boolean, StoreError, Store> =>
  Store.use((store) => store.deadLetter(delivery, reason))

/**
 * Acknowledge an activity task and report its outcome to the workflow,
 * atomically (no report: just ack). With a hand-off whose workflow loop runs
 * the workflow's task queue, the completion also claims the workflow's next
 * message for that loop (its report, unless an older one is waiting).
 */
export const completeActivityTask = (delivery: Delivery, task: ActivityTask, report: WorkflowMessage | undefined, handoff?: Handoff): Effect.Effect<void, StoreError, Store> =>
  Store.use((store) => {
    if (report === undefined) return Effect.asVoid(store.complete(delivery, []))
    const messages = [toWorkflow(task.workflowTaskQueue, task.workflowId, report)]
    const reservation = handoff?.reserve("workflow", task.workflowTaskQueue, 1)
    return reservation === undefined ? Effect.asVoid(store.complete(delivery, messages)) : settling(store.complete(delivery, messages, reservation.claim), reservation)
  })

/**
 * Hand an activity's report to the loop of its workflow's queue on this
 * worker, as that workflow's next step, unwritten (handoff.ts `Report`): true
 * when a loop took it (the step's commit acknowledges `delivery`, and the
 * loop runs `write` if it does not commit); false when none did, and the
 * caller writes it (`completeActivityTask`).
 */
export const stepReport = (
  handoff: Handoff | undefined,
  delivery: Delivery,
  task: ActivityTask,
  report: WorkflowMessage,
  /** When the report was made (epoch ms): its step's schedule-to-start. */
  at: number,
  write: Effect.Effect<void, never, Store>,
): boolean => {
  if (handoff === undefined) return false
  const holder = new Lazy<WorkflowMessage>(report, encodeMessage)
  const carrying = attachEncodedValue<Delivery>(
    { id: delivery.id, stream: delivery.stream, key: delivery.key, deliveries: delivery.deliveries, appendedAt: at, get body() { return holder.encoded } },
    holder,
  )
  return handoff.step(task.workflowTaskQueue, carrying, write)
}

/** Run `write` with `reservation`'s claim on it, and settle the reservation with what it claimed (nothing if it failed). */
const settling = <E>(write: Effect.Effect<Claimed, E>, reservation: Reservation): Effect.Effect<void, E> =>
  Effect.onExit(Effect.asVoid(Effect.tap(write, (claimed) => Effect.sync(() => reservation.settle(claimed)))), (exit) =>
    Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => reservation.settle(undefined)))

/** Answer a query and acknowledge the message that asked it, as one commit that leaves the state alone. */
export const commitQueryAnswer = (delivery: Delivery, expected: Revision, queryId: string, answer: QueryOutcome): Effect.Effect<void, StoreError | CommitConflict, Store> =>
  Store.use((store) =>
    store.commit({
      key: delivery.key,
      ...expectation(expected),
      replies: [{ id: queryId, body: JSON.stringify(answer) }],
      ack: delivery,
    }))

/** The commit fields that name the record a step computed from. */
const expectation = (expected: Revision): { readonly expectedVersion: number; readonly expectedToken?: string } =>
  expected.token === "" ? { expectedVersion: expected.version } : { expectedVersion: expected.version, expectedToken: expected.token }

/** Take a query's answer, waiting up to `timeoutMs` (one that does not decode is a `CorruptRecord` defect). */
export const takeQueryAnswer = (queryId: string, timeoutMs: number): Effect.Effect<Option.Option<QueryOutcome>, StoreError, Store> =>
  Store.use((store) =>
    Effect.flatMap(store.takeReply(queryId, timeoutMs), (reply) => {
      if (Option.isNone(reply)) return Effect.succeed(Option.none())
      const answer = decodeQueryAnswer(reply.value)
      return Result.isSuccess(answer)
        ? Effect.succeed(Option.some<QueryOutcome>(answer.success))
        : Effect.die(new CorruptRecord({ key: queryId, message: `answer to query ${queryId}: ${answer.failure.reason}` }))
    }))

/** How long closed runs are kept, and the step's time. */
export interface Retention {
  readonly now: number
  /** `Infinity`: keep forever. */
  readonly retentionMs: number
}

const outbound = (command: Extract<Command, { type: "SendWorkflow" | "SendActivity" }>): OutboundMessage =>
  command.type === "SendWorkflow"
    ? toWorkflow(command.taskQueue, command.key, command.message)
    : outboundOf(activityStream(command.taskQueue), command.key, command.task, command.fairnessKey)

/**
 * The atomic commit of one transition computed from `before` (the state of
 * record `expected`): everything it writes, plus the ack of `delivery` (none
 * for a client's own transition). A state write is named `token`. Journal
 * entries are written from the length `before` claims for their run (0 for a
 * run it does not hold). A run that closes here expires `retentionMs` later
 * (its journal, and the record unless the workflow continued as new).
 * With `claim`, the commit also claims what it made ready (Store.ts `Claim`).
 */
export const toCommit = (
  delivery: Delivery | undefined,
  expected: Revision,
  before: ExecutionState | undefined,
  transition: Transition,
  retention: Retention,
  token: string,
  claim?: Claim,
): Commit => {
  // Made only when a command needs one: most steps send a message and set no timer.
  let messages: Array<OutboundMessage> | undefined
  let timers: Array<TimerEntry> | undefined
  let cancelTimers: Array<string> | undefined
  for (const command of transition.commands) {
    switch (command.type) {
      case "SendWorkflow":
      case "SendActivity":
        ;(messages ??= []).push(outbound(command))
        break
      case "SetTimer":
        ;(timers ??= []).push({ id: command.id, fireAt: command.fireAt, message: toWorkflow(command.taskQueue, command.key, command.message) })
        break
      case "CancelTimer":
        ;(cancelTimers ??= []).push(command.id)
        break
    }
  }
  const state = transition.state
  const key = delivery?.key ?? state?.workflowId ?? ""
  const journalId = transition.journalRunId ?? state?.runId
  const commit: Mutable<CommitWrites> & CommitStateWrite = state !== undefined && state !== before
    ? stateCommit(key, expected.version, state, token)
    : { key, expectedVersion: expected.version }
  if (expected.token !== "") commit.expectedToken = expected.token
  if (state !== undefined && journalId !== undefined && transition.journal.length > 0) {
    // Encoded now: journals are kept for the run's retention, and long-lived text is cheaper for the GC than entry objects.
    commit.journal = {
      id: journalId,
      from: before !== undefined && before.runId === journalId ? before.journalLength : 0,
      entries: transition.journal.map(encodeJournalEntry),
    }
  }
  if (messages !== undefined) commit.messages = messages
  if (timers !== undefined) commit.timers = timers
  if (cancelTimers !== undefined) commit.cancelTimers = cancelTimers
  if (delivery !== undefined) commit.ack = delivery
  if (claim !== undefined) commit.claim = claim
  if (commit.token !== undefined && indexChanged(before, state)) {
    commit.index = indexDelta(before, state)
  }
  // An update that moved on (admitted, accepted, completed) wakes its waiting client too.
  if (transition.closed || (state !== undefined && state.updates !== before?.updates)) commit.notify = true
  if (transition.closed) {
    if (transition.journal.length > 0 && Number.isFinite(retention.retentionMs)) {
      commit.expire = { at: retention.now + retention.retentionMs, record: state?.status !== "RUNNING" }
    }
  }
  return commit
}

/** A commit that writes `state` as the write `token`, encoded on first read. */
const stateCommit = (key: string, expectedVersion: number, state: ExecutionState, token: string): Mutable<CommitWrites> & CommitStateWrite => {
  const holder = new Lazy(state, encodeState)
  return attachEncodedValue<Mutable<CommitWrites> & CommitStateWrite>({ key, expectedVersion, get state() { return holder.encoded }, token }, holder)
}

/**
 * What a commit left stored: the record's revision afterwards and the length
 * of the state it wrote — undefined when it left the state alone, 0 when the
 * store kept the state without encoding it (the embedded store).
 */
export interface Committed extends Revision {
  readonly stateLength: number | undefined
}

/**
 * Commit `transition` (computed from `before`, the state of record
 * `expected`) and ack `delivery`. A state write gets a fresh token, or
 * `token` when the caller drew one already (a client's start announces it in
 * its `Start`).
 */
export const commitTransition = (
  delivery: Delivery | undefined,
  expected: Revision,
  before: ExecutionState | undefined,
  transition: Transition,
  retention: Retention,
  token?: string,
): Effect.Effect<Committed, StoreError | CommitConflict, Store> =>
  Store.use((store) => commitTransitionTo(store, delivery, expected, before, transition, retention, token))

/**
 * `commitTransition` on a store the caller already holds (the workflow-task
 * loop looks it up once). With a hand-off, a transition that schedules
 * activities of a queue this worker runs claims them for its activity loop.
 */
export const commitTransitionTo = (
  store: StoreShape,
  delivery: Delivery | undefined,
  expected: Revision,
  before: ExecutionState | undefined,
  transition: Transition,
  retention: Retention,
  token?: string,
  handoff?: Handoff,
): Effect.Effect<Committed, StoreError | CommitConflict> =>
  Effect.suspend(() => {
    const reservation = handoff === undefined ? undefined : reserveActivities(handoff, transition)
    const commit = toCommit(delivery, expected, before, transition, retention, token ?? drawWriteToken(), reservation?.claim)
    const holder = commit[encodedValue]
    const committed = (): Committed =>
      commit.token === undefined
        ? { ...expected, stateLength: undefined }
        : { version: expected.version + 1, token: commit.token, stateLength: holder instanceof Lazy ? holder.known?.length ?? 0 : commit.state.length }
    return Effect.map(reservation === undefined ? store.commit(commit) : settling(store.commit(commit), reservation), committed)
  })

/** Room in the hand-off's activity loop for the activity tasks `transition` schedules on one queue (the first one's). */
const reserveActivities = (handoff: Handoff, transition: Transition): Reservation | undefined => {
  let queue: string | undefined
  let count = 0
  for (const command of transition.commands) {
    if (command.type !== "SendActivity") continue
    queue ??= command.taskQueue
    if (command.taskQueue === queue) count++
  }
  return queue === undefined ? undefined : handoff.reserve("activity", queue, count)
}

/**
 * Run `attempt` again while it loses optimistic-concurrency races on the
 * record (its version or write token moved on; each attempt reloads what it
 * reads), at most `times` more times; then the last `CommitConflict` passes
 * through.
 */
export const retryConflicts = <A, E, R>(attempt: Effect.Effect<A, E | CommitConflict, R>, times: number): Effect.Effect<A, E | CommitConflict, R> =>
  Effect.retry(attempt, {
    while: (error) => (error as { readonly _tag?: string })._tag === "CommitConflict" && (error as CommitConflict).reason === "version",
    times,
  })
