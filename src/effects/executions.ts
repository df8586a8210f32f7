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
import { Effect, Option } from "effect"
import { decodeJournalEntry, encodeJournalEntry, type JournalEntry } from "../core/journal.ts"
import { type ActivityTask, decodeActivityTask, decodeWorkflowMessage, encodeMessage, type WorkflowMessage } from "../core/messages.ts"
import type { Command, Transition } from "../core/reduce.ts"
import { decodeState, encodeState, type ExecutionState } from "../core/state.ts"
import {
  type Commit,
  CommitConflict,
  type Delivery,
  type EncodedValue,
  encodedValue,
  type OutboundMessage,
  type ReadOptions,
  Store,
  type StoreError,
  type StoreShape,
  type StreamAddress,
  type TimerEntry,
} from "../stores/Store.ts"
import type { QueryOutcome } from "./executors.ts"

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
const outboundOf = (stream: StreamAddress, key: string, message: WorkflowMessage | ActivityTask): OutboundMessage => {
  const holder = new Lazy<WorkflowMessage | ActivityTask>(message, encodeMessage)
  return { stream, key, get body() { return holder.encoded }, [encodedValue]: holder }
}

/** What a reader gets back: the value its writer attached, when the backend kept it. */
const carried = (from: { readonly [encodedValue]?: EncodedValue }): unknown => from[encodedValue]?.value

/** A task queue's workflow stream. */
export const workflowStream = (taskQueue: string): StreamAddress => ({ kind: "workflow", taskQueue })
/** A task queue's activity stream. */
export const activityStream = (taskQueue: string): StreamAddress => ({ kind: "activity", taskQueue })

/** A message for the workflow `workflowId` on its task queue's workflow stream. */
export const toWorkflow = (taskQueue: string, workflowId: string, message: WorkflowMessage): OutboundMessage =>
  outboundOf(workflowStream(taskQueue), workflowId, message)

/** An execution's state as of a store version (0: never written). */
export interface Versioned {
  readonly version: number
  readonly state: ExecutionState | undefined
}

/** Load and decode an execution's state; `version` 0 and no state when there is none. */
export const loadExecution = (workflowId: string): Effect.Effect<Versioned, StoreError, Store> =>
  Store.use((store) =>
    Effect.map(store.load(workflowId), (record) =>
      Option.isNone(record)
        ? { version: 0, state: undefined }
        : { version: record.value.version, state: (carried(record.value) as ExecutionState | undefined) ?? decodeState(record.value.state) }))

/** Load and decode a run's journal. */
export const loadJournal = (workflowId: string, runId: string): Effect.Effect<Array<JournalEntry>, StoreError, Store> =>
  Store.use((store) => Effect.map(store.loadJournal(workflowId, runId), (entries) => entries.map(decodeJournalEntry)))

/** Append messages to workflows' streams outside any step (signals, cancellations, queries, heartbeats). */
export const sendToWorkflow = (taskQueue: string, workflowId: string, message: WorkflowMessage): Effect.Effect<void, StoreError, Store> =>
  Store.use((store) => store.append([toWorkflow(taskQueue, workflowId, message)]))

/** Read a batch of workflow messages for `consumer`. */
export const readWorkflowMessages = (taskQueue: string, options: ReadOptions): Effect.Effect<ReadonlyArray<Delivery>, StoreError, Store> =>
  Store.use((store) => store.read(workflowStream(taskQueue), options))

/** Decode a workflow delivery's message (undefined: unreadable here — corrupt, or from a newer version). */
export const workflowMessageOf = (delivery: Delivery): WorkflowMessage | undefined =>
  (carried(delivery) as WorkflowMessage | undefined) ?? decodeWorkflowMessage(delivery.body)

/** Decode an activity delivery's task (undefined: unreadable). */
export const activityTaskOf = (delivery: Delivery): ActivityTask | undefined =>
  (carried(delivery) as ActivityTask | undefined) ?? decodeActivityTask(delivery.body)

/** Acknowledge an activity task and report its outcome to the workflow, atomically (no report: just ack). */
export const completeActivityTask = (delivery: Delivery, task: ActivityTask, report: WorkflowMessage | undefined): Effect.Effect<void, StoreError, Store> =>
  Store.use((store) =>
    store.complete(delivery, report === undefined ? [] : [toWorkflow(task.workflowTaskQueue, task.workflowId, report)]))

/** Answer a query and acknowledge the message that asked it, as one commit that leaves the state alone. */
export const commitQueryAnswer = (delivery: Delivery, version: number, queryId: string, answer: QueryOutcome): Effect.Effect<void, StoreError | CommitConflict, Store> =>
  Store.use((store) =>
    store.commit({ key: delivery.key, expectedVersion: version, replies: [{ id: queryId, body: JSON.stringify(answer) }], ack: delivery }))

/** Take a query's answer, waiting up to `timeoutMs`. */
export const takeQueryAnswer = (queryId: string, timeoutMs: number): Effect.Effect<Option.Option<QueryOutcome>, StoreError, Store> =>
  Store.use((store) => Effect.map(store.takeReply(queryId, timeoutMs), Option.map((body) => JSON.parse(body) as QueryOutcome)))

