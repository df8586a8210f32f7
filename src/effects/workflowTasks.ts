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
import { Clock, Effect } from "effect"
import { completeActivation, recordOfStart, reduce, type Transition } from "../core/reduce.ts"
import type { ExecutionState } from "../core/state.ts"
import { type Delivery, Store, type StoreError } from "../stores/Store.ts"
import { commitQueryAnswer, commitTransition, loadExecution, loadJournal, readWorkflowMessages, retryConflicts, type Revision, workflowMessageOf } from "./executions.ts"
import type { QueryOutcome, RunSource, WorkflowExecutor } from "./executors.ts"
import { type CachedRun, estimateRunBytes, RunCache } from "./runCache.ts"
import { retryStoreErrors } from "./storeRetry.ts"

/** Configuration of a workflow-task loop. */
export interface WorkflowTaskConfig<R = unknown> {
  readonly taskQueue: string
  readonly consumer: string
  readonly executor: WorkflowExecutor<R>
  /** The loop's cache of live runs (the loop owns it; pass one to read its stats). */
  readonly cache: RunCache<R>
  /** Messages read per batch. */
  readonly batchSize: number
  /** How long closed runs are kept in the store (`Infinity`: forever). */
  readonly retentionMs: number
  /** Called after a commit that set timers, with the earliest `fireAt` (wakes the timer loop). */
  readonly onTimers?: (fireAt: number) => void
}

const MAX_CONFLICTS = 50

/** The live run of `cached` if it belongs to `state`'s run, else the journal to replay (none needed for a run with no history yet). */
const sourceFor = <R>(cached: CachedRun<R> | undefined, state: ExecutionState): Effect.Effect<RunSource<R>, StoreError, Store> => {
  if (cached !== undefined && cached.state.runId === state.runId) return Effect.succeed({ live: cached.run })
  if (state.journalLength === 0) return Effect.succeed({ journal: [] })
  return Effect.map(loadJournal(state.workflowId, state.runId), (journal) => ({ journal }))
}

/** Whether a live run may be cached next to `state`: the run is open and not waiting out a failed task. */
const cacheable = (state: ExecutionState | undefined): state is ExecutionState =>
  state !== undefined && state.status === "RUNNING" && state.taskFailure === undefined

const cacheEntry = <R>(revision: Revision, state: ExecutionState, run: R): CachedRun<R> =>
  ({ version: revision.version, token: revision.token, state, run, bytes: estimateRunBytes(state, 0) })

const notFound = (workflowId: string): QueryOutcome => ({
  ok: false,
  failure: { kind: "application", type: "WorkflowNotFoundError", message: `workflow ${workflowId} not found` },
})

/**
 * Process one delivery once: the whole durable step. Fails with
 * `CommitConflict` when it lost a race (nothing was written, nothing cached).
 */
