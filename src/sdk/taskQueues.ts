/**
 * `client.taskQueue(name)`: what waits on a task queue, for operators
 * (`hotmesh task-queue describe`). Temporal's `DescribeTaskQueue` reports
 * pollers; a HotMesh task queue is two streams in the store, so this reports
 * what the store sees on them.
 */
import { Effect, Option } from "effect"
import { InvalidArgumentError } from "../core/errors.ts"
import { checkLimitsChange, type QueueLimits, type QueueLimitsChange } from "../core/limits.ts"
import { retryBriefOutage } from "../effects/storeRetry.ts"
import { Store, type StreamDescription, type StreamKind } from "../stores/Store.ts"
import type { Connection } from "./connection.ts"

export type { QueueLimits, QueueLimitsChange }

/** What `client.taskQueue(name).describe()` returns. */
export interface TaskQueueDescription {
  readonly taskQueue: string
  /** The workflow stream and the activity stream: depth, pending work, consumers, dead letters. */
  readonly streams: ReadonlyArray<{ readonly kind: StreamKind } & StreamDescription>
  /**
   * The namespace's durable timers (sleeps, retries, timeouts of every task
   * queue: the store keeps them by due time, not by queue): how many are
   * due now, and when the next one fires.
   */
  readonly timers: { readonly due: number; readonly nextAt?: Date }
}

const KINDS: ReadonlyArray<StreamKind> = ["workflow", "activity"]

/** One task queue (`client.taskQueue(name)`). */
export class TaskQueueClient {
  constructor(private readonly connection: Connection, readonly name: string) {
    if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError({ message: "client.taskQueue(name): name must be a non-empty string" })
  }

  /** A snapshot of the task queue's streams and of the namespace's timers. */
  describe(): Promise<TaskQueueDescription> {
    const taskQueue = this.name
    return this.connection.run(retryBriefOutage(Effect.gen(function*() {
      const store = yield* Store
      const streams = yield* Effect.forEach(KINDS, (kind) => Effect.map(store.describeStream({ kind, taskQueue }), (d) => ({ kind, ...d })))
      const due = yield* store.dueTimers
      const next = yield* store.nextTimerAt
      return { taskQueue, streams, timers: { due, ...(Option.isSome(next) ? { nextAt: new Date(next.value) } : {}) } }
    })))
  }

  /**
   * Back-pressure of this queue's activity tasks, across every worker of the
   * namespace (README "Back-pressure"): `rate` (tasks started per second, a
   * token bucket holding `burst` tokens), `concurrency` (tasks running at
   * once). A number sets a limit, `null` clears it, an absent one stays.
   * Takes effect within about two seconds; resolves to the limits now in force.
   */
  setLimits(change: QueueLimitsChange): Promise<QueueLimits> {
    checkLimitsChange(`client.taskQueue(${JSON.stringify(this.name)}).setLimits`, change)
    if ("paused" in change) throw new InvalidArgumentError({ message: "setLimits: use pause() and resume() to pause a task queue" })
    return this.change(change)
  }

  /** The limits in force (`{}`: none; `paused: true` while paused). */
  getLimits(): Promise<QueueLimits> {
    const taskQueue = this.name
    return this.connection.run(retryBriefOutage(Effect.flatMap(Store, (store) => store.queueLimits(taskQueue))))
  }

  /** Clear the rate and concurrency limits (a pause stays). */
  clearLimits(): Promise<QueueLimits> {
    return this.change({ rate: null, burst: null, concurrency: null })
  }

  /**
   * Pause the queue (HotMesh's `throttle(-1)`): no activity task starts on
   * any worker until `resume()`. Tasks wait on the queue, nothing is lost;
   * workflow tasks go on (timers fire, signals land, workflows schedule
   * more activities, which wait too). Tasks already started finish.
   */
  pause(): Promise<QueueLimits> {
    return this.change({ paused: true })
  }

  /** Resume a paused queue: waiting tasks start again, under the queue's limits. */
  resume(): Promise<QueueLimits> {
    return this.change({ paused: false })
  }

  private change(change: QueueLimitsChange): Promise<QueueLimits> {
    const taskQueue = this.name
    return this.connection.run(retryBriefOutage(Effect.flatMap(Store, (store) => store.changeQueueLimits(taskQueue, change))))
  }
}
