/**
 * The activity-task interpreter: read an activity task, run it, and write
 * its outcome to the workflow's stream while acknowledging the task — one
 * atomic `complete`. Activities run at least once: a worker that dies
 * mid-activity leaves the task pending, and it is re-delivered. An activity
 * that completes asynchronously has its task acknowledged with no report: the
 * workflow keeps waiting, under the attempt's durable timeout timers, for a
 * client to send the outcome with its task token.
 */
import { Clock, type Context, Effect, Exit, Latch, Result } from "effect"
import { describeFailure } from "../core/failure.ts"
import type { ActivityTask, WorkflowMessage } from "../core/messages.ts"
import type { Payload } from "../core/payload.ts"
import type { ExecutionState } from "../core/state.ts"
import { type Delivery, Store, type StoreError, type StoreShape } from "../stores/Store.ts"
import { activityStream, activityTaskOf, completeActivityTask, deadLetterDelivery, loadExecution, sendToWorkflow, stepReport } from "./executions.ts"
import { type ActivityPermits, makeActivityPermits } from "./activityPermits.ts"
import { type ActivityExecutor, Cancellation } from "./executors.ts"
import { type Handoff, HANDOFF_BELOW, makeInbox } from "./handoff.ts"
import { Metrics, type MetricsSink } from "./metrics.ts"
import { MESSAGE_STORE_RETRIES, retryStoreErrors, retryStoreErrorsUpTo, sleepReal } from "./storeRetry.ts"

/** Configuration of an activity-task loop. */
export interface ActivityTaskConfig {
  readonly taskQueue: string
  readonly consumer: string
  readonly executor: ActivityExecutor
  /** Activities run at once by this loop (Temporal's `maxConcurrentActivityTaskExecutions`). */
  readonly maxConcurrent: number
  /** Minimum time between two heartbeats of one task sent to the store (lower when the heartbeat timeout needs it). */
  readonly heartbeatThrottleMs: number
  /** This loop's own rate limit, tasks started per second (Temporal's `maxActivitiesPerSecond`); the queue's limits are in the store. */
  readonly maxPerSecond?: number
  /**
   * The worker's hand-off (handoff.ts): this loop takes the activity tasks
   * the worker's own workflow steps claim, and each completion claims the
   * workflow message it wrote when the worker runs that workflow queue.
   */
  readonly handoff?: Handoff
}

/**
 * Where the attempt `task` (or a task token) describes stands: the current
 * one of its call (`"current"`), the current one of a call the workflow asked
 * to cancel (`"cancelRequested"`: its outcome is still taken, and ends the
 * call — under `ABANDON` the attempt is never told, so it stays `"current"`),
 * or one its workflow no longer waits for (`"gone"`: retried, timed out,
 * completed, or its workflow closed).
 */
export const attemptStatus = (state: ExecutionState | undefined, task: Pick<ActivityTask, "runId" | "seq" | "attempt">): "current" | "cancelRequested" | "gone" => {
  const activity = state?.activities[task.seq]
  if (state === undefined || state.status !== "RUNNING" || state.runId !== task.runId || activity?.attempt !== task.attempt || !activity.dispatched) return "gone"
  return activity.cancelRequested === true && activity.options.cancellationType !== "ABANDON" ? "cancelRequested" : "current"
}

/** An attempt in progress, as the worker's ticker sees it. */
interface Running {
  readonly delivery: Delivery
  readonly cancellation: Cancellation
  /** Local deadline (store clock), if the attempt has one. */
  readonly deadline: number
  lastTouch: number
  /** The workflow no longer waits for this attempt, or its deadline passed: do not report an outcome. */
  abandoned: boolean
  /** Its concurrency lease (a queue with a concurrency limit), renewed with each touch. */
  readonly lease: string | undefined
}

/** What the loop looks up once rather than for every task. */
interface LoopEnv {
  readonly store: StoreShape
  readonly context: Context.Context<Store>
  readonly clock: Clock.Clock
  readonly metrics: MetricsSink
}

/**
 * A heartbeat records its details for the next attempt, re-arms the heartbeat
 * timeout (if any), and learns whether the workflow still waits for this attempt.
 */
