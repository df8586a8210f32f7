/**
 * Turning `Store` operations into script KEYS and ARGV (the layouts are
 * documented in the headers in lua.ts), and routing each outgoing message:
 * straight into its target stream when its key lives in the partition being
 * written, otherwise into that partition's outbox, from where the relay moves
 * it (see relay.ts). Pure functions: no I/O.
 */
import type { Claim, Commit, Delivery, OutboundMessage, StreamAddress } from "../Store.ts"
import type { Entry } from "./groupReader.ts"
import { indexExpiryBucketEnd, type Keys, parseDeliveryId, STREAM_GROUP } from "./keys.ts"

/** KEYS and ARGV of one script call. */
export interface ScriptCall {
  readonly keys: ReadonlyArray<string>
  readonly args: ReadonlyArray<string | number>
}

/** The outbox destination of a message, stored as the entry's `k` field (its fairness key 4th, if it has one). */
export const encodeDestination = (m: OutboundMessage): string =>
  JSON.stringify(m.fairnessKey === undefined ? [m.stream.kind, m.stream.taskQueue, m.key] : [m.stream.kind, m.stream.taskQueue, m.key, m.fairnessKey])

/** Inverse of `encodeDestination` (the message it routes, without its body); `undefined` when malformed. */
export const decodeDestination = (
  text: string,
): { readonly stream: StreamAddress; readonly key: string; readonly fairnessKey?: string } | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    if (!Array.isArray(value) || (value.length !== 3 && value.length !== 4)) return undefined
    const [kind, taskQueue, key, fairnessKey] = value as Array<unknown>
    if ((kind !== "workflow" && kind !== "activity") || typeof taskQueue !== "string" || typeof key !== "string") {
      return undefined
    }
    if (value.length === 4) return typeof fairnessKey === "string" ? { stream: { kind, taskQueue }, key, fairnessKey } : undefined
    return { stream: { kind, taskQueue }, key }
  } catch {
    return undefined
  }
}

/** Where a delivery lives: its partition, lane and stream entry id; a message when it is not ours. */
export const locateDelivery = (
  keys: Keys,
  d: Delivery,
): { readonly partition: number; readonly lane: number; readonly entryId: string } | string => {
  const parsed = parseDeliveryId(d.id)
  return parsed === undefined || parsed.partition >= keys.partitions || parsed.lane >= keys.lanesOf(d.stream)
    ? `"${d.id}" is not a delivery id of the Redis store`
    : parsed
}

/** Split `messages` into those local to partition `p` (stream key + args) and outbox args. */
const route = (keys: Keys, p: number, messages: ReadonlyArray<OutboundMessage>) => {
  const localKeys: Array<string> = []
  const localArgs: Array<string> = []
  const outboxArgs: Array<string> = []
  for (const m of messages) {
    if (keys.partitionOf(m.key) === p) {
      localKeys.push(keys.stream(p, m.stream, keys.laneOfMessage(m)))
      localArgs.push(m.key, m.body)
    } else {
      outboxArgs.push(encodeDestination(m), m.body)
    }
  }
  return { localKeys, localArgs, outboxArgs, local: localKeys.length, outbox: outboxArgs.length / 2 }
}

/**
 * The longest state (in characters) a notification carries with it: a waiter
 * woken by it needs no read. Every subscribed client of the namespace receives
 * every notification, so only small records travel this way; a larger one is
 * read by its waiters as before.
 */
export const NOTIFY_RECORD_MAX = 1024

/** Options that shape a commit call. */
export interface CommitEncoding {
  readonly replyTtlMs: number
}

/**
 * The `commit` script call for `c`, or an error message when the commit cannot
 * be atomic on Redis (its `ack` lives in another partition than `c.key`).
 */
