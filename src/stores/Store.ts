/**
 * The `Store` service: the only thing HotMesh processes share.
 *
 * A backend implements this narrow, *encoded* contract: every payload is an
 * opaque string produced by `src/core` codecs, so a backend never needs to
 * understand workflow semantics. Each operation is specified so that a backend
 * can implement it as **one atomic round trip** (on Redis: one Lua script or
 * one command). The conformance suite (`src/sdk/testing/storeConformance.ts`,
 * exported as `hotmesh/testing/conformance`) is the executable version of
 * this contract.
 *
 * Addressing: streams are logical (`StreamAddress` + a routing `key`, the
 * workflow id). A backend maps them onto partitions however it likes, as long
 * as every key a single `commit` touches can be written atomically (Redis:
 * one hash slot — see design.md "Redis layout").
 *
 * What a partitioned backend may relax, and the interpreter tolerates:
 * - messages of one commit routed to *another* key's partition may become
 *   visible a little later than the commit (an outbox relayed at least once;
 *   the reducer ignores duplicates), and `append` is atomic per partition;
 * - FIFO order holds per key, not across the keys of one stream;
 * - timer ids are scoped to the key whose commits set them.
 */
import { Context, Data, type Effect, type Option } from "effect"

/** Which of a task queue's two streams: workflow events or activity tasks. */
export type StreamKind = "workflow" | "activity"

/** A logical stream: one task queue's workflow stream or activity stream. */
export interface StreamAddress {
  readonly kind: StreamKind
  readonly taskQueue: string
}

/** A message to append. `key` routes it (the workflow id it concerns). */
export interface OutboundMessage {
  readonly stream: StreamAddress
  readonly key: string
  readonly body: string
}

/** A message handed to a consumer. It stays pending until acknowledged. */
export interface Delivery {
  /** Backend id, unique within the stream; opaque to callers. */
  readonly id: string
  readonly stream: StreamAddress
  readonly key: string
  readonly body: string
  /** How many times this message has been delivered, this time included (≥ 1). */
  readonly deliveries: number
}

/** A durable timer: when `fireAt` (store clock, epoch ms) passes, `message` is appended. */
export interface TimerEntry {
  /** Unique id; used to cancel. A timer with an id that already exists replaces it. */
  readonly id: string
  readonly fireAt: number
  readonly message: OutboundMessage
}

/** The stored form of one workflow execution (latest run of a workflow id). */
export interface ExecutionRecord {
  readonly key: string
  /** Incremented by every commit that writes state; 0 means "never written". */
  readonly version: number
  readonly state: string
}

/**
 * Everything one durable step writes, applied atomically or not at all.
 *
 * The commit fails with `CommitConflict` (and changes nothing) when the
 * record's current version is not `expectedVersion` — optimistic concurrency
 * between consumers racing on the same workflow — or when `ack` names a
 * message that is no longer pending (already acknowledged by another consumer).
 */
export interface Commit {
  readonly key: string
  readonly expectedVersion: number
  /** New encoded state. Omit to leave the record (and its version) untouched. */
  readonly state?: string
  /** Journal entries appended to `journalId` (the run id), in order. */
  readonly journal?: { readonly id: string; readonly entries: ReadonlyArray<string> }
  readonly messages?: ReadonlyArray<OutboundMessage>
  /** Timers to set (an existing id is replaced). Applied after `cancelTimers`. */
  readonly timers?: ReadonlyArray<TimerEntry>
  /** Timer ids to cancel; unknown ids are ignored. */
  readonly cancelTimers?: ReadonlyArray<string>
  /** Query answers: `replyId -> encoded answer`, readable once with `takeReply`. */
  readonly replies?: ReadonlyArray<{ readonly id: string; readonly body: string }>
  /** The message this step consumed. Its `key` must be the commit's `key` (one partition). */
  readonly ack?: Delivery
  /** Wake `awaitUpdate` callers for this key (set when an execution closes). */
  readonly notify?: boolean
  /**
   * Retention of what this commit closed: after `at` (store clock) the
   * backend deletes the journal `journal.id` (required with `expire`) and,
   * when `record` is set, the record — unless a later commit has written the
   * record's state by then. Deletion happens no later than the next
   * `fireDueTimers` after `at`. A commit that writes state without
   * `expire.record` cancels a pending record expiry.
   */
  readonly expire?: { readonly at: number; readonly record: boolean }
}

/** Options for `read`. */
export interface ReadOptions {
  /** Consumer name, unique per process and stream reader. */
  readonly consumer: string
  /** At most this many deliveries. */
  readonly count: number
  /** Wait at most this long for a first message; 0 returns at once (never "forever"). */
  readonly blockMs: number
}

/**
 * A message parked for operators: one that exceeded the delivery limit, or
 * that its reader dead-lettered because it can never be decoded. `delivery`
 * is the original message as last delivered (stream, key, body, deliveries).
 */