const sendHeartbeat = (task: ActivityTask, entry: Running, details: Payload) =>
  Effect.gen(function* () {
    const message: WorkflowMessage = { type: "ActivityHeartbeat", runId: task.runId, seq: task.seq, attempt: task.attempt, details }
    yield* sendToWorkflow(task.workflowTaskQueue, task.workflowId, message)
    const { state } = yield* loadExecution(task.workflowId)
    const status = attemptStatus(state, task)
    if (status === "gone") {
      entry.abandoned = true
      entry.cancellation.abort(new Error("Activity cancelled: its workflow no longer waits for this attempt"))
    } else if (status === "cancelRequested") {
      // Its outcome is still reported: the workflow may wait for it (WAIT_CANCELLATION_COMPLETED).
      entry.cancellation.abort(new Error("Activity cancelled by its workflow"))
    }
  }).pipe(Effect.ignore)

const runOne = Effect.fnUntraced(function* (env: LoopEnv, config: ActivityTaskConfig, delivery: Delivery, running: Set<Running>, lease: string | undefined) {
  const { store, context } = env
  const decoded = activityTaskOf(delivery)
  if (Result.isFailure(decoded)) {
    // It can never be decoded: dead-letter it at once (a task that decodes but fails is retried instead).
    const { reason } = decoded.failure
    yield* Effect.logWarning(`activity task ${delivery.id} (workflow ${delivery.key}) moved to the dead letters: ${reason}`)
    yield* retryStoreErrorsUpTo(`activity task ${delivery.id}`, deadLetterDelivery(delivery, reason), MESSAGE_STORE_RETRIES)
    env.metrics.deadLettered(config.taskQueue, "activity")
    return
  }
  const task = decoded.success
  const { metrics } = env
  const began = metrics.enabled ? performance.now() : 0
  if (metrics.enabled) {
    const scheduledAt = task.attemptScheduledAt ?? task.scheduledAt
    metrics.activityStarted(config.taskQueue, task.activityType, Math.max(0, env.clock.currentTimeMillisUnsafe() - scheduledAt) / 1000, task.attempt)
  }
  const cancellation = new Cancellation()
  const entry: Running = { delivery, cancellation, deadline: task.deadline ?? Infinity, lastTouch: env.clock.currentTimeMillisUnsafe(), abandoned: false, lease }
  const interval = Math.min(
    config.heartbeatThrottleMs,
    store.visibilityTimeoutMs / 3,
    task.heartbeatTimeoutMs === undefined ? Infinity : task.heartbeatTimeoutMs * 0.8,
  )
  let lastSent = -Infinity
  let finished = false
  let trailing: { details: Payload } | undefined
  const send = (details: Payload) => {
    lastSent = performance.now()
    Effect.runForkWith(context)(sendHeartbeat(task, entry, details))
  }
  /** The details of the attempt's last heartbeat (sent or throttled): its failure carries them. */
  let lastDetails: { readonly details: Payload } | undefined
  /** Throttled: at most one send per `interval`; the last details of a window are sent at its end. */
  const heartbeat = (details: Payload) => {
    lastDetails = { details }
    const wait = interval - (performance.now() - lastSent)
    if (wait <= 0) return send(details)
    if (trailing !== undefined) {
      trailing.details = details
      return
    }
    trailing = { details }
    setTimeout(() => {
      const last = trailing
      trailing = undefined
      if (!finished && last !== undefined) send(last.details)
    }, wait)
  }
  running.add(entry)
  // One finalizer for both ends (cheaper per task than `ensuring` plus `onInterrupt`).
  const outcome = yield* Effect.onExit(Effect.promise(() => config.executor.run(task, cancellation, heartbeat)), (exit) => {
    finished = true
    running.delete(entry)
    if (!Exit.hasInterrupts(exit)) return Effect.void
    cancellation.abort(new Error("Worker shutting down"))
    // A worker shutting down is not the task's fault: its delivery does not count toward dead-lettering.
    return Effect.ignore(store.release([delivery], { uncounted: true }))
  })
  if (metrics.enabled) {
    const result = entry.abandoned ? "abandoned" : outcome.ok === "async" ? "async" : outcome.ok ? "completed" : "failed"
    metrics.activityFinished(config.taskQueue, task.activityType, (performance.now() - began) / 1000, result)
  }
  const message: WorkflowMessage | undefined = outcome.ok === "async"
    ? undefined
    : outcome.ok
    ? { type: "ActivityCompleted", runId: task.runId, seq: task.seq, attempt: task.attempt, result: outcome.result }
    : lastDetails?.details === undefined
    ? { type: "ActivityFailed", runId: task.runId, seq: task.seq, attempt: task.attempt, failure: outcome.failure }
    : { type: "ActivityFailed", runId: task.runId, seq: task.seq, attempt: task.attempt, failure: outcome.failure, heartbeatDetails: lastDetails.details }
  if (outcome.ok === false && !entry.abandoned) {
    // As Temporal's worker: a failed attempt is a warning, unless the code marked the failure BENIGN (expected).
    const line = `activity ${task.activityType} (workflow ${task.workflowId}, attempt ${task.attempt}) failed: ${describeFailure(outcome.failure)}`
    yield* outcome.failure.category === "BENIGN" ? Effect.logDebug(line) : Effect.logWarning(line)
  }
  const report = entry.abandoned ? undefined : message
  const stepped = () => {
    if (metrics.enabled) metrics.step("activity", config.taskQueue, (performance.now() - began) / 1000)
  }
  // Bounded: past it the task is given back and runs again (activities are at-least-once).
  const written = retryStoreErrorsUpTo("activity completion", completeActivityTask(delivery, task, report, config.handoff), MESSAGE_STORE_RETRIES)
  const orGiveBack = (self: Effect.Effect<void, StoreError, Store>) =>
    Effect.catchTag(self, "StoreError", (error) =>
      Effect.logWarning(`activity task ${delivery.id} (workflow ${delivery.key}): could not report its outcome (${error.message}); given back for re-delivery`).pipe(
        Effect.andThen(store.release([delivery])),
        Effect.ignore,
      ))
  // A workflow this worker runs: the report is its next step, unwritten, and that step's commit
  // acknowledges the task (handoff.ts). The loop that takes it writes it if the step does not commit.
  if (report !== undefined && stepReport(config.handoff, delivery, task, report, env.clock.currentTimeMillisUnsafe(), orGiveBack(written))) return stepped()
  yield* orGiveBack(Effect.tap(written, () => Effect.sync(stepped)))
})

