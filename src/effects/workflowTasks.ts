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
import { Clock, Effect, Fiber, Result } from "effect"
import type { WorkflowMessage } from "../core/messages.ts"
import { chainTransitions, completeActivation, deferLocalActivities, localActivitiesDue, recordOfStart, reduce, type Transition } from "../core/reduce.ts"
import type { ExecutionState } from "../core/state.ts"
import { type Delivery, Store, type StoreError, type StoreShape } from "../stores/Store.ts"
import {
  claimedType,
  commitQueryAnswer,
  commitTransitionTo,
  deadLetterDelivery,
  loadExecution,
  loadJournal,
  readWorkflowMessages,
  retryConflicts,
  type Revision,
  workflowMessageOf,
} from "./executions.ts"
import type { QueryOutcome, RunSource, WorkflowExecutor } from "./executors.ts"
import { type Handoff, HANDOFF_BELOW, makeInbox } from "./handoff.ts"
import { type LocalActivities, runLocalAttempt } from "./localActivities.ts"
import { Metrics, type MetricsSink } from "./metrics.ts"
import { type CachedRun, estimateRunBytes, RunCache } from "./runCache.ts"
import { MESSAGE_STORE_RETRIES, retryStoreErrors, retryStoreErrorsUpTo, sleepReal } from "./storeRetry.ts"

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
  /**
   * On interruption (shutdown), how long (real ms) the batch in progress may
   * still run before it is interrupted too (its unfinished messages stay
   * pending and are re-delivered). Default 10 000.
   */
  readonly shutdownGraceMs?: number
  /** How local activities (`proxyLocalActivities`) run; without it their attempts fail as not registered. */
  readonly local?: LocalActivities
  /**
   * The worker's hand-off (handoff.ts): a step claims the activity tasks it
   * schedules for the worker's activity loop, and this loop takes the
   * workflow messages the worker's activity completions claim.
   */
  readonly handoff?: Handoff
}

const MAX_CONFLICTS = 50

/** Rounds of local activities one step runs before it commits and hands the rest to durable timers. */
const MAX_LOCAL_ROUNDS = 100

/** Outcomes of the local attempts a delivery ran, kept across its retries (a lost race does not run them again). */
type LocalOutcomes = Map<string, WorkflowMessage>

/** The live run of `cached` if it belongs to `state`'s run, else the journal to replay (none needed for a run with no history yet). */
const sourceFor = <R>(cached: CachedRun<R> | undefined, state: ExecutionState): Effect.Effect<RunSource<R>, StoreError, Store> => {
  const source = sourceAtHand(cached, state)
  return source !== undefined ? Effect.succeed(source) : Effect.map(loadJournal(state.workflowId, state.runId), (journal) => ({ journal }))
}

const NO_JOURNAL: RunSource<never> = { journal: [] }

/** The source when it needs no store read (the common case), else undefined. */
const sourceAtHand = <R>(cached: CachedRun<R> | undefined, state: ExecutionState): RunSource<R> | undefined => {
  if (cached !== undefined && cached.state.runId === state.runId) return { live: cached.run }
  return state.journalLength === 0 ? NO_JOURNAL : undefined
}

