/**
 * `client.activity` (Temporal's `AsyncCompletionClient`): complete, fail,
 * heartbeat or report the cancellation of an activity attempt that threw
 * `CompleteAsyncError`, from any process with a connection, by its task token.
 */
import { Effect, Result } from "effect"
import { decodeTaskToken } from "../core/codecs.ts"
import { InvalidArgumentError } from "../core/errors.ts"
import type { TaskToken, WorkflowMessage } from "../core/messages.ts"
import { encode } from "../core/payload.ts"
import { sendToActivityAttempt } from "../effects/client.ts"
import type { Connection } from "./connection.ts"
import { ActivityNotFoundError } from "./errors.ts"
import { CancelledFailure, toFailureInfo } from "./failures.ts"

/** Async activity completion by task token (`client.activity`). */
export class AsyncCompletionClient {
  constructor(private readonly connection: Connection) {}

  /** Complete the attempt with `result`. Rejects with `ActivityNotFoundError` if the attempt is no longer current. */
  async complete(taskToken: Uint8Array, result?: unknown): Promise<void> {
    const token = this.#token(taskToken, "complete")
    const payload = encode(result, `result of activity ${token.seq}`)
    this.connection.payloads.check([payload], `result of activity ${token.seq}`)
    await this.#send(token, { type: "ActivityCompleted", runId: token.runId, seq: token.seq, attempt: token.attempt, result: payload })
  }

  /** Fail the attempt with `err` (retried by the call's retry policy, as a failure thrown by the activity). */
  async fail(taskToken: Uint8Array, err: unknown): Promise<void> {
    const token = this.#token(taskToken, "fail")
    await this.#send(token, { type: "ActivityFailed", runId: token.runId, seq: token.seq, attempt: token.attempt, failure: toFailureInfo(err) })
  }

  /** End the attempt as cancelled (as an activity that throws `CancelledFailure`). */
  async reportCancellation(taskToken: Uint8Array, details?: unknown): Promise<void> {
    const token = this.#token(taskToken, "reportCancellation")
    const failure = toFailureInfo(new CancelledFailure("Activity cancelled", details === undefined ? [] : [details]))
    await this.#send(token, { type: "ActivityFailed", runId: token.runId, seq: token.seq, attempt: token.attempt, failure })
  }

  /** Heartbeat the attempt: re-arms its `heartbeatTimeout` and records `details` for a retry. */
  async heartbeat(taskToken: Uint8Array, details?: unknown): Promise<void> {
    const token = this.#token(taskToken, "heartbeat")
    const payload = encode(details, `heartbeat details of activity ${token.seq}`)
    this.connection.payloads.check([payload], `heartbeat details of activity ${token.seq}`)
    await this.#send(token, { type: "ActivityHeartbeat", runId: token.runId, seq: token.seq, attempt: token.attempt, details: payload })
  }

  #token(taskToken: Uint8Array, method: string): TaskToken {
    const where = `client.activity.${method}(taskToken)`
    if (!(taskToken instanceof Uint8Array)) throw new InvalidArgumentError({ message: `${where}: taskToken must be the Uint8Array of Context.current().info.taskToken` })
    const decoded = decodeTaskToken(new TextDecoder().decode(taskToken))
    if (Result.isFailure(decoded)) throw new InvalidArgumentError({ message: `${where}: ${decoded.failure.reason}` })
    if (decoded.success.namespace !== this.connection.namespace) {
      throw new InvalidArgumentError({ message: `${where}: the token is of namespace ${decoded.success.namespace}, the connection's is ${this.connection.namespace}` })
    }
    return decoded.success
  }

  #send(token: TaskToken, message: WorkflowMessage): Promise<void> {
    return this.connection.run(
      sendToActivityAttempt(token, message).pipe(
        Effect.mapError((error) => (error._tag === "ActivityNotFound" ? new ActivityNotFoundError(error.message) : error)),
      ),
    )
  }
}