export const encodeCommit = (keys: Keys, c: Commit, options: CommitEncoding): ScriptCall | string => {
  const p = keys.partitionOf(c.key)
  const exec = keys.exec(c.key)
  let ackKey = exec
  let ackId = ""
  if (c.ack !== undefined) {
    const at = locateDelivery(keys, c.ack)
    if (typeof at === "string") return at
    if (at.partition !== p) {
      return `commit of "${c.key}" (partition ${p}) cannot acknowledge a message of partition ${at.partition} atomically`
    }
    ackKey = keys.stream(p, c.ack.stream, at.lane)
    ackId = at.entryId
  }
  const journal = c.journal?.entries ?? []
  const claim = claimOf(c.claim)
  const routed = route(keys, p, c.messages ?? [])
  const timers = c.timers ?? []
  const cancels = c.cancelTimers ?? []
  const replies = c.replies ?? []
  const timerArgs: Array<string | number> = []
  for (const t of timers) {
    const local = keys.partitionOf(t.message.key) === p
    timerArgs.push(
      t.id,
      t.fireAt,
      local ? keys.stream(p, t.message.stream, keys.laneOfMessage(t.message)) : "",
      local ? t.message.key : encodeDestination(t.message),
      t.message.body,
    )
  }
  const remove = c.index?.remove ?? []
  const add = c.index?.add ?? []
  const keep = c.index?.keep ?? []
  const expireAt = c.expire !== undefined && c.journal !== undefined ? Math.round(c.expire.at) : undefined
  // A record that expires leaves its index terms then: it goes in the bucket of its expiry, with them.
  let expiring = ""
  let bucketEnd: number | undefined
  if (c.index !== undefined && c.expire?.record === true && expireAt !== undefined) {
    const entry = encodeExpiringEntry(c.key, [...add.map((entry) => entry.term), ...keep])
    if (entry === undefined) return `commit of "${c.key}": no separator for its expiring index entry (every ASCII character occurs in the key or its terms)`
    expiring = entry
    bucketEnd = indexExpiryBucketEnd(expireAt)
  }
  const indexKeys = c.index === undefined
    ? []
    : [
      ...remove.map((term) => keys.indexTerm(p, term)),
      ...add.map((entry) => keys.indexTerm(p, entry.term)),
      ...keep.map((term) => keys.indexTerm(p, term)),
      ...(bucketEnd === undefined ? [] : [keys.indexExpiryBuckets(p), keys.indexExpiryBucket(p, bucketEnd), keys.indexExpiryTermSets(p, bucketEnd)]),
    ]
  return {
    keys: [
      exec,
      c.journal !== undefined ? keys.journal(c.key, c.journal.id) : exec,
      keys.timers(p),
      keys.timerData(p),
      keys.timerSeq(p),
      keys.outbox(p),
      ackKey,
      ...routed.localKeys,
      ...replies.map((r) => keys.reply(p, r.id)),
      ...(claim === undefined ? [] : [keys.stream(p, claim.stream, claimLane(keys, claim, c.messages ?? []))]),
      ...indexKeys,
    ],
    args: [
      c.expectedVersion,
      c.state !== undefined ? "1" : "0",
      c.state ?? "",
      STREAM_GROUP,
      ackId,
      c.notify === true ? keys.channel : "",
      c.key,
      options.replyTtlMs,
      journal.length,
      routed.local,
      routed.outbox,
      timers.length,
      cancels.length,
      replies.length,
      expireAt ?? "",
      c.expire?.record === true ? "1" : "0",
      c.expectedToken ?? "",
      c.token ?? "",
      c.journal !== undefined ? Math.max(0, Math.floor(c.journal.from)) : "",
      remove.length,
      add.length,
      keep.length,
      claim?.count ?? 0,
      claim?.consumer ?? "",
      expiring,
      bucketEnd ?? "",
      c.notify === true && c.state !== undefined && c.state.length <= NOTIFY_RECORD_MAX ? "1" : "0",
      ...journal,
      ...routed.localArgs,
      ...routed.outboxArgs,
      ...timerArgs,
      ...cancels,
      ...replies.map((r) => r.body),
      ...add.map((entry) => entry.score),
    ],
  }
}

/** Separators an expiring index entry may use, the usual one first (core's terms never contain a space). */
const SEPARATORS = [" ", "\n", "\t", "|", ...Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1))]

/**
 * A record's entry in its index expiry bucket: `<sep><key><sep><term><sep><term>…`,
 * `sep` a character found in neither the key nor the terms (the `fire` script
 * splits on the first character); `undefined` when there is none.
 */
