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
 * | `{ns:pN}:x:<key>`                     | hash   | execution record: `version`, `state`         |
 * | `{ns:pN}:j:<len(key)>:<key>:<journal>`| list   | journal entries of one run                   |
 * | `{ns:pN}:s:<kind>:<taskQueue>`        | stream | messages of a task queue (group `hotmesh`)   |
 * | `{ns:pN}:d:<kind>:<taskQueue>`        | stream | dead letters of that stream                  |
 * | `{ns:pN}:t`                           | zset   | timers: member = timer id, score = fireAt    |
 * | `{ns:pN}:td`                          | hash   | timer id -> encoded message (see scripts.ts) |
 * | `{ns:pN}:o`                           | stream | outbox: messages bound for other partitions  |
 * | `{ns:pN}:rd`                          | zset   | relay dedupe: `<src>:<entry id>` -> time     |
 * | `{ns:pN}:r:<replyId>`                 | list   | a query reply, in the committing partition   |
 * | `{ns:pN}:tn`                          | string | timer insertion counter (tie order)          |
 * | `{ns:pN}:i:<term>`                    | zset   | visibility index: key -> score (core/visibility.ts) |
 * | `{ns:pN}:ie`                          | hash   | key -> its index zsets, for a record that expires   |
 * | `{ns:pN}:iq`                          | zset   | key -> when its record expires (index sweep, `fire`) |
 * | `{ns:q:<taskQueue>}:lim`              | hash   | a task queue's limits and token bucket (limitsLua.ts) |
 * | `{ns:q:<taskQueue>}:lease`            | zset   | its concurrency leases: id -> expiry (limitsLua.ts)   |
 * | `{ns}:config`                         | hash   | namespace settings: `partitions`, `layout` (`KeyLayout`), `tags` (the partitions' hash tags, space-separated), and `s:<name>` (`readSettings`, `defineSetting`) |
 *
 * Pub/sub channel `<ns>:updates` carries execution keys of notifying commits.
 * The partition count is part of the namespace's on-Redis format: every
 * process of a namespace must use the same one (checked at startup).
 */
import type { StreamAddress } from "../Store.ts"
import { CLUSTER_SLOTS, keySlot } from "./slot.ts"

/** Consumer group every task-queue stream is read with. */
export const STREAM_GROUP = "hotmesh"
/** Consumer group of the outbox streams (read by the relay). */
export const OUTBOX_GROUP = "relay"

/**
 * FNV-1a (32 bit) of the UTF-8 bytes of `text`: the partitioning hash. Stable across versions.
 * The bytes are what `TextEncoder` gives (a lone surrogate as U+FFFD), computed in place:
 * this runs several times per step, and an encoder allocates.
 */
export const fnv1a32 = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c < 0x80) {
      hash = Math.imul(hash ^ c, 0x01000193)
      continue
    }
    if (c < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (c >> 6)), 0x01000193)
      hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), 0x01000193)
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const point = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
        hash = Math.imul(hash ^ (0xf0 | (point >> 18)), 0x01000193)
        hash = Math.imul(hash ^ (0x80 | ((point >> 12) & 0x3f)), 0x01000193)
        hash = Math.imul(hash ^ (0x80 | ((point >> 6) & 0x3f)), 0x01000193)
        hash = Math.imul(hash ^ (0x80 | (point & 0x3f)), 0x01000193)
        continue
      }
      c = 0xfffd // a lone surrogate
    }
    hash = Math.imul(hash ^ (0xe0 | (c >> 12)), 0x01000193)
    hash = Math.imul(hash ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193)
    hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), 0x01000193)
  }
  return hash >>> 0
}

/** Whether `namespace` can be used in keys (no hash-tag braces, no `:`, no whitespace). */
export const isValidNamespace = (namespace: string): boolean => /^[^{}:\s]+$/.test(namespace)

/** Key names of one namespace. */
export interface Keys {
  readonly namespace: string
  readonly partitions: number
  /** Partition (0..partitions-1) of a routing key. */
  readonly partitionOf: (key: string) => number
  /** Hash tag of partition `p`, braces included. */
  readonly tag: (p: number) => string
  readonly exec: (key: string) => string
  readonly journal: (key: string, journalId: string) => string
  readonly stream: (p: number, address: StreamAddress) => string
  readonly dead: (p: number, address: StreamAddress) => string
  readonly timers: (p: number) => string
  readonly timerData: (p: number) => string
  readonly outbox: (p: number) => string
  readonly relayed: (p: number) => string
  /** A reply lives in the partition of the commit that wrote it (`takeReply` looks in all). */
  readonly reply: (p: number, replyId: string) => string
  readonly timerSeq: (p: number) => string
  /** A visibility-index term's sorted set in partition `p`. */
  readonly indexTerm: (p: number, term: string) => string
  readonly indexExpiring: (p: number) => string
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
export const makeKeys = (namespace: string, partitions: number, layout: KeyLayout = "spread"): Keys => {
  const partitionOf = (key: string) => fnv1a32(key) % partitions
  const tags = layout === "legacy"
    ? Array.from({ length: partitions }, (_, p) => `{${namespace}:p${p}}`)
    : spreadSalts(namespace, partitions).map((salt) => `{${namespace}:s${salt}}`)
  const tag = (p: number) => tags[p]!
  return {
    namespace,
    partitions,
    partitionOf,
    tag,
    exec: (key) => `${tag(partitionOf(key))}:x:${key}`,
    journal: (key, journalId) => `${tag(partitionOf(key))}:j:${key.length}:${key}:${journalId}`,
    stream: (p, address) => `${tag(p)}:s:${address.kind}:${address.taskQueue}`,
    dead: (p, address) => `${tag(p)}:d:${address.kind}:${address.taskQueue}`,
    timers: (p) => `${tag(p)}:t`,
    timerData: (p) => `${tag(p)}:td`,
    outbox: (p) => `${tag(p)}:o`,
    relayed: (p) => `${tag(p)}:rd`,
    reply: (p, replyId) => `${tag(p)}:r:${replyId}`,
    timerSeq: (p) => `${tag(p)}:tn`,
    indexTerm: (p, term) => `${tag(p)}:i:${term}`,
    indexExpiring: (p) => `${tag(p)}:ie`,
    indexExpiryQueue: (p) => `${tag(p)}:iq`,
    limiter: (taskQueue) => `{${namespace}:q:${taskQueue}}:lim`,
    leases: (taskQueue) => `{${namespace}:q:${taskQueue}}:lease`,
    config: configKeyOf(namespace),
    channel: `${namespace}:updates`,
  }
}

/** The namespace's settings hash (its own slot, outside every partition). */
export const configKeyOf = (namespace: string): string => `{${namespace}}:config`

/** Delivery ids name the partition and the stream entry: `<p>/<entry id>`. */
export const deliveryId = (p: number, entryId: string): string => `${p}/${entryId}`

/** Inverse of `deliveryId`; `undefined` for an id this backend did not make. */
export const parseDeliveryId = (id: string): { readonly partition: number; readonly entryId: string } | undefined => {
  const slash = id.indexOf("/")
  if (slash <= 0) return undefined
  const partition = Number(id.slice(0, slash))
  const entryId = id.slice(slash + 1)
  if (!Number.isInteger(partition) || partition < 0 || !/^\d+-\d+$/.test(entryId)) return undefined
  return { partition, entryId }
}
