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
 * Optimistic concurrency names writes, not numbers: a record carries its
 * version and the token of the commit that wrote it (`ExecutionRecord`), and
 * a commit applies only to the exact write it names (`Commit.expectedVersion`
 * and `expectedToken`). A backend that can lose recent writes (Redis restored
 * from an older snapshot, a lost fsync, an asynchronous replica promoted)
 * repeats versions but never tokens, so a caller's stale guess conflicts
 * instead of overwriting what was written since.
 *
 * What a partitioned backend may relax, and the interpreter tolerates:
 * - messages of one commit routed to *another* key's partition may become
 *   visible a little later than the commit (an outbox relayed at least once;
 *   the reducer ignores duplicates), and `append` is atomic per partition;
 * - FIFO order holds per key, not across the keys of one stream;
 * - timer ids are scoped to the key whose commits set them.
 */
import { Context, Data, type Effect, type Option } from "effect"
import type { QueueLimits, QueueLimitsChange } from "../core/limits.ts"
import type { IndexEntry } from "../core/visibility.ts"

export type { IndexEntry, QueueLimits, QueueLimitsChange }
export { laneOf } from "../core/lanes.ts"

/**
 * An encoded value and the value itself, for a backend in the writer's own
 * process (the embedded store). A writer may attach one, under
 * `encodedValue` (with `attachEncodedValue`: not enumerable, so a spread
 * copy drops it), to an `OutboundMessage` (for its `body`) or a `Commit` (for
 * its `state`), and make that field an accessor that returns `encoded`: the
 * text is computed on first use. A backend that keeps the holder instead of
 * the text may hand it back, under the same key, on the `Delivery` or
 * `ExecutionRecord` it reads back, so the reader skips decoding (`value` is what decoding the text
 * gives; neither side mutates it). The text stays the contract: every field
 * still reads as the encoded string, and a backend is free to ignore the
 * holder (Redis does, but for what a write claims of its own messages: the
 * writer's holders come back on those deliveries).
 */
export interface EncodedValue<T = unknown> {
  readonly value: T
  /** The encoding of `value` (computed on first read). */
  readonly encoded: string
}

/** The key under which an `EncodedValue` travels with what it encodes. */
export const encodedValue: unique symbol = Symbol.for("hotmesh/encodedValue")

/**
 * Attach `holder` to `target` under `encodedValue`, not enumerable: a copy
 * made by spreading (`{ ...delivery, body }`, as a test or a store decorator
 * may make) carries only the text, so what the copy says is what is read.
 */
export const attachEncodedValue = <T extends object>(target: T, holder: EncodedValue): T =>
  Object.defineProperty(target, encodedValue, { value: holder })

/** Something that may carry its value next to its encoding (see `EncodedValue`). */
export interface MayCarryValue {
  readonly [encodedValue]?: EncodedValue
}

/** Which of a task queue's two streams: workflow events or activity tasks. */
export type StreamKind = "workflow" | "activity"

/** A logical stream: one task queue's workflow stream or activity stream. */
export interface StreamAddress {
  readonly kind: StreamKind
  readonly taskQueue: string
}

/** A message to append. `key` routes it (the workflow id it concerns). */
export interface OutboundMessage extends MayCarryValue {
  readonly stream: StreamAddress
  readonly key: string
  readonly body: string
  /**
   * Who the message is fair to on an activity stream (`core/lanes.ts`: the
   * workflow type of an activity task). The stream's messages are read from
   * `lanes` lanes, this one from lane `laneOf(fairnessKey, lanes)`, and reads
   * take from the lanes in turn (see `StoreShape.read`). Absent, or on a
   * workflow stream: lane 0.
   */
  readonly fairnessKey?: string
}

/** A message handed to a consumer. It stays pending until acknowledged. */
export interface Delivery extends MayCarryValue {
  /** Backend id, unique within the stream; opaque to callers. */
  readonly id: string
  readonly stream: StreamAddress
  readonly key: string
  readonly body: string
  /** How many times this message has been delivered, this time included (≥ 1). */
  readonly deliveries: number
  /** When it was appended (store clock, epoch ms), if the backend knows: for schedule-to-start metrics only. */
  readonly appendedAt?: number
}

