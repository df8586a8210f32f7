/**
 * The activity-task interpreter: read an activity task, run it, and write
 * its outcome to the workflow's stream while acknowledging the task — one
 * atomic `complete`. Activities run at least once: a worker that dies
 * mid-activity leaves the task pending, and it is re-delivered.
 */
import { Clock, Effect, Latch, Option } from "effect"
import { type ActivityTask, decodeActivityTask, encodeMessage, type WorkflowMessage } from "../core/messages.ts"
import type { Payload } from "../core/payload.ts"
import { decodeState, type ExecutionState } from "../core/state.ts"
import { type Delivery, Store } from "../stores/Store.ts"
import type { ActivityExecutor } from "./executors.ts"
import { retryStoreErrors } from "./storeRetry.ts"

/** Configuration of an activity-task loop. */
export interface ActivityTaskConfig {
  readonly taskQueue: string
  readonly consumer: string
  readonly executor: ActivityExecutor
  /** Activities run at once by this loop (Temporal's `maxConcurrentActivityTaskExecutions`). */
  readonly maxConcurrent: number
  /** Minimum time between two heartbeats of one task sent to the store (lower when the heartbeat timeout needs it). */
  readonly heartbeatThrottleMs: number
}

/** Is the attempt `task` describes still the one its workflow waits for? */
const stillWanted = (state: ExecutionState | undefined, task: ActivityTask): boolean => {
  const activity = state?.activities[task.seq]
  return state !== undefined && state.status === "RUNNING" && state.runId === task.runId && activity?.attempt === task.attempt && activity.dispatched
}

const runOne = Effect.fnUntraced(function* (config: ActivityTaskConfig, delivery: Delivery) {
  const store = yield* Store
  const context = yield* Effect.context<Store>()
  const task = decodeActivityTask(delivery.body)
  const controller = new AbortController()
  // Set when the workflow no longer waits for this attempt (cancelled, timed out, closed),
  // or the local deadline passed: the outcome is then not reported — the workflow's own
  // timers and state are the authority.
  let abandoned = false
  const workflowStream = { kind: "workflow" as const, taskQueue: task.workflowTaskQueue }
  const interval = Math.min(
    config.heartbeatThrottleMs,
    store.visibilityTimeoutMs / 3,
    task.heartbeatTimeoutMs === undefined ? Infinity : task.heartbeatTimeoutMs * 0.8,
  )
  let lastSent = -Infinity
  /** A heartbeat re-arms the heartbeat timeout, records its details, and learns of cancellation. */
  const sendHeartbeat = (details: Payload) =>
    Effect.gen(function* () {
      if (task.heartbeatTimeoutMs !== undefined) {
        const message: WorkflowMessage = { type: "ActivityHeartbeat", runId: task.runId, seq: task.seq, attempt: task.attempt, details }
        yield* store.append([{ stream: workflowStream, key: task.workflowId, body: encodeMessage(message) }])
      }
      const record = yield* store.load(task.workflowId)
      const state = Option.getOrUndefined(Option.map(record, (r) => decodeState(r.state)))
      if (!stillWanted(state, task)) {
        abandoned = true
        controller.abort(new Error("Activity cancelled: its workflow no longer waits for this attempt"))
      }
    }).pipe(Effect.ignore)
  const heartbeat = (details: Payload) => {
    const now = performance.now()
    if (now - lastSent < interval) return
    lastSent = now
    Effect.runForkWith(context)(sendHeartbeat(details))
  }
  // While the activity runs, keep its claim: a live worker's task is never re-delivered
  // (a dead or frozen worker stops touching, and the task is reclaimed).
  yield* Effect.forever(Effect.sleep(store.visibilityTimeoutMs / 3).pipe(Effect.andThen(store.touch(delivery)), Effect.ignore)).pipe(
    Effect.forkChild,
  )
  if (task.deadline !== undefined) {
    // Cooperative local timeout; the durable timeout is the workflow's timer.
    const now = yield* Clock.currentTimeMillis
    yield* Effect.sleep(Math.max(0, task.deadline - now)).pipe(
      Effect.andThen(Effect.sync(() => {
        abandoned = true
        controller.abort(new Error("Activity deadline passed"))
      })),
      Effect.forkChild,
    )
  }
  const outcome = yield* Effect.promise(() => config.executor.run(task, controller.signal, heartbeat)).pipe(
    Effect.onInterrupt(() =>
      Effect.sync(() => controller.abort(new Error("Worker shutting down"))).pipe(
        Effect.andThen(store.release([delivery])),
        Effect.ignore,
      )),
  )
  const message: WorkflowMessage = outcome.ok
    ? { type: "ActivityCompleted", runId: task.runId, seq: task.seq, attempt: task.attempt, result: outcome.result }
    : { type: "ActivityFailed", runId: task.runId, seq: task.seq, attempt: task.attempt, failure: outcome.failure }
  const report = abandoned ? [] : [{ stream: workflowStream, key: task.workflowId, body: encodeMessage(message) }]
  yield* retryStoreErrors("activity completion", store.complete(delivery, report))
})

/**
 * The loop: keep up to `maxConcurrent` activities running, reading as many
 * tasks as there are free slots. Interrupting it (worker shutdown) aborts the
 * running activities' `cancellationSignal` and releases their tasks for
 * immediate re-delivery to another worker.
 */
export const runActivityTasks = (config: ActivityTaskConfig): Effect.Effect<never, never, Store> =>
  Effect.gen(function* () {
    const store = yield* Store
    const stream = { kind: "activity" as const, taskQueue: config.taskQueue }
    const slotFree = yield* Latch.make(true)
    let active = 0
    return yield* Effect.forever(
      Effect.gen(function* () {
        if (active >= config.maxConcurrent) {
          yield* slotFree.close
          if (active >= config.maxConcurrent) yield* slotFree.await
        }
        const deliveries = yield* retryStoreErrors(
          "activity read",
          store.read(stream, { consumer: config.consumer, count: config.maxConcurrent - active, blockMs: 5000 }),
        )
        for (const delivery of deliveries) {
          active++
          yield* runOne(config, delivery).pipe(
            Effect.ensuring(Effect.sync(() => {
              active--
              slotFree.openUnsafe()
            })),
            Effect.forkChild,
          )
        }
      }),
    )
  })
