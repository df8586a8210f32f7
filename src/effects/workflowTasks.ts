/**
 * The workflow-task interpreter: the life of one durable step.
 *
 *   read a message → load state (or take it from the executor's cache) → `reduce`
 *   → (run workflow code → `completeTask`) → one atomic `commit` of state,
 *   journal, messages, timers and the ack.
 *
 * A crash anywhere before the commit changes nothing (the message stays
 * pending and is reclaimed); a lost optimistic-concurrency race
 * (`CommitConflict`) reloads and recomputes. The loop reads batches, runs the
 * messages of different workflows concurrently and those of one workflow in
 * order.
 */
import { Clock, Effect, Option } from "effect"
import { decodeWorkflowMessage } from "../core/messages.ts"
import type { JournalEntry } from "../core/journal.ts"
import { completeTask, failTask, reduce, type Transition } from "../core/reduce.ts"
import { decodeState, type ExecutionState } from "../core/state.ts"
import { type Delivery, Store } from "../stores/Store.ts"
import { JOURNAL_REQUIRED, type WorkflowExecutor } from "./executors.ts"
import { toCommit } from "./internal/writes.ts"
import { retryStoreErrors } from "./storeRetry.ts"

/** Configuration of a workflow-task loop. */
export interface WorkflowTaskConfig {
  readonly taskQueue: string
  readonly consumer: string
  readonly executor: WorkflowExecutor
  /** Messages read per batch. */
  readonly batchSize: number
  /** How long closed runs are kept in the store (`Infinity`: forever). */
  readonly retentionMs: number
  /** Called after a commit that set timers, with the earliest `fireAt` (wakes the timer loop). */
  readonly onTimers?: (fireAt: number) => void
}

const MAX_CONFLICTS = 50

const decodeJournal = (entries: ReadonlyArray<string>): Array<JournalEntry> => entries.map((entry) => JSON.parse(entry) as JournalEntry)

const merge = (first: Transition, second: Transition): Transition => {
  const journalRunId = first.journalRunId ?? second.journalRunId
  return {
    ...(journalRunId === undefined ? {} : { journalRunId }),
    state: second.state,
    journal: [...first.journal, ...second.journal],
    commands: [...first.commands, ...second.commands],
    activate: false,
    closed: first.closed || second.closed,
  }
}

/** Load the journal only when the executor has no live run for this state. */
const journalFor = Effect.fnUntraced(function* (executor: WorkflowExecutor, state: ExecutionState, version: number) {
  if (!executor.needsJournal(state, version)) return undefined
  const store = yield* Store
  return decodeJournal(yield* store.loadJournal(state.workflowId, state.runId))
})

/**
 * Call the executor with the journal it needs: none when its live run is
 * cached, else loaded — and loaded anyway if the run was evicted meanwhile.
 */
const withJournal = <A extends { readonly ok: boolean; readonly failure?: { readonly type?: string } }>(
  executor: WorkflowExecutor,
  state: ExecutionState,
  version: number,
  call: (journal: ReadonlyArray<JournalEntry> | undefined) => Promise<A>,
) =>
  Effect.gen(function* () {
    const journal = yield* journalFor(executor, state, version)
    const outcome = yield* Effect.promise(() => call(journal))
    if (outcome.ok || outcome.failure?.type !== JOURNAL_REQUIRED) return outcome
    const store = yield* Store
    const loaded = decodeJournal(yield* store.loadJournal(state.workflowId, state.runId))
    return yield* Effect.promise(() => call(loaded))
  })

/** The stored state of `key` (undefined, version 0, when there is none). */
const loadVersioned = Effect.fnUntraced(function* (key: string) {
  const store = yield* Store
  const record = yield* store.load(key)
  return Option.match(record, {
    onNone: () => ({ version: 0, state: undefined }),
    onSome: (r) => ({ version: r.version, state: decodeState(r.state) as ExecutionState | undefined }),
  })
})

/** Process one delivery once. Fails with `CommitConflict` when it lost a race. */
const attempt = Effect.fnUntraced(function* (config: WorkflowTaskConfig, delivery: Delivery, clockOffset: number) {
  const store = yield* Store
  const message = decodeWorkflowMessage(delivery.body)
  if (message === undefined) {
    // Unreadable here (corrupt, or from a newer version): leave it pending. It is re-delivered
    // after the visibility timeout — perhaps to a newer worker — and dead-lettered after
    // `maxDeliveries`, visible to operators; nothing else is held up.
    yield* Effect.logError(`workflow ${delivery.key}: cannot read message ${delivery.id}; leaving it for another worker or the dead-letter list`)
    return
  }
  const { version, state: before } = config.executor.peek(delivery.key) ?? (yield* loadVersioned(delivery.key))
  // The step's time is the store's clock (timers fire by it), read locally plus the batch's offset.
  const now = (yield* Clock.currentTimeMillis) + clockOffset
  const first = reduce(before, message, now)

  if (first.query !== undefined) {
    const { queryId, name, args } = first.query
    const answer = before === undefined
      ? { ok: false as const, failure: { kind: "application" as const, type: "WorkflowNotFoundError", message: `workflow ${delivery.key} not found` } }
      : yield* withJournal(config.executor, before, version, (journal) => config.executor.query(before, version, journal, name, args))
    yield* store.commit({ key: delivery.key, expectedVersion: version, replies: [{ id: queryId, body: JSON.stringify(answer) }], ack: delivery })
    return
  }

  let transition = first
  const activated = first.activate && first.state !== undefined
  if (activated) {
    const state = first.state!
    const outcome = yield* withJournal(config.executor, state, version, (journal) => config.executor.activate(state, version, journal))
    if (!outcome.ok) {
      yield* Effect.logWarning(`workflow ${state.workflowId} (${state.workflowType}): task failed, will retry: ${outcome.failure.type}: ${outcome.failure.message}`)
    }
    transition = merge(first, outcome.ok ? completeTask(state, outcome.commands, now) : failTask(state, outcome.failure, now))
  }
  const commit = toCommit(delivery, version, before, transition, { now, retentionMs: config.retentionMs })
  yield* store.commit(commit).pipe(Effect.tapError(() => Effect.sync(() => config.executor.evict(delivery.key))))
  if (transition.state !== undefined) {
    config.executor.committed(transition.state, version, commit.state === undefined ? version : version + 1)
  }
  if (config.onTimers !== undefined) {
    let earliest = Infinity
    for (const command of transition.commands) if (command.type === "SetTimer" && command.fireAt < earliest) earliest = command.fireAt
    if (earliest !== Infinity) config.onTimers(earliest)
  }
})

