/**
 * The Redis key layout of one namespace.
 *
 * A namespace has a fixed number of partitions. A routing key (workflow id)
 * lives in partition `fnv1a32(key) % partitions`, and every key of partition
 * `p` starts with the partition's hash tag (`{<ns>:s<salt>}`, see
 * `KeyLayout`; written `{ns:pN}` below), so all of them share one Redis
 * Cluster slot and one Lua script may touch any of them:
 *
 * | key                                   | type   | holds                                        |
 * |---------------------------------------|--------|----------------------------------------------|
 * | `{ns:pN}:x:<key>`                     | hash   | execution record: `version`, `state`, `token` |
 * | `{ns:pN}:j:<len(key)>:<key>:<journal>`| list   | journal entries of one run                   |
 * | `{ns:pN}:s:<kind>:<taskQueue>`        | stream | messages of a task queue (group `hotmesh`); an activity stream's lane 0 |
 * | `{ns:pN}:s:activity#<l>:<taskQueue>`  | stream | lane `l` (1..lanes-1) of an activity stream  |
 * | `{ns:pN}:d:<kind>:<taskQueue>`        | stream | dead letters of that stream (of lane 0)      |
 * | `{ns:pN}:d:activity#<l>:<taskQueue>`  | stream | dead letters of lane `l`                     |
 * | `{ns:pN}:t`                           | zset   | timers: member = timer id, score = fireAt    |
 * | `{ns:pN}:td`                          | hash   | timer id -> encoded message (see scripts.ts) |
 * | `{ns:pN}:o`                           | stream | outbox: messages bound for other partitions  |
 * | `{ns:pN}:rd`                          | zset   | relay dedupe: `<src>:<entry id>` -> time     |
 * | `{ns:pN}:r:<replyId>`                 | list   | a query reply, in the committing partition   |
 * | `{ns:pN}:tn`                          | string | timer insertion counter (tie order)          |
 * | `{ns:pN}:i:<term>`                    | zset   | visibility index: key -> score (core/visibility.ts) |
 * | `{ns:pN}:ib`                          | zset   | index expiry buckets: bucket end (ms) -> when `fire` looks at it next |
 * | `{ns:pN}:ib:<end>`                    | list   | the expiring records of one bucket: `<sep><key><sep><term><sep><term>…` per record, or `<sep><key><sep><sep><id>` (see `INDEX_EXPIRY_BUCKET_MS`) |
 * | `{ns:pN}:it:<end>`                    | hash   | that bucket's term sets: id -> `<sep><term><sep><term>…`, shared by its records |
 * | `{ns:pN}:ie`                          | hash   | written before the buckets, still swept: key -> JSON list of its index zset names |
 * | `{ns:pN}:iq`                          | zset   | written before the buckets, still swept: key -> when its record expires |
 * | `{ns:q:<taskQueue>}:lim`              | hash   | a task queue's limits and token bucket (limitsLua.ts) |
 * | `{ns:q:<taskQueue>}:lease`            | zset   | its concurrency leases: id -> expiry (limitsLua.ts)   |
 * | `{ns}:config`                         | hash   | namespace settings: `partitions`, `layout` (`KeyLayout`), `tags` (the partitions' hash tags, space-separated), `lanes` (lanes per activity stream; absent: 1), and `s:<name>` (`readSettings`, `defineSetting`) |
 *
 * Pub/sub channel `<ns>:updates` carries execution keys of notifying commits.
 * The partition count and the lane count are part of the namespace's
 * on-Redis format: every process of a namespace must use the same ones
 * (checked at startup). With one lane the layout is the one before lanes.
 */
import { fnv1a32 } from "../../core/hash.ts"
import { laneOf } from "../../core/lanes.ts"
import type { OutboundMessage, StreamAddress } from "../Store.ts"
import { CLUSTER_SLOTS, keySlot } from "./slot.ts"

export { fnv1a32 }

/** Consumer group every task-queue stream is read with. */
export const STREAM_GROUP = "hotmesh"
/** Consumer group of the outbox streams (read by the relay). */
export const OUTBOX_GROUP = "relay"

/** Whether `namespace` can be used in keys (no hash-tag braces, no `:`, no whitespace). */
export const isValidNamespace = (namespace: string): boolean => /^[^{}:\s]+$/.test(namespace)