const attempt = Effect.fnUntraced(function* <R>(config: WorkflowTaskConfig<R>, delivery: Delivery, clockOffset: number, firstAttempt: boolean) {
  const message = workflowMessageOf(delivery)
  if (message === undefined) {
    // Unreadable here (corrupt, or from a newer version): leave it pending. It is re-delivered
    // after the visibility timeout — perhaps to a newer worker — and dead-lettered after
    // `maxDeliveries`, visible to operators; nothing else is held up.
    yield* Effect.logError(`workflow ${delivery.key}: cannot read message ${delivery.id}; leaving it for another worker or the dead-letter list`)
    return
  }
  // The step owns the cached entry from here on; only a committed step puts one back.
  const cached = config.cache.take(delivery.key)
  // Nothing cached: a client's Start says what it wrote (first attempt only: a conflict means it moved on).
  // Either guess names the write it assumes (version and token): a record the store has since
  // replaced, even by a write that reached the same version after a rollback, fails the commit.
  const { version, token, state: before } = cached ?? (firstAttempt ? recordOfStart(message) : undefined) ?? (yield* loadExecution(delivery.key))
  const revision: Revision = { version, token }
  // The step's time is the store's clock (timers fire by it), read locally plus the batch's offset.
  const now = (yield* Clock.currentTimeMillis) + clockOffset
  const first = reduce(before, message, now)

  if (first.query !== undefined) {
    const { queryId, name, args } = first.query
    let answer = notFound(delivery.key)
    let run = cached?.run
    if (before !== undefined) {
      const source = yield* sourceFor(cached, before)
      const executed = yield* Effect.promise(() => config.executor.query(before, source, name, args))
      answer = executed.outcome
      run = executed.run
    }
    yield* commitQueryAnswer(delivery, revision, queryId, answer)
    if (run !== undefined && cacheable(before) && before.pendingJobs.length === 0) {
      config.cache.put(delivery.key, cached ?? cacheEntry(revision, before, run))
    }
    return
  }

  let transition: Transition = first
  // The live run after this step, and the run it belongs to.
  let run = cached?.run
  let runId = cached?.state.runId
  if (first.activate && first.state !== undefined) {
    const state = first.state
    const source = yield* sourceFor(cached, state)
    const executed = yield* Effect.promise(() => config.executor.activate(state, source))
    if (!executed.outcome.ok) {
      const { failure } = executed.outcome
      yield* Effect.logWarning(`workflow ${state.workflowId} (${state.workflowType}): task failed, will retry: ${failure.type}: ${failure.message}`)
    }
    run = executed.run
    runId = state.runId
    transition = completeActivation(first, executed.outcome, now)
  }
  const committed = yield* commitTransition(delivery, revision, before, transition, { now, retentionMs: config.retentionMs })
  const after = transition.state
  // A continue-as-new commits the *next* run's state: the live run belongs to the one that closed.
  if (run !== undefined && cacheable(after) && after.runId === runId) {
    const bytes = committed.stateLength > 0 ? estimateRunBytes(after, committed.stateLength) : cached?.bytes ?? estimateRunBytes(after, 0)
    config.cache.put(delivery.key, { version: committed.version, token: committed.token, state: after, run, bytes })
  }
  if (config.onTimers !== undefined) {
    let earliest = Infinity
    for (const command of transition.commands) if (command.type === "SetTimer" && command.fireAt < earliest) earliest = command.fireAt
    if (earliest !== Infinity) config.onTimers(earliest)
  }
})

/**
 * Process one delivery to completion: retry lost races (reloading state each
 * time) and store errors (with backoff). A step that fails, dies on a bug or
 * is interrupted leaves its message pending for redelivery and nothing in
 * the cache.
 */
export const processDelivery = <R>(config: WorkflowTaskConfig<R>, delivery: Delivery, clockOffset = 0): Effect.Effect<void, never, Store> =>
  attempt(config, delivery, clockOffset, true).pipe(
    // The common case succeeds first time; only a failure pays for the retry machinery.
    Effect.catch(() => retrying(config, delivery, clockOffset)),
    // A bug must not stop the worker: log it and leave the message pending
    // (re-delivered after the visibility timeout, dead-lettered after maxDeliveries).
    Effect.catchDefect((defect) => Effect.logError(`workflow ${delivery.key}: step failed unexpectedly; the message will be re-delivered`, defect)),
  )

const retrying = <R>(config: WorkflowTaskConfig<R>, delivery: Delivery, clockOffset: number): Effect.Effect<void, never, Store> =>
  retryStoreErrors(
    `workflow ${delivery.key}`,
    retryConflicts(attempt(config, delivery, clockOffset, false), MAX_CONFLICTS).pipe(
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
export const runWorkflowTasks = <R>(config: WorkflowTaskConfig<R>): Effect.Effect<never, never, Store> =>
  Effect.gen(function* () {
    const store = yield* Store
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
    const readBatch = retryStoreErrors("workflow read", readWorkflowMessages(config.taskQueue, { consumer: config.consumer, count: config.batchSize, blockMs: 5000 }))
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
