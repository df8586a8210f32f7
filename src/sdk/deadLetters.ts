/**
 * `client.deadLetters`: the messages a task queue's workers parked — ones
 * that can never be decoded (dead-lettered at once) and ones delivered
 * `maxDeliveries` times without being acknowledged. Temporal has no such
 * API; the operations are list, retry (put the original message back on its
 * stream) and purge.
 */
import { Effect } from "effect"
import { InvalidArgumentError } from "../core/errors.ts"
import { retryBriefOutage } from "../effects/storeRetry.ts"
import { type DeadLetter, Store, type StreamAddress, type StreamKind } from "../stores/Store.ts"
import type { Connection } from "./connection.ts"
import { DeadLetterNotFoundError } from "./errors.ts"

/** One dead letter, as `client.deadLetters.list` returns it. */
export interface DeadLetterEntry {
  /** Names the dead letter to `retry` and `purge` (unique within its stream). */
  readonly id: string
  readonly taskQueue: string
  /** The stream it was read from: workflow messages or activity tasks. */
  readonly kind: StreamKind
  /** The routing key of the message: the workflow it concerns. */
  readonly workflowId: string
  /** The message's id on its stream when it was parked. */
  readonly messageId: string
  /** The original message body, exactly as it was on the stream. */
  readonly body: string
  /** Why it was parked (what did not decode, or the delivery limit). */
  readonly reason: string
  readonly deadLetteredAt: Date
  /** How many times it had been delivered. */
  readonly deliveries: number
  /** The entry as the store held it, when it had other fields than a key and a body (written behind HotMesh's back). */
  readonly raw?: string
}

/** Which dead letter: a `DeadLetterEntry` will do. */
export interface DeadLetterRef {
  readonly taskQueue: string
  readonly kind: StreamKind
  readonly id: string
}

const KINDS: ReadonlyArray<StreamKind> = ["workflow", "activity"]

const invalid = (message: string) => new InvalidArgumentError({ message })

const taskQueueOf = (operation: string, options: { readonly taskQueue?: unknown } | undefined): string => {
  const taskQueue = options?.taskQueue
  if (typeof taskQueue !== "string" || taskQueue.length === 0) throw invalid(`deadLetters.${operation}: taskQueue must be a non-empty string`)
  return taskQueue
}

const kindsOf = (operation: string, kind: unknown, required: boolean): ReadonlyArray<StreamKind> => {
  if (kind === undefined && !required) return KINDS
  if (kind !== "workflow" && kind !== "activity") {
    throw invalid(`deadLetters.${operation}: kind must be "workflow" or "activity"; got ${JSON.stringify(kind) ?? String(kind)}`)
  }
  return [kind]
}

const entryOf = (letter: DeadLetter): DeadLetterEntry => ({
  id: letter.id,
  taskQueue: letter.delivery.stream.taskQueue,
  kind: letter.delivery.stream.kind,
  workflowId: letter.delivery.key,
  messageId: letter.delivery.id,
  body: letter.delivery.body,
  reason: letter.reason,
  deadLetteredAt: new Date(letter.at),
  deliveries: letter.delivery.deliveries,
  ...(letter.raw === undefined ? {} : { raw: letter.raw }),
})

/** Dead-letter operations (`client.deadLetters`). */
export class DeadLetterClient {
  constructor(private readonly connection: Connection) {}

  /** The dead letters of a task queue's streams (both, unless `kind` names one), oldest first within each. */
  async list(options: { readonly taskQueue: string; readonly kind?: StreamKind }): Promise<Array<DeadLetterEntry>> {
    const taskQueue = taskQueueOf("list", options)
    const kinds = kindsOf("list", options.kind, false)
    const letters = await this.connection.run(
      retryBriefOutage(Effect.forEach(kinds, (kind) => Store.use((store) => store.deadLetters({ kind, taskQueue })))),
    )
    return letters.flat().map(entryOf)
  }

  /**
   * Put a dead letter's original message back on its stream (a new message,
   * delivered afresh) and remove the dead letter, atomically. Rejects with
   * `DeadLetterNotFoundError` if there is no such dead letter, and with the
   * `StoreError` if the store fails (list to see whether it went through).
   */
  async retry(ref: DeadLetterRef): Promise<void> {
    const taskQueue = taskQueueOf("retry", ref)
    const [kind] = kindsOf("retry", ref.kind, true)
    if (typeof ref.id !== "string" || ref.id.length === 0) throw invalid("deadLetters.retry: id must be a non-empty string")
    const stream: StreamAddress = { kind: kind!, taskQueue }
    // Not retried on a store error: a retry whose reply was lost would report the dead letter missing.
    const found = await this.connection.run(Store.use((store) => store.retryDeadLetter(stream, ref.id)))
    if (!found) {
      throw new DeadLetterNotFoundError(`no dead letter ${ref.id} on the ${kind} stream of task queue ${taskQueue}`, taskQueue, kind!, ref.id)
    }
  }

  /**
   * Delete dead letters: those named by `ids` (on the `kind` stream), or
   * every dead letter of the task queue's streams (both, unless `kind` names
   * one). Resolves to how many were deleted.
   */
  async purge(options: { readonly taskQueue: string; readonly kind?: StreamKind; readonly ids?: ReadonlyArray<string> }): Promise<number> {
    const taskQueue = taskQueueOf("purge", options)
    const ids = options.ids
    if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== "string"))) {
      throw invalid("deadLetters.purge: ids must be an array of strings")
    }
    // Ids are per stream: purging by id needs the stream they belong to.
    const kinds = kindsOf("purge", options.kind, ids !== undefined)
    const counts = await this.connection.run(
      Effect.forEach(kinds, (kind) => retryBriefOutage(Store.use((store) => store.purgeDeadLetters({ kind, taskQueue }, ids)))),
    )
    return counts.reduce((a, b) => a + b, 0)
  }
}
