/**
 * `client.activity` (Temporal's `AsyncCompletionClient`): complete, fail,
 * heartbeat or report the cancellation of an activity attempt that threw
 * `CompleteAsyncError`, from any process with a connection, by its task token
 * or by `{ workflowId, runId?, activityId }` (its current attempt).
 */
import { Effect, Result } from "effect"
import { decodeTaskToken } from "../core/codecs.ts"
import { InvalidArgumentError } from "../core/errors.ts"
import type { TaskToken, WorkflowMessage } from "../core/messages.ts"
import { encode } from "../core/payload.ts"
import { type FullActivityId, sendToActivityAttempt } from "../effects/client.ts"
import type { Connection } from "./connection.ts"
import { ActivityCancelledError, ActivityNotFoundError } from "./errors.ts"
import { CancelledFailure, toFailureInfo } from "./failures.ts"

export type { FullActivityId } from "../effects/client.ts"

/** Async activity completion by task token (`client.activity`). */
export class AsyncCompletionClient {
  constructor(private readonly connection: Connection) {}

  /** Complete the attempt with `result`. Rejects with `ActivityNotFoundError` if the attempt is no longer current. */
  async complete(taskTokenOrFullActivityId: Uint8Array | FullActivityId, result?: unknown): Promise<void> {
    const payload = encode(result, "result of an async activity")
    this.connection.payloads.check([payload], "result of an async activity")
    await this.#send(taskTokenOrFullActivityId, "complete", (at) => ({ type: "ActivityCompleted", ...at, result: payload }))
  }

  /** Fail the attempt with `err` (retried by the call's retry policy, as a failure thrown by the activity). */
  async fail(taskTokenOrFullActivityId: Uint8Array | FullActivityId, err: unknown): Promise<void> {
    const failure = toFailureInfo(err)
    await this.#send(taskTokenOrFullActivityId, "fail", (at) => ({ type: "ActivityFailed", ...at, failure }))
  }

  /** End the attempt as cancelled (as an activity that throws `CancelledFailure`). */
  async reportCancellation(taskTokenOrFullActivityId: Uint8Array | FullActivityId, details?: unknown): Promise<void> {
    const failure = toFailureInfo(new CancelledFailure("Activity cancelled", details === undefined ? [] : [details]))
    await this.#send(taskTokenOrFullActivityId, "reportCancellation", (at) => ({ type: "ActivityFailed", ...at, failure }))
  }

  /**
   * Heartbeat the attempt: re-arms its `heartbeatTimeout` and records `details` for a retry.
   * Rejects with `ActivityCancelledError` once the workflow has asked to cancel the activity
   * (the heartbeat is recorded all the same; its outcome is still taken).
   */
  async heartbeat(taskTokenOrFullActivityId: Uint8Array | FullActivityId, details?: unknown): Promise<void> {
    const payload = encode(details, "heartbeat details of an async activity")
    this.connection.payloads.check([payload], "heartbeat details of an async activity")
    const { cancelRequested } = await this.#send(taskTokenOrFullActivityId, "heartbeat", (at) => ({ type: "ActivityHeartbeat", ...at, details: payload }))
    if (cancelRequested) throw new ActivityCancelledError("Activity cancelled: its workflow asked to cancel it (report the cancellation, or complete or fail it)")
  }

  #target(target: Uint8Array | FullActivityId, method: string): TaskToken | FullActivityId {
    const where = `client.activity.${method}(taskTokenOrFullActivityId)`
    if (!(target instanceof Uint8Array)) {
      const { workflowId, runId, activityId } = (target ?? {}) as Partial<FullActivityId>
      if (typeof workflowId === "string" && typeof activityId === "string" && (runId === undefined || typeof runId === "string")) return target
      throw new InvalidArgumentError({ message: `${where}: pass Context.current().info.taskToken or { workflowId, runId?, activityId }` })
    }
    const decoded = decodeTaskToken(new TextDecoder().decode(target))
    if (Result.isFailure(decoded)) throw new InvalidArgumentError({ message: `${where}: ${decoded.failure.reason}` })
    if (decoded.success.namespace !== this.connection.namespace) {
      throw new InvalidArgumentError({ message: `${where}: the token is of namespace ${decoded.success.namespace}, the connection's is ${this.connection.namespace}` })
    }
    return decoded.success
  }

  #send(
    target: Uint8Array | FullActivityId,
    method: string,
    message: (at: Pick<TaskToken, "runId" | "seq" | "attempt">) => WorkflowMessage,
  ): Promise<{ readonly cancelRequested: boolean }> {
    const resolved = this.#target(target, method)
    return this.connection.run(
      sendToActivityAttempt(resolved, message).pipe(
        Effect.mapError((error) => (error._tag === "ActivityNotFound" ? new ActivityNotFoundError(error.message) : error)),
      ),
    )
  }
}