/**
 * Process one delivery to completion: retry lost races (reloading state each
 * time) and store errors (with backoff). A step whose activation was
 * interrupted leaves its message pending for redelivery.
 */
export const processDelivery = (config: WorkflowTaskConfig, delivery: Delivery, clockOffset = 0): Effect.Effect<void, never, Store> =>
  attempt(config, delivery, clockOffset).pipe(
    // The common case succeeds first time; only a failure pays for the retry machinery.
    Effect.catch(() => retrying(config, delivery, clockOffset)),
    // A bug must not stop the worker: log it, forget the live run, and leave the message
    // pending (re-delivered after the visibility timeout, dead-lettered after maxDeliveries).
    Effect.catchDefect((defect) =>
      Effect.sync(() => config.executor.evict(delivery.key)).pipe(
        Effect.andThen(Effect.logError(`workflow ${delivery.key}: step failed unexpectedly; the message will be re-delivered`, defect)),
      )),
    Effect.onInterrupt(() => Effect.sync(() => config.executor.evict(delivery.key))),
  )

const retrying = (config: WorkflowTaskConfig, delivery: Delivery, clockOffset: number): Effect.Effect<void, never, Store> =>
  retryStoreErrors(
    `workflow ${delivery.key}`,
    attempt(config, delivery, clockOffset).pipe(
      Effect.retry({ while: (error) => error._tag === "CommitConflict" && error.reason === "version", times: MAX_CONFLICTS }),
      Effect.catchTag("CommitConflict", (conflict) =>
        // "not-pending": another consumer already finished this message; anything else: give up for now (redelivered later).
        conflict.reason === "not-pending" ? Effect.void : Effect.logWarning(`workflow ${delivery.key}: gave up after ${MAX_CONFLICTS} commit conflicts`)),
    ),
  )

/** Group deliveries by workflow id, keeping their order. */
const byKey = (deliveries: ReadonlyArray<Delivery>): Array<Array<Delivery>> => {
  const groups = new Map<string, Array<Delivery>>()
  for (const delivery of deliveries) {
    const group = groups.get(delivery.key)
    if (group === undefined) groups.set(delivery.key, [delivery])
    else group.push(delivery)
  }
  return [...groups.values()]
}

/**
 * The loop: read a batch, process it (workflows concurrently, each workflow's
 * messages in order), repeat. A batch in progress is finished before an
 * interruption (shutdown) takes effect; a blocked read is interrupted at once.
 */
export const runWorkflowTasks = (config: WorkflowTaskConfig): Effect.Effect<never, never, Store> =>
  Effect.gen(function* () {
    const store = yield* Store
    const stream = { kind: "workflow" as const, taskQueue: config.taskQueue }
    // Durable timers fire by the store's clock (Redis: TIME); steps compute their deadlines by
    // it too, so a worker whose clock is skewed does not shift them. The offset between the
    // two clocks drifts slowly: it is measured again at most every 10 s of real time.
    let offset = 0
    let measuredAt = -Infinity
    const clockOffset = Effect.suspend(() => {
      if (performance.now() - measuredAt < 10_000) return Effect.succeed(offset)
      return Effect.gen(function* () {
        const local = yield* Clock.currentTimeMillis
        const remote = yield* retryStoreErrors("store clock", store.now)
        offset = remote - local
        measuredAt = performance.now()
        return offset
      })
    })
    const readBatch = retryStoreErrors("workflow read", store.read(stream, { consumer: config.consumer, count: config.batchSize, blockMs: 5000 }))
    return yield* Effect.forever(
      Effect.flatMap(readBatch, (deliveries) =>
        Effect.uninterruptible(
          Effect.flatMap(clockOffset, (offset) =>
          Effect.forEach(byKey(deliveries), (group) => Effect.forEach(group, (delivery) => processDelivery(config, delivery, offset), { discard: true }), {
            concurrency: "unbounded",
            discard: true,
          })),
        )),
    )
  })