/** A durable timer: when `fireAt` (store clock, epoch ms) passes, `message` is appended. */
export interface TimerEntry {
  /** Unique id; used to cancel. A timer with an id that already exists replaces it. */
  readonly id: string
  readonly fireAt: number
  readonly message: OutboundMessage
}

/**
 * The stored form of one workflow execution (latest run of a workflow id).
 *
 * `(version, token)` names one state write. The version alone does not: a
 * store that loses recent writes (Redis restored from an older snapshot, an
 * `appendfsync everysec` power loss, failover to an asynchronous replica)
 * hands out the same version numbers again for different contents, so a
 * commit that names only a version would let a guess made before the loss
 * (a worker's cached state, a client's `Start` record) overwrite them. The
 * token is unique to the write that produced the record, so it does not come
 * round again.
 */
export interface ExecutionRecord extends MayCarryValue {
  readonly key: string
  /** Incremented by every commit that writes state; 0 means "never written". */
  readonly version: number
  /** The token of the commit that wrote this state ("" for a record written without one). */
  readonly token: string
  readonly state: string
}

/**
 * Everything one durable step writes, applied atomically or not at all.
 *
 * The commit fails with `CommitConflict` (and changes nothing) when the
 * record is not the one the caller computed from — its version is not
 * `expectedVersion` or its token is not `expectedToken` (reason `"version"`:
 * optimistic concurrency between consumers racing on the same workflow, or a
 * guess that predates a store rollback) — or when `ack` names a message that
 * is no longer pending (already acknowledged by another consumer).
 *
 * `state` and `token` come together: every state write names a token unique
 * to it (`CommitStateWrite`).
 */
export type Commit = CommitWrites & CommitStateWrite

/** The state a commit writes, with the token that names that write; or neither. */
export type CommitStateWrite =
  | {
    /** New encoded state (the record's version becomes `expectedVersion + 1`). */
    readonly state: string
    /**
     * The new record's token: unique to this write across every process and
     * every restart (never ""), so a later write never repeats it even where
     * it repeats the version. The next commit names it as `expectedToken`.
     */
    readonly token: string
  }
  | {
    /** Omitted: the record (its state, version and token) is left untouched. */
    readonly state?: never
    readonly token?: never
  }

/** What a commit writes besides the state (see `Commit`). */
export interface CommitWrites extends MayCarryValue {
  readonly key: string
  readonly expectedVersion: number
  /**
   * The token of the record at `expectedVersion` (`ExecutionRecord.token`, or
   * the `token` of the commit that wrote it). Omitted means "": a record
   * never written (version 0) or written without a token. The record matches
   * only when both its version and its token are the expected ones.
   */
  readonly expectedToken?: string
  /**
   * Journal entries of run `id`, in order, written from index `from`: the
   * number of entries the expected record's state claims for that run. The
   * journal is first cut to `from` entries, so entries the record does not
   * claim never stay under the new ones. A backend's own operations never
   * leave such entries (a record and its journal are written together and a
   * snapshot restores both as of one moment), but a partial restore or a
   * stale writer that predates tokens can, and the record is the truth the
   * commit was checked against. A journal shorter than `from` (entries lost
   * outside the store's operations) is appended to as it is.
   */
  readonly journal?: { readonly id: string; readonly from: number; readonly entries: ReadonlyArray<string> }
  readonly messages?: ReadonlyArray<OutboundMessage>
  /** Timers to set (an existing id is replaced). Applied after `cancelTimers`. */
  readonly timers?: ReadonlyArray<TimerEntry>
  /** Timer ids to cancel; unknown ids are ignored. */
  readonly cancelTimers?: ReadonlyArray<string>
  /** Query answers: `replyId -> encoded answer`, readable once with `takeReply`. */
  readonly replies?: ReadonlyArray<{ readonly id: string; readonly body: string }>
  /**
   * The message this step consumed: a workflow message, or an activity task
   * whose report the step consumed without it being written (the worker
   * that ran the activity stepped its workflow itself). Its `key` must be
   * the commit's `key` (one partition).
   */
  readonly ack?: Delivery
  /** Wake `awaitUpdate` callers for this key (set when an execution closes, or one of its updates moves on). */
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
  /**
   * Visibility index writes for the commit's key (terms and scores are
   * computed in `core/visibility.ts`; opaque here): the key leaves each term
   * of `remove`, is listed under each entry of `add` with its score (a term
   * that lists it already takes the new score), and stays as it is under
   * each term of `keep`. The caller computes the difference from the state
   * the commit is checked against, so a backend keeps no index state of its
   * own to diff. A commit with `expire.record` carries `index`, and the
   * record's expiry removes the key from its `add` and `keep` terms too — a
   * list never shows an execution whose record is gone for longer than
   * until the next `fireDueTimers`. A backend that sweeps expiries by time
   * bucket may take until the bucket's end (Redis: one minute) for a record
   * filed behind one that expires later (runs closed with different
   * retentions, a record closed again).
   */
  readonly index?: { readonly remove: ReadonlyArray<string>; readonly add: ReadonlyArray<IndexEntry>; readonly keep: ReadonlyArray<string> }
  /** Also claim what this commit made ready, for the consumer that runs it next (see `Claim`). */
  readonly claim?: Claim
}

