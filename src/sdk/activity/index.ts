/**
 * `hotmesh/activity`: what activity code can ask about itself
 * (Temporal's `@temporalio/activity`).
 *
 * Activities run at least once: a worker may die after the side effect but
 * before recording the result. Make them idempotent, e.g. with
 * `Context.current().info.idempotencyKey` (`workflowId-runId-activityId`).
 */
import { AsyncLocalStorage } from "node:async_hooks"
import { type Duration, toMillis } from "../../core/duration.ts"
import { CancelledFailure } from "../failures.ts"
import { type LeveledLog, leveledLog } from "../internal/log.ts"

/** Information about the running activity attempt. */
export interface ActivityInfo {
  readonly activityType: string
  /** The call's sequence number in its workflow, as a string. */
  readonly activityId: string
  /** 1 for the first attempt. */
  readonly attempt: number
  readonly workflowId: string
  readonly workflowRunId: string
  /** The workflow execution that called the activity (Temporal's shape of the two fields above). */
  readonly workflowExecution: { readonly workflowId: string; readonly runId: string }
  readonly workflowType: string
  /** The connection's namespace, which the workflow runs in. */
  readonly workflowNamespace: string
  readonly taskQueue: string
  /** When the activity was first scheduled (epoch ms). */
  readonly scheduledTimestampMs: number
  /** When this attempt was scheduled (epoch ms); `scheduledTimestampMs` for the first one. */
  readonly currentAttemptScheduledTimestampMs: number
  /** Always `false`: local activities are not supported yet. */
  readonly isLocal: boolean
  /** Opaque bytes naming this attempt (Temporal's `taskToken`): pass them to `client.activity.complete` and co. */
  readonly taskToken: Uint8Array
  /** Epoch ms after which this attempt has timed out, if it has a deadline. */
  readonly deadline?: number
  /** The call's `startToCloseTimeout` in ms, if it has one. */
  readonly startToCloseTimeoutMs?: number
  /** The call's `scheduleToCloseTimeout` in ms, if it has one. */
  readonly scheduleToCloseTimeoutMs?: number
  /** The call's `heartbeatTimeout` in ms, if it has one. */
  readonly heartbeatTimeoutMs?: number
  /**
   * Stable across the attempts of this call, unique across calls — also across
   * runs of one workflow id (continue-as-new, id reuse):
   * `${workflowId}-${workflowRunId}-${activityId}`. Pass it to the systems you call.
   */
  readonly idempotencyKey: string
  /** Details of the last heartbeat of an earlier attempt (resume from there), if any. */
  readonly heartbeatDetails: unknown
}

/**
 * Thrown by an activity that will be completed later, from anywhere, by
 * `client.activity.complete(taskToken, result)` (or `fail`,
 * `reportCancellation`): its worker reports nothing. The attempt's
 * `startToCloseTimeout`, `heartbeatTimeout` and `scheduleToCloseTimeout`
 * still apply; `client.activity.heartbeat(taskToken)` keeps it alive.
 */
export class CompleteAsyncError extends Error {
  override readonly name = "CompleteAsyncError"
  constructor() {
    super("Activity will complete asynchronously")
  }
}

const storage = new AsyncLocalStorage<Context>()

/** The context of the running activity. */
export class Context {
  #lastHeartbeat: unknown = undefined
  #log: LeveledLog | undefined
  #cancelled: Promise<never> | undefined
  #info: ActivityInfo | (() => ActivityInfo)

  /**
   * `info` may be a function: the worker builds an attempt's `ActivityInfo`
   * only when the activity reads it (most never do).
   */
  constructor(
    info: ActivityInfo | (() => ActivityInfo),
    private readonly cancellation: { readonly signal: AbortSignal },
    private readonly onHeartbeat: (details: unknown) => void,
  ) {
    this.#info = info
  }