/** What a loop looks up once rather than on every step. */
interface StepEnv {
  readonly store: StoreShape
  readonly clock: Clock.Clock
  readonly metrics: MetricsSink
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
 * A message that can never be decoded (not JSON, a missing or mistyped field,
 * a type this version does not know) goes to the dead letters at once, with
 * the reason: re-delivering it would fail the same way every time. (A message
 * that decodes but whose step fails is left pending instead: the failure may
 * be transient, or fixed by a newer worker.)
 */
const deadLetterUndecodable = (env: StepEnv, delivery: Delivery, reason: string) =>
  Effect.gen(function* () {
    const type = claimedType(delivery.body)
    const what = type === "Signal" ? "malformed signal" : type === undefined ? "unreadable message" : `malformed ${type} message`
    yield* Effect.logWarning(`workflow ${delivery.key}: ${what} ${delivery.id} moved to the dead letters: ${reason}`)
    yield* deadLetterDelivery(delivery, reason)
    env.metrics.deadLettered(delivery.stream.taskQueue, "workflow")
  })

/**
 * Process one delivery once: the whole durable step. Fails with
 * `CommitConflict` when it lost a race (nothing was written, nothing cached).
 */
const attempt = Effect.fnUntraced(function* <R>(
  env: StepEnv,
  config: WorkflowTaskConfig<R>,
  delivery: Delivery,
  clockOffset: number,
  firstAttempt: boolean,
  localOutcomes: LocalOutcomes,
) {
  const metrics = env.metrics
  const began = metrics.enabled ? performance.now() : 0
  const decoded = workflowMessageOf(delivery)
  if (Result.isFailure(decoded)) return yield* deadLetterUndecodable(env, delivery, decoded.failure.reason)
  const message = decoded.success
  // The step owns the cached entry from here on; only a committed step puts one back.
  const cached = config.cache.take(delivery.key)
  // Nothing cached: a client's Start says what it wrote (first attempt only: a conflict means it moved on).
  // Either guess names the write it assumes (version and token): a record the store has since
  // replaced, even by a write that reached the same version after a rollback, fails the commit.
  const { version, token, state: before } = cached ?? (firstAttempt ? recordOfStart(message) : undefined) ?? (yield* loadExecution(delivery.key))
  const revision: Revision = { version, token }
  // The step's time is the store's clock (timers fire by it), read locally plus the batch's offset.
  const now = env.clock.currentTimeMillisUnsafe() + clockOffset
  const first = reduce(before, message, now)

  if (first.query !== undefined) {
    const { queryId, name, args, headers } = first.query
    let answer = notFound(delivery.key)
    let run = cached?.run
    if (before !== undefined) {
      const source = yield* sourceFor(cached, before)
      const executed = yield* Effect.promise(() => config.executor.query(before, source, name, args, { queryId, ...(headers === undefined ? {} : { headers }) }))
      answer = executed.outcome
      run = executed.run
    }
    yield* commitQueryAnswer(delivery, revision, queryId, answer)
    if (metrics.enabled) metrics.step("workflow", config.taskQueue, (performance.now() - began) / 1000)
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
    const source = sourceAtHand(cached, state) ?? (yield* sourceFor(cached, state))
    const ran = metrics.enabled ? performance.now() : 0
    const executed = yield* Effect.promise(() => config.executor.activate(state, source))
    if (metrics.enabled) {
      const waited = delivery.appendedAt === undefined ? undefined : Math.max(0, now - delivery.appendedAt) / 1000
      metrics.workflowTask(config.taskQueue, state.workflowType, waited, (performance.now() - ran) / 1000, !executed.outcome.ok)
    }
    if (!executed.outcome.ok) {
      const { failure } = executed.outcome
      yield* Effect.logWarning(`workflow ${state.workflowId} (${state.workflowType}): task failed, will retry: ${failure.type}: ${failure.message}`)
    }
    run = executed.run
    runId = state.runId
    transition = completeActivation(first, executed.outcome, now)
  }
  if (localActivitiesDue(transition.state, now).length > 0) {
    const settled = yield* settleLocalActivities(env, config, delivery, transition, run, runId, clockOffset, localOutcomes)
    transition = settled.transition
    run = settled.run
    runId = settled.runId
  }
  const committed = yield* commitTransitionTo(env.store, delivery, revision, before, transition, { now, retentionMs: config.retentionMs }, undefined, config.handoff)
  if (metrics.enabled) metrics.step("workflow", config.taskQueue, (performance.now() - began) / 1000)
  const after = transition.state
  // A continue-as-new commits the *next* run's state: the live run belongs to the one that closed.
  if (run !== undefined && cacheable(after) && after.runId === runId) {
    // A state the store keeps unencoded (the embedded store holds the object the cache holds) is charged nothing.
    const bytes = committed.stateLength !== undefined ? estimateRunBytes(after, committed.stateLength) : cached?.bytes ?? estimateRunBytes(after, 0)
    config.cache.put(delivery.key, { version: committed.version, token: committed.token, state: after, run, bytes })
  }
  if (config.onTimers !== undefined) {
    let earliest = Infinity
    for (const command of transition.commands) if (command.type === "SetTimer" && command.fireAt < earliest) earliest = command.fireAt
    if (earliest !== Infinity) config.onTimers(earliest)
  }
})

/**
 * Run the local activities the step's transition waits for, in this
 * process, and fold their outcomes in: each round runs every due attempt
 * once, reduces the outcomes (a retry within its `localRetryThreshold` is due
 * again next round) and, if that produced jobs, activates the code, which may
 * schedule more. The delivery stays claimed meanwhile (touched), so a worker
 * that dies here leaves it to be re-delivered, and the step — local
 * activities included — runs again elsewhere. After `MAX_LOCAL_ROUNDS` the
 * attempts still due go to durable timers and the step commits.
 */
const settleLocalActivities = Effect.fnUntraced(function* <R>(
  env: StepEnv,
  config: WorkflowTaskConfig<R>,
  delivery: Delivery,
  start: Transition,
  startRun: R | undefined,
  startRunId: string | undefined,
  clockOffset: number,
  memo: LocalOutcomes,
) {
  let transition = start
  let run = startRun
  let runId = startRunId
  const touchEvery = env.store.visibilityTimeoutMs / 3
  const toucher = yield* Effect.forkChild(Effect.forever(Effect.sleep(touchEvery).pipe(Effect.andThen(Effect.ignore(env.store.touch(delivery))))))
  const rounds = Effect.gen(function* () {
    for (let round = 0; ; round++) {
      const state = transition.state
      const now = env.clock.currentTimeMillisUnsafe() + clockOffset
      const due = localActivitiesDue(state, now)
      if (state === undefined || due.length === 0) return
      if (round === MAX_LOCAL_ROUNDS) {
        transition = chainTransitions(transition, deferLocalActivities(state, now))
        return
      }
      const messages = yield* Effect.forEach(due, ({ task, runAt }) => {
        const key = `${task.runId}:${task.seq}:${task.attempt}`
        const known = memo.get(key)
        if (known !== undefined) return Effect.succeed(known)
        return Effect.tap(runLocalAttempt(config.local, task, runAt, env.clock, clockOffset), (message) => Effect.sync(() => memo.set(key, message)))
      }, { concurrency: "unbounded" })
      const at = env.clock.currentTimeMillisUnsafe() + clockOffset
      let reduced: Transition = { state, journal: [], commands: [], activate: false, closed: false }
      let activate = false
      for (const [i, message] of messages.entries()) {
        // A timed-out attempt is reduced as of its deadline at the earliest (the clock may be virtual).
        const deadline = due[i]!.task.deadline
        const next = reduce(reduced.state, message, message.type === "TimerFired" && deadline !== undefined ? Math.max(at, deadline) : at)
        activate ||= next.activate
        reduced = chainTransitions(reduced, next)
      }
      const after = reduced.state
      if (activate && after !== undefined) {
        const source: RunSource<R> = run !== undefined && runId === after.runId
          ? { live: run }
          : after.journalLength === 0
          ? NO_JOURNAL
          // Replay what is committed and what this step has journaled so far.
          : { journal: [...(yield* loadJournal(after.workflowId, after.runId)), ...transition.journal, ...reduced.journal] }
        const executed = yield* Effect.promise(() => config.executor.activate(after, source))
        if (!executed.outcome.ok) {
          const { failure } = executed.outcome
          yield* Effect.logWarning(`workflow ${after.workflowId} (${after.workflowType}): task failed, will retry: ${failure.type}: ${failure.message}`)
        }
        run = executed.run
        runId = after.runId
        reduced = completeActivation(reduced, executed.outcome, at)
      }
      transition = chainTransitions(transition, reduced)
    }
  })
  yield* rounds.pipe(Effect.ensuring(Fiber.interrupt(toucher)))
  return { transition, run, runId }
})

/**
 * Process one delivery to completion: retry lost races (reloading state each
 * time) and store errors (with backoff). A step that fails, dies on a bug or
 * is interrupted leaves its message pending for redelivery and nothing in
 * the cache.
 */
export const processDelivery = <R>(config: WorkflowTaskConfig<R>, delivery: Delivery, clockOffset = 0): Effect.Effect<void, never, Store> =>
  Effect.flatMap(stepEnv, (env) => Effect.asVoid(processWith(env, config, delivery, clockOffset)))

const stepEnv: Effect.Effect<StepEnv, never, Store> = Effect.gen(function* () {
  return { store: yield* Store, clock: yield* Clock.Clock, metrics: yield* Metrics }
})

/**
 * Whether the step is over for its message (`true`: committed, or another
 * consumer had finished it) or left it pending (`false`: given up for now, a
 * bug, a store that kept failing). `report`: the delivery is an activity's
 * unwritten report (handoff.ts `Report`), which the loop writes when the
 * step leaves it — so it is not given back here.
 */
const processWith = <R>(env: StepEnv, config: WorkflowTaskConfig<R>, delivery: Delivery, clockOffset: number, report = false): Effect.Effect<boolean, never, Store> =>
  Effect.suspend(() => {
    const localOutcomes: LocalOutcomes = new Map()
    return attempt(env, config, delivery, clockOffset, true, localOutcomes).pipe(
      Effect.as(true),
      // The common case succeeds first time; only a failure pays for the retry machinery.
      Effect.catch((error) => {
        countFailure(env, error, true)
        return retrying(env, config, delivery, clockOffset, localOutcomes, report)
      }),
    )
  }).pipe(
    // A bug must not stop the worker: log it and leave the message pending
    // (re-delivered after the visibility timeout, dead-lettered after maxDeliveries).
    Effect.catchDefect((defect) =>
      Effect.as(Effect.logError(`workflow ${delivery.key}: step failed unexpectedly; ${report ? "the report is written instead" : "the message will be re-delivered"}`, defect), false)),
  )

/** Count a step's lost race; and a store error of its first attempt (the retries count their own, in `retryStoreErrorsUpTo`). */
const countFailure = (env: StepEnv, error: { readonly _tag: string }, firstAttempt: boolean): void => {
  if (error._tag === "CommitConflict" && (error as { readonly reason?: string }).reason === "version") env.metrics.commitConflict()
  else if (firstAttempt && error._tag === "StoreError") env.metrics.storeError((error as StoreError).operation)
}

/**
 * The slow path: lost races are recomputed (at most `MAX_CONFLICTS` times) and
 * store errors retried with backoff, at most `MESSAGE_STORE_RETRIES` times;
 * past either bound the message is given back for re-delivery and the loop
 * goes on, so one message never holds up the batch or the loop behind it.
 */
const retrying = <R>(
  env: StepEnv,
  config: WorkflowTaskConfig<R>,
  delivery: Delivery,
  clockOffset: number,
  localOutcomes: LocalOutcomes,
  report: boolean,
): Effect.Effect<boolean, never, Store> =>
  retryStoreErrorsUpTo(
    `workflow ${delivery.key}`,
    retryConflicts(
      Effect.tapError(attempt(env, config, delivery, clockOffset, false, localOutcomes), (error) => Effect.sync(() => countFailure(env, error, false))),
      MAX_CONFLICTS,
    ),
    MESSAGE_STORE_RETRIES,
  ).pipe(
    Effect.as(true),
    Effect.catchTags({
      // "not-pending": another consumer already finished this message; anything else: give up for now (redelivered later).
      CommitConflict: (conflict) =>
        conflict.reason === "not-pending"
          ? Effect.succeed(true)
          : Effect.as(Effect.logWarning(`workflow ${delivery.key}: gave up after ${MAX_CONFLICTS} commit conflicts`), false),
      StoreError: (error) =>
        report
          ? Effect.as(Effect.logWarning(`workflow ${delivery.key}: store error persists (${error.message}); the report is written instead`), false)
          : Effect.logWarning(`workflow ${delivery.key}: store error persists (${error.message}); message ${delivery.id} given back for re-delivery`).pipe(
            // The store failed, not the message: this delivery does not count toward dead-lettering.
            Effect.andThen(env.store.release([delivery], { uncounted: true })),
            Effect.ignore,
            Effect.as(false),
          ),
    }),
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
 * interruption (shutdown) takes effect, within `shutdownGraceMs`; a blocked
 * read is interrupted at once. A defect in a read is logged and the read retried.
 *
 * With a hand-off, messages the worker's activity completions claimed run
 * beside the batches, one workflow's messages still one at a time, in order:
 * a workflow with a step in progress (from a batch or a hand-off) queues
 * them behind it.
 */
export const runWorkflowTasks = <R>(config: WorkflowTaskConfig<R>): Effect.Effect<never, never, Store> =>
  Effect.scoped(Effect.gen(function* () {
    const env = yield* stepEnv
    const context = yield* Effect.context<Store>()
    const store = env.store
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
    const readBatch = retryStoreErrors("workflow read", readWorkflowMessages(config.taskQueue, { consumer: config.consumer, count: config.batchSize, blockMs: 5000 })).pipe(
      Effect.catchDefect((defect) =>
        Effect.logError("workflow read failed unexpectedly; retrying in 1 s", defect).pipe(Effect.andThen(sleepReal(1000)), Effect.as([]))),
    )
    const graceMs = config.shutdownGraceMs ?? 10_000

    /** Workflows with a step in progress, and the messages waiting behind it. */
    const busy = new Map<string, Array<Delivery>>()
    let handed = 0
    /** Messages of the batch in progress. */
    let inBatch = 0
    let closing = false
    /** Activities' reports run as steps (handoff.ts `Report`), each with the write that reports it the ordinary way. */
    const reports = new Map<Delivery, Effect.Effect<void, never, Store>>()
    /** The write of `delivery`'s report if it is one (and it is then no longer this loop's), else undefined. */
    const takeWrite = (delivery: Delivery): Effect.Effect<void, never, Store> | undefined => {
      const write = reports.get(delivery)
      if (write !== undefined) reports.delete(delivery)
      return write
    }
    /** Run `first`, then whatever queued behind it, for one workflow; on interruption give the rest back. */
    const drain = (key: string, first: Delivery): Effect.Effect<void, never, Store> => {
      let current: Delivery | undefined = first
      return Effect.gen(function* () {
        while (current !== undefined) {
          const report = reports.has(current)
          const done = yield* processWith(env, config, current, yield* clockOffset, report)
          const write = report ? takeWrite(current) : undefined
          // A report whose step did not commit is written, acknowledging its task (or finding it done).
          if (write !== undefined && !done) yield* write
          handed--
          current = busy.get(key)?.shift()
        }
        busy.delete(key)
      }).pipe(
        Effect.onInterrupt(() => {
          const rest = [...(current === undefined ? [] : [current]), ...(busy.get(key) ?? [])]
          busy.delete(key)
          return giveBack(rest)
        }),
      )
    }
    /** Not the messages' fault: given back uncounted, for the next read (here or elsewhere); reports are written instead. */
    const giveBack = (deliveries: ReadonlyArray<Delivery>): Effect.Effect<void, never, Store> => {
      if (deliveries.length === 0) return Effect.void
      handed -= deliveries.length
      const messages: Array<Delivery> = []
      const writes: Array<Effect.Effect<void, never, Store>> = []
      for (const delivery of deliveries) {
        const write = takeWrite(delivery)
        if (write === undefined) messages.push(delivery)
        else writes.push(write)
      }
      const released = messages.length === 0 ? Effect.void : Effect.ignore(store.release(messages, { uncounted: true }))
      return writes.length === 0 ? released : Effect.andThen(released, Effect.all(writes, { concurrency: "unbounded", discard: true }))
    }
    /**
     * Take `delivery`'s workflow for the caller to run it (true), or queue the
     * delivery behind the step in progress there (false). Decided when the
     * message arrives — a claim's accept, a batch's read — not when it
     * starts, so a message never overtakes an older one of its workflow.
     */
    const own = (delivery: Delivery): boolean => {
      const waiting = busy.get(delivery.key)
      if (waiting === undefined) {
        busy.set(delivery.key, [])
        return true
      }
      waiting.push(delivery)
      return false
    }
    /** Claimed messages whose workflow they own: each drains its workflow's queue after it. */
    const inbox = config.handoff === undefined ? undefined : yield* makeInbox((delivery: Delivery) => drain(delivery.key, delivery))
    if (config.handoff !== undefined && inbox !== undefined) {
      const unregister = config.handoff.register("workflow", config.taskQueue, {
        consumer: config.consumer,
        reserve: (want) => {
          if (closing) return 0
          // A loop with work at hand reads the rest in batches (cheaper per step than one hand-off each).
          const room = Math.min(want, HANDOFF_BELOW - handed - inBatch)
          if (room <= 0) return 0
          handed += room
          return room
        },
        accept: (reserved, claimed) => {
          handed -= reserved - claimed.length
          if (closing) Effect.runForkWith(context)(giveBack(claimed))
          else inbox.offer(claimed.filter(own))
        },
        step: (report, write) => {
          // Only a report that runs at once: one queued behind its workflow's step in progress is
          // written instead, so its task is never left untouched while it waits.
          if (closing || busy.has(report.key)) return false
          handed++
          reports.set(report, write)
          own(report)
          inbox.offer([report])
          return true
        },
      })
      // On shutdown: no more hand-offs; those in progress get the grace a batch gets, then are interrupted.
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => {
          closing = true
          unregister()
          return Effect.raceFirst(inbox.idle, sleepReal(graceMs))
        }).pipe(
          Effect.andThen(inbox.unstarted),
          Effect.flatMap((unstarted) => giveBack(unstarted.flatMap((delivery) => [delivery, ...(busy.get(delivery.key) ?? [])]))),
        )
      )
    }

    /** One workflow's messages of a batch, in order (its workflow owned by the batch). */
    const runGroup = (group: ReadonlyArray<Delivery>, offset: number): Effect.Effect<void, never, Store> => {
      const steps = group.length === 1
        ? processWith(env, config, group[0]!, offset)
        : Effect.forEach(group, (delivery) => processWith(env, config, delivery, offset), { discard: true })
      if (inbox === undefined) return steps
      const key = group[0]!.key
      return steps.pipe(
        // Hand-offs that queued meanwhile: the inbox runs them (the batch does not wait for them).
        Effect.ensuring(Effect.sync(() => {
          const next = busy.get(key)?.shift()
          if (next === undefined) busy.delete(key)
          else inbox.offer([next])
        })),
      )
    }
    /** A batch's workflows: those with a hand-off in progress queue their messages behind it. */
    const processBatch = (deliveries: ReadonlyArray<Delivery>) =>
      Effect.suspend(() => {
        inBatch = deliveries.length
        const groups = byKey(deliveries)
        const owned = inbox === undefined ? groups : groups.filter((group) => {
          if (own(group[0]!)) return true
          // Queued behind the hand-off in progress (its drain counts them down as they run).
          handed += group.length
          busy.get(group[0]!.key)!.push(...group.slice(1))
          return false
        })
        return Effect.flatMap(clockOffset, (offset) => Effect.forEach(owned, (group) => runGroup(group, offset), { concurrency: "unbounded", discard: true }))
      }).pipe(Effect.ensuring(Effect.sync(() => void (inBatch = 0))))
    // A batch in progress is finished before an interruption (shutdown) takes effect — for up
    // to `graceMs` of real time; then it is interrupted too, and its unfinished messages stay
    // pending (re-delivered: a step that did not commit changed nothing).
    const withGrace = (deliveries: ReadonlyArray<Delivery>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const batch = yield* Effect.forkChild(processBatch(deliveries), { startImmediately: true })
          return yield* restore(Fiber.join(batch)).pipe(
            Effect.onInterrupt(() =>
              Effect.raceFirst(Fiber.await(batch), sleepReal(graceMs)).pipe(Effect.andThen(Fiber.interrupt(batch)))),
          )
        }))
    return yield* Effect.forever(Effect.flatMap(readBatch, withGrace))
  }))