/** How long closed runs are kept, and the step's time. */
export interface Retention {
  readonly now: number
  /** `Infinity`: keep forever. */
  readonly retentionMs: number
}

const outbound = (command: Extract<Command, { type: "SendWorkflow" | "SendActivity" }>): OutboundMessage =>
  command.type === "SendWorkflow"
    ? toWorkflow(command.taskQueue, command.key, command.message)
    : outboundOf(activityStream(command.taskQueue), command.key, command.task)

/**
 * The atomic commit of one transition: everything it writes, plus the ack of
 * `delivery` (none for a client's own transition). A run that closes here
 * expires `retentionMs` later (its journal, and the record unless the
 * workflow continued as new).
 */
export const toCommit = (
  delivery: Delivery | undefined,
  expectedVersion: number,
  before: ExecutionState | undefined,
  transition: Transition,
  retention: Retention,
): Commit => {
  const messages: Array<OutboundMessage> = []
  const timers: Array<TimerEntry> = []
  const cancelTimers: Array<string> = []
  for (const command of transition.commands) {
    switch (command.type) {
      case "SendWorkflow":
      case "SendActivity":
        messages.push(outbound(command))
        break
      case "SetTimer":
        timers.push({ id: command.id, fireAt: command.fireAt, message: toWorkflow(command.taskQueue, command.key, command.message) })
        break
      case "CancelTimer":
        cancelTimers.push(command.id)
        break
    }
  }
  const state = transition.state
  const key = delivery?.key ?? state?.workflowId ?? ""
  const commit: { -readonly [K in keyof Commit]: Commit[K] } = state !== undefined && state !== before
    ? stateCommit(key, expectedVersion, state)
    : { key, expectedVersion }
  if (state !== undefined && transition.journal.length > 0) {
    // Encoded now: journals are kept for the run's retention, and long-lived text is cheaper for the GC than entry objects.
    commit.journal = { id: transition.journalRunId ?? state.runId, entries: transition.journal.map(encodeJournalEntry) }
  }
  if (messages.length > 0) commit.messages = messages
  if (timers.length > 0) commit.timers = timers
  if (cancelTimers.length > 0) commit.cancelTimers = cancelTimers
  if (delivery !== undefined) commit.ack = delivery
  if (transition.closed) {
    commit.notify = true
    if (transition.journal.length > 0 && Number.isFinite(retention.retentionMs)) {
      commit.expire = { at: retention.now + retention.retentionMs, record: state?.status !== "RUNNING" }
    }
  }
  return commit
}

/** A commit that writes `state`, encoded on first read. */
const stateCommit = (key: string, expectedVersion: number, state: ExecutionState): { -readonly [K in keyof Commit]: Commit[K] } => {
  const holder = new Lazy(state, encodeState)
  return { key, expectedVersion, get state() { return holder.encoded }, [encodedValue]: holder }
}

/**
 * Commit `transition` (computed from `before` at `expectedVersion`) and ack
 * `delivery`. Resolves to the version the record has afterwards and the
 * length of the state it wrote: undefined when the state was left alone, 0
 * when the store kept the state without encoding it (the embedded store).
 */
export const commitTransition = (
  delivery: Delivery | undefined,
  expectedVersion: number,
  before: ExecutionState | undefined,
  transition: Transition,
  retention: Retention,
): Effect.Effect<Committed, StoreError | CommitConflict, Store> =>
  Store.use((store) => commitTransitionTo(store, delivery, expectedVersion, before, transition, retention))

/** What `commitTransition` resolves to. */
export interface Committed {
  readonly version: number
  readonly stateLength: number | undefined
}

/** `commitTransition` on a store the caller already holds (the workflow-task loop looks it up once). */
export const commitTransitionTo = (
  store: StoreShape,
  delivery: Delivery | undefined,
  expectedVersion: number,
  before: ExecutionState | undefined,
  transition: Transition,
  retention: Retention,
): Effect.Effect<Committed, StoreError | CommitConflict> => {
  const commit = toCommit(delivery, expectedVersion, before, transition, retention)
  const holder = commit[encodedValue]
  return Effect.map(store.commit(commit), (): Committed =>
    holder === undefined
      ? { version: expectedVersion, stateLength: undefined }
      : { version: expectedVersion + 1, stateLength: (holder as Lazy<ExecutionState>).known?.length ?? 0 })
}

/**
 * Run `attempt` again while it loses optimistic-concurrency races on the
 * record's version (each attempt reloads what it reads), at most `times`
 * more times; then the last `CommitConflict` passes through.
 */
export const retryConflicts = <A, E, R>(attempt: Effect.Effect<A, E | CommitConflict, R>, times: number): Effect.Effect<A, E | CommitConflict, R> =>
  Effect.retry(attempt, {
    while: (error) => (error as { readonly _tag?: string })._tag === "CommitConflict" && (error as CommitConflict).reason === "version",
    times,
  })