/**
 * "Append and claim": a write that appends work may also claim it, in the
 * same round trip, for the consumer that will run it, so that consumer
 * skips its read (BullMQ's moveToFinished handing back the next job is the
 * same idea). A claim is a `read` of `stream` by `consumer` of up to
 * `count` messages, done atomically after the write's own appends and
 * limited to what that read would deliver *new* (never delivered before),
 * from where the write's messages went (a partitioned backend: the write's
 * partition only); the claimed messages come back as `Delivery`s, pending
 * on `consumer` with the usual visibility timeout, exactly as if read — a
 * consumer that dies holding them leaves them to be reclaimed.
 *
 * An optimisation, never a requirement: a backend may claim fewer, or none
 * (return nothing), and what it leaves stays on the stream for the next
 * read. A write that fails claims nothing.
 */
export interface Claim {
  readonly stream: StreamAddress
  readonly consumer: string
  /** At most this many (≥ 1). */
  readonly count: number
}

/** What a write that asked for a `Claim` got: the deliveries it claimed (nothing, or none, when it claimed none). */
export type Claimed = ReadonlyArray<Delivery> | void

/** One execution a scan found: its key and its score in the scanned term. */
export interface IndexHit {
  readonly key: string
  readonly score: number
}

/** Options of `scanIndex`. */
export interface IndexScanOptions {
  /** Ascending or descending `(score, key)` order (see `compareIndexHits`). */
  readonly direction: "ASC" | "DESC"
  /** Resume strictly after this hit (the last one of the previous page). */
  readonly after?: IndexHit
  readonly limit: number
}

/**
 * The order of a term's hits: by score, ties by key in byte order of
 * their UTF-8 encoding (what a Redis sorted set does), reversed for DESC.
 */
export const compareIndexHits = (a: IndexHit, b: IndexHit): number => (a.score !== b.score ? a.score - b.score : compareUtf8(a.key, b.key))

/** `a` vs `b` in the byte order of their UTF-8 encodings (code-point order), without encoding them. */
const compareUtf8 = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // UTF-16 order departs from code-point order only where a surrogate (U+10000 and up) meets U+E000..U+FFFF.
    const surrogateX = x >= 0xd800 && x <= 0xdfff
    const surrogateY = y >= 0xd800 && y <= 0xdfff
    if (surrogateX !== surrogateY && (x >= 0xe000 || y >= 0xe000)) return surrogateX ? 1 : -1
    return x - y
  }
  return a.length - b.length
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

/** What `describeStream` reports: the state of one stream, for operators. */
export interface StreamDescription {
  /** Messages on the stream not yet acknowledged or dead-lettered: waiting for a reader, or delivered. */
  readonly length: number
  /** Of those, delivered and not yet acknowledged. */
  readonly pending: number
  /** How long ago (store clock) the oldest pending message was appended; absent when none is pending. */
  readonly oldestPendingMs?: number
  /** The consumers that have read the stream: how many messages each holds, and how long since it last read. */
  readonly consumers: ReadonlyArray<{ readonly name: string; readonly pending: number; readonly idleMs: number }>
  /** How many dead letters the stream has. */
  readonly deadLetters: number
}

/** What `acquirePermits` asks for: up to `want` activity tasks for `holder`, each concurrency lease lasting `leaseMs`. */
export interface PermitRequest {
  /** Names the leases (a worker's consumer name); for operators reading the store. */
  readonly holder: string
  readonly want: number
  /** A lease not renewed or released within this long (store clock) is taken back: the visibility timeout. */
  readonly leaseMs: number
}