export const encodeExpiringEntry = (key: string, terms: ReadonlyArray<string>): string | undefined => {
  const sep = SEPARATORS.find((s) => !key.includes(s) && terms.every((term) => !term.includes(s)))
  // Each term once, an empty one last: `<sep><key><sep><sep><id>` is the shared-terms form.
  const unique = [...new Set(terms)]
  const ordered = unique.includes("") ? [...unique.filter((term) => term !== ""), ""] : unique
  return sep === undefined ? undefined : sep + [key, ...ordered].join(sep)
}

/** Inverse of `encodeExpiringEntry` (what the `fire` script does in Lua): the key and its terms. */
export const decodeExpiringEntry = (entry: string): { readonly key: string; readonly terms: ReadonlyArray<string> } => {
  const [key = "", ...terms] = entry.slice(1).split(entry.slice(0, 1))
  return { key, terms }
}

/**
 * The key and terms of an entry as the commit script stored it: as written
 * (`encodeExpiringEntry`), or `<sep><key><sep><sep><id>` with the terms in the
 * bucket's term sets (`sets`, its hash) under `id` — what `fire` reads.
 */
export const readExpiringEntry = (entry: string, sets: Readonly<Record<string, string>>): { readonly key: string; readonly terms: ReadonlyArray<string> } => {
  const { key, terms } = decodeExpiringEntry(entry)
  if (terms.length !== 2 || terms[0] !== "") return { key, terms }
  const text = sets[terms[1]!]
  return { key, terms: text === undefined ? [] : text.slice(1).split(text.slice(0, 1)) }
}

/** The `complete` script call: acknowledge `ack`, append `messages` (routed from ack's partition), then `claim`. */
export const encodeComplete = (keys: Keys, ack: Delivery, messages: ReadonlyArray<OutboundMessage>, wanted?: Claim): ScriptCall | string => {
  const claim = claimOf(wanted)
  const at = locateDelivery(keys, ack)
  if (typeof at === "string") return at
  const routed = route(keys, at.partition, messages)
  return {
    keys: [
      keys.stream(at.partition, ack.stream, at.lane),
      keys.outbox(at.partition),
      ...routed.localKeys,
      ...(claim === undefined ? [] : [keys.stream(at.partition, claim.stream, claimLane(keys, claim, messages))]),
    ],
    args: [STREAM_GROUP, at.entryId, routed.local, routed.outbox, claim?.count ?? 0, claim?.consumer ?? "", ...routed.localArgs, ...routed.outboxArgs],
  }
}

/** A claim worth sending: one for at least one message (a count below 1 claims nothing). */
const claimOf = (claim: Claim | undefined): Claim | undefined => (claim !== undefined && claim.count >= 1 ? claim : undefined)

/** The lane a claim reads: the one the write's first message to the claimed stream went to (lane 0 if none did). */
export const claimLane = (keys: Keys, claim: Claim, messages: ReadonlyArray<OutboundMessage>): number => {
  const own = messages.find((m) => m.stream.kind === claim.stream.kind && m.stream.taskQueue === claim.stream.taskQueue)
  return own === undefined ? 0 : keys.laneOfMessage(own)
}

/** Parse `[id, key, body, id, ...]`: the entries a claim of `partition`'s lane `lane` returned (new: delivered once). */
export const parseClaimed = (partition: number, lane: number, flat: ReadonlyArray<unknown>): Array<Entry> => {
  const out: Array<Entry> = []
  for (let i = 0; i + 2 < flat.length; i += 3) {
    out.push({ partition, lane, entryId: String(flat[i]), deliveries: 1, key: String(flat[i + 1]), body: String(flat[i + 2]) })
  }
  return out
}

/** One `append` script call per partition the messages route to. */
export const encodeAppend = (keys: Keys, messages: ReadonlyArray<OutboundMessage>): ReadonlyArray<ScriptCall> => {
  const byPartition = new Map<number, { keys: Array<string>; args: Array<string> }>()
  for (const m of messages) {
    const p = keys.partitionOf(m.key)
    let call = byPartition.get(p)
    if (call === undefined) byPartition.set(p, (call = { keys: [], args: [] }))
    call.keys.push(keys.stream(p, m.stream, keys.laneOfMessage(m)))
    call.args.push(m.key, m.body)
  }
  return Array.from(byPartition.values())
}
