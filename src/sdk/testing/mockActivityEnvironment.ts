/**
 * `MockActivityEnvironment` (Temporal's): run an activity function outside
 * a worker, with a `Context` the test controls — its info, heartbeats as
 * `"heartbeat"` events, and cancellation.
 */
import { EventEmitter } from "node:events"
import { type ActivityInfo, Context } from "../activity/index.ts"

/** The info a mock activity gets unless the test overrides it. */
export const defaultActivityInfo: ActivityInfo = {
  activityType: "unnamed",
  activityId: "test",
  attempt: 1,
  workflowId: "test",
  workflowRunId: "00000000-0000-0000-0000-000000000000",
  workflowExecution: { workflowId: "test", runId: "00000000-0000-0000-0000-000000000000" },
  workflowType: "test",
  workflowNamespace: "default",
  taskQueue: "test",
  scheduledTimestampMs: 1,
  currentAttemptScheduledTimestampMs: 1,
  isLocal: false,
  taskToken: new Uint8Array(),
  idempotencyKey: "test-00000000-0000-0000-0000-000000000000-test",
  heartbeatDetails: undefined,
}

/** Runs activities with a controllable `Context` (Temporal's `MockActivityEnvironment`). */
export class MockActivityEnvironment extends EventEmitter {
  readonly #abort = new AbortController()
  /** The context `run` gives the activity (`Context.current()` inside it). */
  readonly context: Context

  constructor(info?: Partial<ActivityInfo>) {
    super()
    this.context = new Context({ ...defaultActivityInfo, ...info }, this.#abort, (details) => {
      this.emit("heartbeat", details)
    })
  }

  /** Run `fn(...args)` as the activity of this environment. */
  run<P extends Array<any>, R>(fn: (...args: P) => R, ...args: P): Promise<Awaited<R>> {
    return Promise.resolve(Context.run(this.context, () => fn(...args))) as Promise<Awaited<R>>
  }

  /** Cancel the activity: its `cancellationSignal` aborts and `cancelled` rejects with a `CancelledFailure`. */
  cancel(reason = "CANCELLED"): void {
    this.#abort.abort(new Error(reason))
  }
}