export interface DeadLetter {
  /** Backend id of this dead letter, unique within its stream (names it to `retryDeadLetter` / `purgeDeadLetters`). */
  readonly id: string
  readonly delivery: Delivery
  readonly reason: string
  readonly at: number
  /**
   * The entry exactly as the backend held it, when it was not one this
   * contract writes (e.g. a Redis stream entry added by hand with other
   * fields than key and body: a JSON array of field/value pairs).
   */
  readonly raw?: string
}

/** The store failed (I/O, connection lost, script error). Callers retry. */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly operation: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** A commit lost an optimistic-concurrency race; nothing was written. */
export class CommitConflict extends Data.TaggedError("CommitConflict")<{
  readonly key: string
  readonly expectedVersion: number
  readonly actualVersion: number
  readonly reason: "version" | "not-pending"
}> {}

/** The store contract. See the module comment and the conformance suite. */
export interface StoreShape {
  /** A short backend name for logs and docs ("memory", "redis"). */
  readonly name: string
  /** A delivered message not acknowledged (or touched) for this long is re-delivered. Workers touch sooner. */
  readonly visibilityTimeoutMs: number
  /** The store's clock (epoch ms). Timers fire by this clock. */
  readonly now: Effect.Effect<number, StoreError>

  readonly load: (key: string) => Effect.Effect<Option.Option<ExecutionRecord>, StoreError>
  readonly loadJournal: (key: string, journalId: string) => Effect.Effect<ReadonlyArray<string>, StoreError>
  readonly commit: (commit: Commit) => Effect.Effect<void, StoreError | CommitConflict>

  /** Append messages outside any step (clients: signals, cancellations, queries). */
  readonly append: (messages: ReadonlyArray<OutboundMessage>) => Effect.Effect<void, StoreError>
  /**
   * Read messages for a consumer. Messages pending on another consumer for
   * longer than the visibility timeout are re-delivered first (stalled-work
   * reclaim); a message whose delivery count would exceed the store's limit
   * goes to the dead-letter list instead of being delivered.
   */
  readonly read: (stream: StreamAddress, options: ReadOptions) => Effect.Effect<ReadonlyArray<Delivery>, StoreError>
  /**
   * Acknowledge `ack` and append `messages`, atomically (activity completions).
   * If `ack` is no longer pending (another consumer finished it, or it was
   * dead-lettered) nothing is written and the call succeeds: the work was a duplicate.
   */
  readonly complete: (ack: Delivery, messages: ReadonlyArray<OutboundMessage>) => Effect.Effect<void, StoreError>
  /**
   * Give pending messages back for immediate re-delivery (clean shutdown).
   * `release` and `touch` ignore a delivery that has since been re-delivered
   * (its `deliveries` count is stale), so a zombie cannot disturb the new owner.
   */
  readonly release: (deliveries: ReadonlyArray<Delivery>) => Effect.Effect<void, StoreError>
  /** Reset a pending message's visibility timeout (activity heartbeat). */
  readonly touch: (delivery: Delivery) => Effect.Effect<void, StoreError>
  /**
   * Move a pending message to its stream's dead letters, with `reason`, and
   * acknowledge it, atomically (a reader that can never decode it). Resolves
   * to false, changing nothing, when the message is no longer pending.
   */
  readonly deadLetter: (delivery: Delivery, reason: string) => Effect.Effect<boolean, StoreError>
  /** The stream's dead letters, oldest first. */
  readonly deadLetters: (stream: StreamAddress) => Effect.Effect<ReadonlyArray<DeadLetter>, StoreError>
  /**
   * Append dead letter `id`'s original message (same key and body, a new
   * message with a fresh delivery count) to its stream and remove the dead
   * letter, atomically. Resolves to false when there is no such dead letter.
   */
  readonly retryDeadLetter: (stream: StreamAddress, id: string) => Effect.Effect<boolean, StoreError>
  /** Delete the dead letters `ids` of the stream (all of them when omitted); resolves to how many were deleted. */
  readonly purgeDeadLetters: (stream: StreamAddress, ids?: ReadonlyArray<string>) => Effect.Effect<number, StoreError>

  /** Pop every timer due by the store clock and append its message, atomically. Returns how many fired. */
  readonly fireDueTimers: (limit: number) => Effect.Effect<number, StoreError>
  /** Earliest pending timer's `fireAt`, if any. */
  readonly nextTimerAt: Effect.Effect<Option.Option<number>, StoreError>

  /** Take (and delete) a query reply, waiting up to `timeoutMs` for it. */
  readonly takeReply: (id: string, timeoutMs: number) => Effect.Effect<Option.Option<string>, StoreError>
  /**
   * Resolve once `key`'s record may have moved past `afterVersion` (a commit with
   * `notify`), or after `timeoutMs`. Callers re-`load` either way: this is a hint,
   * never the source of truth, so a lost notification only costs latency.
   */
  readonly awaitUpdate: (key: string, afterVersion: number, timeoutMs: number) => Effect.Effect<void, StoreError>
}

/** The `Store` service tag. Provide it with a backend layer (`layerMemory`, `layerRedis`). */
export class Store extends Context.Service<Store, StoreShape>()("hotmesh/Store") {}