  /** What this attempt is: its activity, workflow, attempt number, timeouts, last heartbeat details. */
  get info(): ActivityInfo {
    if (typeof this.#info === "function") this.#info = this.#info()
    return this.#info
  }

  /**
   * Aborts when the activity times out, its worker shuts down, or — learnt at
   * the next heartbeat — the workflow cancelled it or no longer waits for it.
   */
  get cancellationSignal(): AbortSignal {
    return this.cancellation.signal
  }

  /** Rejects with a `CancelledFailure` when `cancellationSignal` aborts. */
  get cancelled(): Promise<never> {
    if (this.#cancelled === undefined) {
      const signal = this.cancellation.signal
      this.#cancelled = new Promise<never>((_, reject) => {
        const abort = () => reject(new CancelledFailure(String((signal.reason as Error | undefined)?.message ?? "Activity cancelled")))
        if (signal.aborted) abort()
        else signal.addEventListener("abort", abort, { once: true })
      })
      this.#cancelled.catch(() => undefined)
    }
    return this.#cancelled
  }

  /** This attempt's logger: entries carry the activity's info (Temporal's `Context.current().log`). */
  get log(): LeveledLog {
    return (this.#log ??= leveledLog(() => activityAttributes(this.info)))
  }

  /** The context of the calling activity; throws outside activity code. */
  static current(): Context {
    const context = storage.getStore()
    if (context === undefined) throw new Error("Context.current() can only be called from activity code run by a Worker")
    return context
  }

  /**
   * Report progress: keeps this attempt's claim on its task alive, resets its
   * `heartbeatTimeout`, hands `details` to a retry, and lets a cancellation
   * reach `cancellationSignal`. Throttled; call it as often as you like.
   */
  heartbeat(details?: unknown): void {
    this.#lastHeartbeat = details
    this.onHeartbeat(details)
  }

  /** The details of the last `heartbeat` of this attempt. */
  get lastHeartbeatDetails(): unknown {
    return this.#lastHeartbeat
  }

  /** Sleep (`ms` or a duration such as `"1s"`) that ends early, rejecting, when the activity is cancelled. */
  sleep(duration: Duration): Promise<void> {
    const ms = toMillis(duration, "sleep duration")
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms)
      this.cancelled.catch((error: unknown) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  /** Run `fn` with `context` as `Context.current()`. Internal: used by the worker. */
  static run<T>(context: Context, fn: () => T): T {
    return storage.run(context, fn)
  }
}

const activityAttributes = (info: ActivityInfo) => ({
  sdkComponent: "activity",
  taskQueue: info.taskQueue,
  workflowId: info.workflowId,
  workflowRunId: info.workflowRunId,
  workflowType: info.workflowType,
  activityId: info.activityId,
  activityType: info.activityType,
  attempt: info.attempt,
})

/**
 * `log` for activity code (Temporal's activity `log`): the calling
 * activity's `Context.current().log`; outside an activity, entries carry no
 * activity attributes.
 */
export const log: LeveledLog = leveledLog(() => {
  const context = storage.getStore()
  return context === undefined ? { sdkComponent: "activity" } : activityAttributes(context.info)
})

/** The running activity's info (Temporal's free function; `Context.current().info`). */
export const activityInfo = (): ActivityInfo => Context.current().info

/** Report progress (`Context.current().heartbeat(details)`). */
export const heartbeat = (details?: unknown): void => Context.current().heartbeat(details)

/** Sleep, ending early when the activity is cancelled (`Context.current().sleep(duration)`). */
export const sleep = (duration: Duration): Promise<void> => Context.current().sleep(duration)

/** Aborts when the activity is cancelled or times out (`Context.current().cancellationSignal`). */
export const cancellationSignal = (): AbortSignal => Context.current().cancellationSignal

/** Rejects with a `CancelledFailure` when the activity is cancelled (`Context.current().cancelled`). */
export const cancelled = (): Promise<never> => Context.current().cancelled

export { ApplicationFailure, CancelledFailure } from "../failures.ts"
export type { Duration } from "../../core/duration.ts"