/** Key names of one namespace. */
export interface Keys {
  readonly namespace: string
  readonly partitions: number
  /** Lanes of every activity stream (1: lane 0 only, the layout before lanes). */
  readonly lanes: number
  /** Lanes of `address`'s stream: `lanes` for an activity stream, 1 for a workflow stream. */
  readonly lanesOf: (address: StreamAddress) => number
  /** The lane a message is appended to (`core/lanes.ts` `laneOf` of its fairness key; 0 without one). */
  readonly laneOfMessage: (m: OutboundMessage) => number
  /** Partition (0..partitions-1) of a routing key. */
  readonly partitionOf: (key: string) => number
  /** Hash tag of partition `p`, braces included. */
  readonly tag: (p: number) => string
  readonly exec: (key: string) => string
  readonly journal: (key: string, journalId: string) => string
  /** The stream of partition `p` (its lane `lane`, default 0). */
  readonly stream: (p: number, address: StreamAddress, lane?: number) => string
  readonly dead: (p: number, address: StreamAddress, lane?: number) => string
  readonly timers: (p: number) => string
  readonly timerData: (p: number) => string
  readonly outbox: (p: number) => string
  readonly relayed: (p: number) => string
  /** A reply lives in the partition of the commit that wrote it (`takeReply` looks in all). */
  readonly reply: (p: number, replyId: string) => string
  readonly timerSeq: (p: number) => string
  /** A visibility-index term's sorted set in partition `p`. */
  readonly indexTerm: (p: number, term: string) => string
  /** The expiry buckets of partition `p`'s index entries (zset: bucket end -> when to look at it). */
  readonly indexExpiryBuckets: (p: number) => string
  /** The list of the expiring records of the bucket ending at `end` (ms). */
  readonly indexExpiryBucket: (p: number, end: number) => string
  /** The term sets of that bucket's records (hash: id -> terms), deleted with its list. */
  readonly indexExpiryTermSets: (p: number, end: number) => string
  /** The format before the buckets (read and swept, no longer written): key -> its index zset names. */
  readonly indexExpiring: (p: number) => string
  /** The format before the buckets: key -> its record's expiry. */
  readonly indexExpiryQueue: (p: number) => string
  /** A task queue's limiter hash and lease zset: one hash tag of their own (one slot). */
  readonly limiter: (taskQueue: string) => string
  readonly leases: (taskQueue: string) => string
  readonly config: string
  readonly channel: string
}

/**
 * How partitions are named. `"spread"` (every namespace made since Redis
 * Cluster support): partition `p`'s hash tag is `{<ns>:s<salt>}`, the salts
 * chosen (`spreadSalts`) so that partition `p`'s slot lies in the middle
 * quarter of the `p`-th of `partitions` equal slices of the 16384 slots — distinct
 * slots, in order, as evenly over any layout of equal contiguous slot ranges
 * (what `redis-cli --cluster create` makes) as the counts allow (8 partitions
 * on 3 masters: 3/2/3). `"legacy"`: `{<ns>:p<p>}` (namespaces made before;
 * their slots fall where the hash puts them). Recorded in `{ns}:config`.
 */
export type KeyLayout = "spread" | "legacy"

/**
 * The salts of the `"spread"` layout: draw salts 0, 1, 2, … and give each
 * to the first-come partition whose slot window (middle quarter of its slice)
 * its slot falls in, until every partition has one. Deterministic, stable
 * across versions (the key names depend on it), ~4·P·ln P hashes.
 */
export const spreadSalts = (namespace: string, partitions: number): ReadonlyArray<number> => {
  const salts: Array<number | undefined> = Array.from({ length: partitions }, () => undefined)
  const width = CLUSTER_SLOTS / partitions
  let missing = partitions
  for (let salt = 0; missing > 0; salt++) {
    const slot = keySlot(`{${namespace}:s${salt}}`)
    const p = Math.floor(slot / width)
    const offset = slot - p * width
    // The middle quarter of the slice [3·width/8, 5·width/8) (at least one slot).
    const lo = Math.floor((3 * width) / 8)
    const hi = Math.max(lo + 1, Math.floor((5 * width) / 8))
    if (offset < lo || offset >= hi || salts[p] !== undefined) continue
    salts[p] = salt
    missing--
  }
  return salts as ReadonlyArray<number>
}