/**
 * One timer per worker, not per activity: every tick, touch each running
 * attempt's task that was last touched a third of the visibility timeout ago
 * (a live worker keeps its claim however long an activity runs; a dead or
 * frozen one stops, and the task is reclaimed), and abort attempts whose
 * local deadline passed (cooperative: the durable timeout is the
 * workflow's timer).
 */
const tick = (running: Set<Running>, permits: ActivityPermits) =>
  Effect.gen(function* () {
    const store = yield* Store
    const touchEvery = store.visibilityTimeoutMs / 3
    const period = Math.min(1000, touchEvery)
    return yield* Effect.forever(
      Effect.gen(function* () {
        yield* Effect.sleep(period)
        const now = yield* Clock.currentTimeMillis
        const touches: Array<Delivery> = []
        const leases: Array<string> = []
        for (const entry of running) {
          if (now >= entry.deadline && !entry.abandoned) {
            entry.abandoned = true
            entry.cancellation.abort(new Error("Activity deadline passed"))
          }
          if (now - entry.lastTouch >= touchEvery - period) {
            entry.lastTouch = now
            touches.push(entry.delivery)
            if (entry.lease !== undefined) leases.push(entry.lease)
          }
        }
        yield* Effect.forEach(touches, (delivery) => Effect.ignore(store.touch(delivery)), { concurrency: 16, discard: true })
        yield* permits.renew(leases)
      }),
    )
  })

/**
 * The loop: keep up to `maxConcurrent` activities running, reading as many
 * tasks as there are free slots and permits (`activityPermits.ts`: the
 * queue's limits, this worker's rate). Interrupting it (worker shutdown) aborts the
 * running activities' `cancellationSignal` and releases their tasks for
 * immediate re-delivery to another worker.
 */
