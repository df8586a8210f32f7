/**
 * The activity-task interpreter: read an activity task, run it, and write
 * its outcome to the workflow's stream while acknowledging the task — one
 * atomic `complete`. Activities run at least once: a worker that dies
 * mid-activity leaves the task pending, and it is re-delivered.
 */
import { Clock, Effect, Latch } from "effect"
import { decodeActivityTask, encodeMessage, type WorkflowMessage } from "../core/messages.ts"
import { type Delivery, Store } from "../stores/Store.ts"
import type { ActivityExecutor } from "./executors.ts"
import { storeRetry } from "./workflowTasks.ts"

/** Configuration of an activity-task loop. */
export interface ActivityTaskConfig {
  readonly taskQueue: string
  readonly consumer: string
  readonly executor: ActivityExecutor
  /** Activities run at once by this loop (Temporal's `maxConcurrentActivityTaskExecutions`). */
  readonly maxConcurrent: number
  /** Minimum time between two claim-extending heartbeats of one task. */
  readonly heartbeatThrottleMs: number
}

const runOne = Effect.fnUntraced(function* (config: ActivityTaskConfig, delivery: Delivery) {
  const store = yield* Store
  const context = yield* Effect.context<Store>()
  const task = decodeActivityTask(delivery.body)
  const controller = new AbortController()
  let lastTouch = 0
  const heartbeat = () => {
    const now = Date.now()
    if (now - lastTouch < config.heartbeatThrottleMs) return
    lastTouch = now
    Effect.runForkWith(context)(store.touch(delivery).pipe(Effect.ignore))
  }
  if (task.deadline !== undefined) {
    // Cooperative local timeout; the durable timeout is the workflow's timer.
    const now = yield* Clock.currentTimeMillis
    yield* Effect.sleep(Math.max(0, task.deadline - now)).pipe(
      Effect.andThen(Effect.sync(() => controller.abort(new Error("activity deadline passed")))),
      Effect.forkChild,
    )
  }
  const outcome = yield* Effect.promise(() => config.executor.run(task, controller.signal, heartbeat)).pipe(
    Effect.onInterrupt(() =>
      Effect.sync(() => controller.abort(new Error("worker shutting down"))).pipe(
        Effect.andThen(store.release([delivery])),
        Effect.ignore,
      )),
  )
  const message: WorkflowMessage = outcome.ok
    ? { type: "ActivityCompleted", runId: task.runId, seq: task.seq, attempt: task.attempt, result: outcome.result }
    : { type: "ActivityFailed", runId: task.runId, seq: task.seq, attempt: task.attempt, failure: outcome.failure }
  yield* store
    .complete(delivery, [{ stream: { kind: "workflow", taskQueue: task.workflowTaskQueue }, key: task.workflowId, body: encodeMessage(message) }])
    .pipe(Effect.retry(storeRetry), Effect.orDie)
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
        const deliveries = yield* store
          .read(stream, { consumer: config.consumer, count: config.maxConcurrent - active, blockMs: 5000 })
          .pipe(Effect.retry(storeRetry), Effect.orDie)
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