/** The key layout of `namespace` with `partitions` partitions. */
export const makeKeys = (namespace: string, partitions: number, layout: KeyLayout = "spread", lanes = 1): Keys => {
  const partitionOf = (key: string) => fnv1a32(key) % partitions
  const tags = layout === "legacy"
    ? Array.from({ length: partitions }, (_, p) => `{${namespace}:p${p}}`)
    : spreadSalts(namespace, partitions).map((salt) => `{${namespace}:s${salt}}`)
  const tag = (p: number) => tags[p]!
  const lanesOf = (address: StreamAddress) => (address.kind === "activity" ? lanes : 1)
  // Lane 0 is the stream's name before lanes, so a namespace with one lane has the old layout.
  const kindOf = (address: StreamAddress, lane: number) => (lane === 0 ? address.kind : `${address.kind}#${lane}`)
  return {
    namespace,
    partitions,
    lanes,
    lanesOf,
    laneOfMessage: (m) => (m.fairnessKey === undefined ? 0 : laneOf(m.fairnessKey, lanesOf(m.stream))),
    partitionOf,
    tag,
    exec: (key) => `${tag(partitionOf(key))}:x:${key}`,
    journal: (key, journalId) => `${tag(partitionOf(key))}:j:${key.length}:${key}:${journalId}`,
    stream: (p, address, lane = 0) => `${tag(p)}:s:${kindOf(address, lane)}:${address.taskQueue}`,
    dead: (p, address, lane = 0) => `${tag(p)}:d:${kindOf(address, lane)}:${address.taskQueue}`,
    timers: (p) => `${tag(p)}:t`,
    timerData: (p) => `${tag(p)}:td`,
    outbox: (p) => `${tag(p)}:o`,
    relayed: (p) => `${tag(p)}:rd`,
    reply: (p, replyId) => `${tag(p)}:r:${replyId}`,
    timerSeq: (p) => `${tag(p)}:tn`,
    indexTerm: (p, term) => `${tag(p)}:i:${term}`,
    indexExpiryBuckets: (p) => `${tag(p)}:ib`,
    indexExpiryBucket: (p, end) => `${tag(p)}:ib:${end}`,
    indexExpiryTermSets: (p, end) => `${tag(p)}:it:${end}`,
    indexExpiring: (p) => `${tag(p)}:ie`,
    indexExpiryQueue: (p) => `${tag(p)}:iq`,
    limiter: (taskQueue) => `{${namespace}:q:${taskQueue}}:lim`,
    leases: (taskQueue) => `{${namespace}:q:${taskQueue}}:lease`,
    config: configKeyOf(namespace),
    channel: `${namespace}:updates`,
  }
}

/**
 * Width of an index expiry bucket. A record whose commit closed it with an
 * expiry (retention) at `at` is appended to the list of the bucket ending at
 * `(floor(at / width) + 1) · width`, with the index terms it is listed under;
 * `fire` sweeps a bucket from its head as the records expire (by `PTTL`), so a
 * namespace with one retention sweeps each record when it expires, and an
 * entry that waits behind one that expires later (runs closed with another
 * retention) waits at most until the bucket ends.
 */
export const INDEX_EXPIRY_BUCKET_MS = 60_000

/** The end of the expiry bucket of a record that expires at `at` (ms). */
export const indexExpiryBucketEnd = (at: number): number => (Math.floor(at / INDEX_EXPIRY_BUCKET_MS) + 1) * INDEX_EXPIRY_BUCKET_MS

/** The namespace's settings hash (its own slot, outside every partition). */
export const configKeyOf = (namespace: string): string => `{${namespace}}:config`

/**
 * Delivery ids name the partition, the lane and the stream entry:
 * `<p>/<entry id>` in lane 0 (the id before lanes), `<p>.<lane>/<entry id>` in another.
 */
export const deliveryId = (p: number, entryId: string, lane = 0): string => (lane === 0 ? `${p}/${entryId}` : `${p}.${lane}/${entryId}`)

/** Inverse of `deliveryId`; `undefined` for an id this backend did not make. */
export const parseDeliveryId = (id: string): { readonly partition: number; readonly lane: number; readonly entryId: string } | undefined => {
  const slash = id.indexOf("/")
  if (slash <= 0) return undefined
  const where = id.slice(0, slash)
  const dot = where.indexOf(".")
  const partition = Number(dot < 0 ? where : where.slice(0, dot))
  const lane = dot < 0 ? 0 : Number(where.slice(dot + 1))
  const entryId = id.slice(slash + 1)
  if (!Number.isInteger(partition) || partition < 0 || !Number.isInteger(lane) || lane < (dot < 0 ? 0 : 1) || !/^\d+-\d+$/.test(entryId)) return undefined
  return { partition, lane, entryId }
}