/** What `acquirePermits` granted. */
export interface Permits {
  /** How many tasks the caller may read now (0..want). */
  readonly granted: number
  /** One concurrency lease per granted task when the queue has a concurrency limit, else none. */
  readonly leases: ReadonlyArray<string>
  /** False when the queue has no limits at all (nothing was counted: `granted` is `want`). */
  readonly limited: boolean
  /** With nothing granted: how long until asking again is worth it (a token refills, a lease may free up, a pause is re-checked). */
  readonly retryAfterMs: number
}

/** The store failed (I/O, connection lost, script error). Callers retry. */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly operation: string
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A commit lost an optimistic-concurrency race; nothing was written.
 * `"version"`: the record is not at `(expectedVersion, expectedToken)` —
 * after a store rollback `actualVersion` may equal `expectedVersion`, with
 * another token. `"not-pending"`: the acknowledged message is not pending.
 */
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
  /** Lanes of every activity stream (≥ 1; a namespace setting): see `read` and `OutboundMessage.fairnessKey`. */
  readonly lanes: number
  /** The store's clock (epoch ms). Timers fire by this clock. */
  readonly now: Effect.Effect<number, StoreError>

  readonly load: (key: string) => Effect.Effect<Option.Option<ExecutionRecord>, StoreError>
  readonly loadJournal: (key: string, journalId: string) => Effect.Effect<ReadonlyArray<string>, StoreError>
  /** Apply `commit` atomically (see `Commit`); resolves to what its `claim` claimed, if it had one. */
  readonly commit: (commit: Commit) => Effect.Effect<Claimed, StoreError | CommitConflict>

  /** Append messages outside any step (clients: signals, cancellations, queries). */
  readonly append: (messages: ReadonlyArray<OutboundMessage>) => Effect.Effect<void, StoreError>
  /**
   * Read messages for a consumer. Messages pending on another consumer for
   * longer than the visibility timeout are re-delivered first (stalled-work
   * reclaim); a message whose delivery count would exceed the store's limit
   * goes to the dead-letter list instead of being delivered.
   *
   * Fair sharing: an activity stream's new messages wait in `lanes` FIFOs
   * (see `OutboundMessage.fairnessKey`), and a read takes them from the lanes
   * in turn, resuming after the lane the previous read of the stream ended
   * on — so a message in a lane of its own is delivered within the first
   * `lanes` reads (of the first `lanes × count` messages) after it was
   * appended, however many wait in the other lanes. A partitioned backend
   * keeps that per partition. With one lane the stream is FIFO per key.
   */
  readonly read: (stream: StreamAddress, options: ReadOptions) => Effect.Effect<ReadonlyArray<Delivery>, StoreError>
  /**
   * Acknowledge `ack` and append `messages`, atomically (activity completions).
   * If `ack` is no longer pending (another consumer finished it, or it was
   * dead-lettered) nothing is written and the call succeeds: the work was a duplicate.
   * With `claim`, also claims what the messages made ready (see `Claim`; a
   * partitioned backend claims from `ack`'s partition).
   */
  readonly complete: (ack: Delivery, messages: ReadonlyArray<OutboundMessage>, claim?: Claim) => Effect.Effect<Claimed, StoreError>
  /**
   * Give pending messages back for immediate re-delivery (clean shutdown).
   * `release` and `touch` ignore a delivery that has since been re-delivered
   * (its `deliveries` count is stale), so a zombie cannot disturb the new owner.
   * With `uncounted`, the given-back delivery does not count toward the
   * delivery limit (the next delivery has the same `deliveries` number): the
   * store failed, not the message, so an outage of any length never
   * dead-letters the messages it interrupted.
   */
  readonly release: (deliveries: ReadonlyArray<Delivery>, options?: { readonly uncounted?: boolean }) => Effect.Effect<void, StoreError>
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

  /**
   * The state of a stream for operators (`hotmesh task-queue describe`):
   * depth, pending work and its age, consumers, dead letters. A snapshot,
   * not a transaction: a partitioned backend sums its partitions, read
   * one after another, and a consumer named on several partitions is one
   * consumer (its pending summed, its idle time the least).
   */
  readonly describeStream: (stream: StreamAddress) => Effect.Effect<StreamDescription, StoreError>
  /** How many timers are due by the store clock (the next `fireDueTimers` fires them). */
  readonly dueTimers: Effect.Effect<number, StoreError>

  /** Pop every timer due by the store clock and append its message, atomically. Returns how many fired. */
  readonly fireDueTimers: (limit: number) => Effect.Effect<number, StoreError>
  /** Earliest pending timer's `fireAt`, if any. */
  readonly nextTimerAt: Effect.Effect<Option.Option<number>, StoreError>

  /** Take (and delete) a query reply, waiting up to `timeoutMs` for it. */
  readonly takeReply: (id: string, timeoutMs: number) => Effect.Effect<Option.Option<string>, StoreError>
  /**
   * Resolve once a commit with `notify` has moved `key`'s record past
   * `afterVersion` — at once if one already has (a backend keeps the version
   * of the record's last notifying commit with it) — or after `timeoutMs`.
   * Commits without `notify` wake no one. A backend may resolve with the
   * record the notifying commit wrote (exactly what `load` returned right
   * after it), saving the caller its `load`; otherwise (`void`) callers
   * re-`load`. Either way this is a hint, never the source of truth, so a
   * lost notification only costs latency.
   */
  readonly awaitUpdate: (key: string, afterVersion: number, timeoutMs: number) => Effect.Effect<ExecutionRecord | void, StoreError>

  /**
   * How many partitions the visibility index has: a list scans every
   * partition (0..indexPartitions-1) and merges, so no commit ever touches
   * a key shared by every execution.
   */
  readonly indexPartitions: number
  /** Up to `limit` keys listed under `term` in `partition`, in `(score, key)` order, strictly after `after`. */
  readonly scanIndex: (partition: number, term: string, options: IndexScanOptions) => Effect.Effect<ReadonlyArray<IndexHit>, StoreError>
  /** How many keys each of `terms` lists in `partition`, in order. */
  readonly countIndex: (partition: number, terms: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<number>, StoreError>

  /**
   * Back-pressure of a task queue's activity tasks, across every process of
   * the namespace (see `core/limits.ts`). The limits are a setting of the
   * queue, changed at run time: `changeQueueLimits` applies a change
   * atomically and resolves to the limits now in force; `queueLimits` reads
   * them. Clearing the rate resets its bucket (full again when set anew).
   */
  readonly changeQueueLimits: (taskQueue: string, change: QueueLimitsChange) => Effect.Effect<QueueLimits, StoreError>
  readonly queueLimits: (taskQueue: string) => Effect.Effect<QueueLimits, StoreError>
  /**
   * Take permits to start up to `want` tasks, atomically against every other
   * caller: none while paused; at most the bucket's whole tokens (refilled
   * by the store clock at `rate`/s up to `burst`, and taken); at most the
   * concurrency minus the live leases (a lease past its expiry is dropped
   * first, so a dead holder's permits come back after `leaseMs`), and one
   * new lease per task granted. A queue with no limits grants `want` and
   * counts nothing (`limited: false`).
   */
  readonly acquirePermits: (taskQueue: string, request: PermitRequest) => Effect.Effect<Permits, StoreError>
  /**
   * Give permits back: delete `leases` (unknown or expired ones are ignored)
   * and return `unusedTokens` tokens to the bucket (permits taken for tasks
   * that were not there to read), never above its burst.
   */
  readonly releasePermits: (taskQueue: string, leases: ReadonlyArray<string>, unusedTokens: number) => Effect.Effect<void, StoreError>
  /** Extend `leases` still held to `leaseMs` from now (a running task's heartbeat); an expired lease is not revived. */
  readonly renewPermits: (taskQueue: string, leases: ReadonlyArray<string>, leaseMs: number) => Effect.Effect<void, StoreError>

  /** The namespace settings whose names start with `prefix`, as `[name, value]` pairs (declared search attributes, ...). */
  readonly readSettings: (prefix: string) => Effect.Effect<ReadonlyArray<readonly [string, string]>, StoreError>
  /** Store `value` under `name` unless a value is stored there already; resolves to the value stored now. */
  readonly defineSetting: (name: string, value: string) => Effect.Effect<string, StoreError>
}

/** The `Store` service tag. Provide it with a backend layer (`layerMemory`, `layerRedis`). */
export class Store extends Context.Service<Store, StoreShape>()("hotmesh/Store") {}