export const runActivityTasks = (config: ActivityTaskConfig): Effect.Effect<never, never, Store> =>
  Effect.scoped(Effect.gen(function* () {
    const store = yield* Store
    const env: LoopEnv = { store, context: yield* Effect.context<Store>(), clock: yield* Clock.Clock, metrics: yield* Metrics }
    const stream = activityStream(config.taskQueue)
    const slotFree = yield* Latch.make(true)
    const running = new Set<Running>()
    const permits = makeActivityPermits(store, env.clock, {
      taskQueue: config.taskQueue,
      holder: config.consumer,
      ...(config.maxPerSecond === undefined ? {} : { localRate: config.maxPerSecond }),
    })
    yield* Effect.forkChild(tick(running, permits))
    let active = 0
    const freeSlots = (n: number) => {
      active -= n
      slotFree.openUnsafe()
    }
    /** Run one task in a slot already counted in `active`; the slot (and the lease) is freed when it is done. */
    const start = (delivery: Delivery, lease: string | undefined) =>
      runOne(env, config, delivery, running, lease).pipe(
        Effect.catch((error) => Effect.logWarning(`activity task ${delivery.id}: store error (${error.message}); it will be re-delivered`)),
        Effect.catchDefect((defect) => Effect.logError(`activity task ${delivery.id}: failed unexpectedly; it will be re-delivered`, defect)),
        // The lease first: the loop, woken by the free slot, may ask for it at once.
        Effect.ensuring(Effect.andThen(lease === undefined ? Effect.void : permits.release(lease), Effect.sync(() => freeSlots(1)))),
      )
    if (config.handoff !== undefined) {
      // Tasks the worker's own steps claimed run here as if read (an unlimited queue only: they took no permit).
      const inbox = yield* makeInbox((delivery: Delivery) => start(delivery, undefined))
      let closing = false
      /** Claimed as the loop stopped: given back for another worker, uncounted (not the tasks' fault). */
      const giveBack = (deliveries: ReadonlyArray<Delivery>) => {
        if (deliveries.length === 0) return Effect.void
        freeSlots(deliveries.length)
        return Effect.ignore(store.release(deliveries, { uncounted: true }))
      }
      const unregister = config.handoff.register("activity", config.taskQueue, {
        consumer: config.consumer,
        reserve: (want) => {
          if (closing || !permits.unlimited()) return 0
          // A loop with work at hand reads the rest in batches (cheaper per task than one hand-off each).
          const room = Math.min(want, config.maxConcurrent - active, HANDOFF_BELOW - active)
          if (room <= 0) return 0
          active += room
          return room
        },
        accept: (reserved, claimed) => {
          if (reserved > claimed.length) freeSlots(reserved - claimed.length)
          if (closing) Effect.runForkWith(env.context)(giveBack(claimed))
          else inbox.offer(claimed)
        },
      })
      // Runs before the inbox closes (finalizers run last-added first).
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => {
          closing = true
          unregister()
          return Effect.flatMap(inbox.unstarted, giveBack)
        })
      )
    }
    return yield* Effect.forever(
      Effect.gen(function* () {
        if (active >= config.maxConcurrent) {
          yield* slotFree.close
          if (active >= config.maxConcurrent) yield* slotFree.await
        }
        const grant = yield* permits.take(config.maxConcurrent - active)
        const deliveries = yield* retryStoreErrors(
          "activity read",
          store.read(stream, { consumer: config.consumer, count: grant.count, blockMs: grant.blockMs }),
        ).pipe(
          Effect.catchDefect((defect) =>
            Effect.logError("activity read failed unexpectedly; retrying in 1 s", defect).pipe(Effect.andThen(sleepReal(1000)), Effect.as([]))),
        )
        // Hand-offs may have taken slots while the read was out: what no longer fits goes back at once, uncounted.
        const fits = Math.max(0, Math.min(deliveries.length, config.maxConcurrent - active))
        if (fits < deliveries.length) yield* Effect.ignore(store.release(deliveries.slice(fits), { uncounted: true }))
        const leases = yield* permits.settle(grant, fits)
        for (let i = 0; i < fits; i++) {
          active++
          yield* Effect.forkChild(start(deliveries[i]!, leases[i]))
        }
      }),
    )
  }))
