/**
 * The Redis backend of the `Store` service (ioredis 5, Redis >= 6.2), ready
 * for Redis Cluster: every script touches one partition's hash tag only (see
 * keys.ts for the layout, lua.ts for the scripts, relay.ts for messages that
 * cross partitions).
 *
 * Round trips per operation: `commit`, `complete`, `touch`, `load`,
 * `loadJournal`, `now`, `append`, `release`, `nextTimerAt`, `deadLetter`, `deadLetters`,
 * `retryDeadLetter`, `purgeDeadLetters`: 1 (per-partition calls are issued
 * together and pipelined by ioredis). `describeStream`, `dueTimers`: 2
 * (`TIME`, then the partitions' `XLEN`/`XPENDING`/`XINFO CONSUMERS`, or `ZCOUNT`s).
 * `read`: 1 when something is there (a second round only when a partition
 * filled its quota), plus one blocking XREADGROUP when nothing is.
 * `fireDueTimers`: 1 (a second only when a partition had more due timers
 * than its share of the limit). `takeReply`: 1 (LPOP x P, or one BLPOP over P keys). `awaitUpdate`: 1 (HGET) plus the wait.
 *
 * Delivery semantics: messages are at-least-once (a script re-sent after a
 * reconnect, a relay crash between deliver and ack). The workflow layer
 * ignores duplicate events; activities receive an idempotency key.
 */
import { Effect, Layer, Option, Result, type Scope } from "effect"
import type { CommandClient } from "./connection.ts"
import { hostname } from "node:os"
import type { Claim, Commit, DeadLetter, Delivery, IndexHit, OutboundMessage, ReadOptions, StoreShape, StreamAddress, StreamDescription } from "../Store.ts"
import { attachEncodedValue, compareIndexHits, encodedValue, Store, StoreError } from "../Store.ts"
import { acquireBlockingPool, acquireClient, checkServer, forEachMaster, groupBySlot, type RedisInput } from "./connection.ts"
import { type Durability, durabilityProblem, withDurability } from "./durability.ts"
import { claimLane, encodeAppend, encodeCommit, encodeComplete, locateDelivery, parseClaimed } from "./encode.ts"
import { loadFunctionsAtStart } from "./functions.ts"
import { type Entry, makeGroupReader, type PartitionedStream, RELEASED_CONSUMER } from "./groupReader.ts"
import { MAX_LANES } from "../../core/lanes.ts"
import { configKeyOf, deliveryId, isValidNamespace, type Keys, makeKeys, parseDeliveryId, STREAM_GROUP } from "./keys.ts"
import { makeRedisLimits } from "./limits.ts"
import { acquireNotifier } from "./notifier.ts"
import { runRelay } from "./relay.ts"
import {
  asStoreError,
  attempt,
  interpretReply,
  makeRunScript,
  registerScripts,
  runOk,
  type ScriptObserver,
} from "./scripts.ts"
import { makeTimers } from "./timers.ts"

/** Options of `layerRedis`. */
export interface RedisStoreOptions {
  /** A URL, ioredis options (host, port, username, password, tls, db, ...), or an existing client (never closed by the store). */
  readonly redis: RedisInput
  /** Isolates tenants sharing one Redis. Default `"hotmesh"`. No `{`, `}`, `:` or whitespace. */
  readonly namespace?: string
  /** Partitions of the namespace; fixed for its lifetime (checked at startup). Default 8. */
  readonly partitions?: number
  /**
   * Lanes of every activity stream (1..64), for fair sharing between
   * workflow types (`StoreShape.lanes`); fixed for the namespace's lifetime
   * like the partition count, and recorded in `{ns}:config`. Omitted: what
   * the namespace records, or 1 for a new one. A namespace recorded before
   * lanes existed has 1. Given and different from the recorded count: the
   * store fails to start. With 1 lane the layout and every read are as before lanes.
   */
  readonly lanes?: number
  /** A delivered message not acknowledged for this long is re-delivered. Default 30 000 ms. */
  readonly visibilityTimeoutMs?: number
  /** A message is dead-lettered instead of being delivered more often than this. Default 10. */
  readonly maxDeliveries?: number
  /** Query replies not taken within this long expire. Default 300 000 ms. */
  readonly replyTtlMs?: number
  /** How long connecting may take before it fails naming the endpoint. Default 5 000 ms. */
  readonly connectTimeoutMs?: number
  /** A command with no reply for this long fails (and is retried by its caller). Default 10 000 ms; blocking reads are exempt. */
  readonly commandTimeoutMs?: number
  /**
   * Connect to a Redis whose `maxmemory-policy` evicts keys. Refused by
   * default: eviction deletes workflows without an error. Default false.
   */
  readonly allowEviction?: boolean
  /**
   * Opt-in synchronous replication: after each commit (and every other write
   * a caller relies on) wait until `replicas` replicas of the partition's
   * master have it (`WAIT replicas timeoutMs`); fewer within `timeoutMs` fail
   * the operation with a `StoreError` its caller retries. Default: off
   * (asynchronous replication: a failover may lose the last acknowledged
   * writes). See durability.ts.
   */
  readonly durability?: Durability
  /** Diagnostics: called with the name and KEYS of every script invocation. */
  readonly onScript?: ScriptObserver
}

const configError = (message: string) => new StoreError({ operation: "configure", message })

/**
 * A new namespace records its partition count, key layout and lane count
 * atomically; an existing one is checked against them. A namespace recorded
 * before layouts existed (no `layout` field) keeps the legacy one; one
 * recorded before lanes existed (no `lanes` field) has one lane.
 */
const CONFIGURE = `
if redis.call('HEXISTS', KEYS[1], 'partitions') == 0 then
  redis.call('HSET', KEYS[1], 'partitions', ARGV[1], 'layout', ARGV[2], 'tags', ARGV[3], 'lanes', ARGV[4])
end
return redis.call('HMGET', KEYS[1], 'partitions', 'layout', 'lanes')`

/** The partitions' hash tags, space-separated, as the config's `tags` field holds them (docs/protocol.md). */
const tagsOf = (keys: Keys): string => Array.from({ length: keys.partitions }, (_, p) => keys.tag(p)).join(" ")

/**
 * Record or check the namespace's partition count; its key layout. A new
 * namespace records its partitions' hash tags (`tags`) with them, so a
 * worker in another language reads its stream keys instead of computing
 * them; a namespace recorded before `tags` existed gets them now.
 */
const configure = (client: CommandClient, namespace: string, partitions: number, lanes: number | undefined): Effect.Effect<Keys, StoreError> =>
  Effect.flatMap(
    attempt("configure", async () => (await client.eval(CONFIGURE, 1, configKeyOf(namespace), partitions, "spread", tagsOf(makeKeys(namespace, partitions, "spread")), lanes ?? 1)) as [string | null, string | null, string | null]),
    ([recorded, layout, recordedLanes]) => {
      if (Number(recorded) !== partitions) {
        return Effect.fail(configError(
          `namespace "${namespace}" has ${recorded} partitions; this store is configured with ${partitions} ` +
            "(the count is fixed for a namespace's lifetime: see README, Running on Redis Cluster, to change it)",
        ))
      }
      const hasLanes = recordedLanes === null || recordedLanes === undefined ? 1 : Number(recordedLanes)
      if (lanes !== undefined && lanes !== hasLanes) {
        return Effect.fail(configError(
          `namespace "${namespace}" has ${hasLanes} lane${hasLanes === 1 ? "" : "s"} per activity stream; this store is configured with ${lanes} ` +
            "(the count is fixed for a namespace's lifetime, like the partition count)",
        ))
      }
      const keys = makeKeys(namespace, partitions, layout === "spread" ? "spread" : "legacy", hasLanes)
      return Effect.as(attempt("configure", () => client.hsetnx(configKeyOf(namespace), "tags", tagsOf(keys))), keys)
    },
  )

/** Build a Redis store; its connections and relay live as long as the scope. */
export const makeRedisStore = (options: RedisStoreOptions): Effect.Effect<StoreShape, StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const namespace = options.namespace ?? "hotmesh"
    const partitions = options.partitions ?? 8
    const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000
    const maxDeliveries = options.maxDeliveries ?? 10
    const replyTtlMs = options.replyTtlMs ?? 300_000
    if (!isValidNamespace(namespace)) return yield* configError(`invalid namespace "${namespace}"`)
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
      return yield* configError(`partitions must be an integer in 1..4096, got ${partitions}`)
    }
    if (options.lanes !== undefined && (!Number.isInteger(options.lanes) || options.lanes < 1 || options.lanes > MAX_LANES)) {
      return yield* configError(`lanes must be an integer in 1..${MAX_LANES}, got ${options.lanes}`)
    }
    if (!(visibilityTimeoutMs > 0)) return yield* configError("visibilityTimeoutMs must be > 0")
    if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) return yield* configError("maxDeliveries must be >= 1")
    const durabilityIssue = options.durability === undefined ? undefined : durabilityProblem(options.durability)
    if (durabilityIssue !== undefined) return yield* configError(durabilityIssue)

    const client = yield* acquireClient(options.redis, options.commandTimeoutMs ?? 10_000)
    registerScripts(client)
    yield* checkServer(client, options.connectTimeoutMs ?? 5_000, options.allowEviction === true)
    const keys = yield* configure(client, namespace, partitions, options.lanes)
    // The activity protocol's function library (docs/protocol.md), for workers in other languages: on every master.
    yield* Effect.tryPromise(() => forEachMaster(client, async (node) => node)).pipe(
      Effect.flatMap((masters) => Effect.forEach(masters, loadFunctionsAtStart, { discard: true })),
      Effect.catch((error) => Effect.logWarning(`hotmesh redis: could not reach the masters to load the hotmesh function library: ${String(error)}`)),
    )
    const pool = yield* acquireBlockingPool(client)
    const notifier = yield* acquireNotifier(client, keys.channel)
    const runScript = options.durability === undefined
      ? makeRunScript(client, options.onScript)
      : withDurability(client, makeRunScript(client, options.onScript), options.durability)
    const reader = makeGroupReader({ client, pool, runScript, visibilityTimeoutMs })
    const timers = makeTimers(client, keys, runScript)
    const all = Array.from({ length: partitions }, (_, p) => p)

    /** The lanes of a stream (0 only on a workflow stream), and every (partition, lane) of it, partition by partition. */
    const lanesOf = (address: StreamAddress) => Array.from({ length: keys.lanesOf(address) }, (_, lane) => lane)
    const everyLane = (address: StreamAddress) => all.flatMap((p) => lanesOf(address).map((lane) => ({ p, lane })))
    const taskStream = (address: StreamAddress): PartitionedStream => {
      const stream = {
        streams: all.map((p) => keys.stream(p, address)),
        dead: all.map((p) => keys.dead(p, address)),
        group: STREAM_GROUP,
        maxDeliveries,
      }
      if (keys.lanesOf(address) === 1) return stream
      return {
        ...stream,
        lanes: {
          streams: all.map((p) => lanesOf(address).map((lane) => keys.stream(p, address, lane))),
          dead: all.map((p) => lanesOf(address).map((lane) => keys.dead(p, address, lane))),
        },
      }
    }
    const toDelivery = (address: StreamAddress, e: Entry): Delivery => ({
      id: deliveryId(e.partition, e.entryId, e.lane),
      stream: address,
      key: e.key,
      body: e.body,
      deliveries: e.deliveries,
      // A stream entry id starts with the ms (Redis clock) it was appended at.
      appendedAt: Number.parseInt(e.entryId, 10),
    })
    const toEntry = (d: Delivery): Entry | undefined => {
      const at = locateDelivery(keys, d)
      return typeof at === "string"
        ? undefined
        : { partition: at.partition, lane: at.lane, entryId: at.entryId, deliveries: d.deliveries, key: d.key, body: d.body }
    }
    const invalid = (operation: string, message: string) => Effect.fail(new StoreError({ operation, message }))

    /**
     * Claimed deliveries of messages this very write appended carry the
     * writer's value, as the embedded store's do (`EncodedValue`): the text
     * is the one just sent, so decoding it would give that value back.
     */
    const carrying = (claimed: ReadonlyArray<Delivery>, sent: ReadonlyArray<OutboundMessage> | undefined): ReadonlyArray<Delivery> => {
      if (sent === undefined || sent.length === 0) return claimed
      return claimed.map((d) => {
        const own = sent.find((m) => m[encodedValue] !== undefined && m.key === d.key && m.stream.kind === d.stream.kind && m.stream.taskQueue === d.stream.taskQueue && m.body === d.body)
        return own === undefined ? d : attachEncodedValue(d, own[encodedValue]!)
      })
    }

    /** What a read (or a claim) got, as deliveries: an entry in the wrong partition is dead-lettered instead. */
    const admit = Effect.fnUntraced(function*(address: StreamAddress, entries: ReadonlyArray<Entry>) {
      const deliveries: Array<Delivery> = []
      for (const e of entries) {
        const owner = e.key === "" ? undefined : keys.partitionOf(e.key)
        if (owner === e.partition) {
          deliveries.push(toDelivery(address, e))
          continue
        }
        // Written by hand into the wrong partition, or with no key: no step could ever commit it
        // (its ack and its workflow's record are in different slots). Park it at once, with why.
        const reason = owner === undefined
          ? "misrouted: the stream entry has no routing key (field k)"
          : `misrouted: key ${JSON.stringify(e.key)} belongs to partition ${owner}, found in partition ${e.partition}`
        yield* Effect.logWarning(`hotmesh redis: ${address.kind} stream of task queue ${address.taskQueue}: entry ${e.entryId} ${reason}; dead-lettered`)
        yield* runOk(runScript, "dead", [keys.stream(e.partition, address, e.lane), keys.dead(e.partition, address, e.lane)], [STREAM_GROUP, e.entryId, reason])
      }
      return deliveries
    })

    const instance = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`
    yield* Effect.forkScoped(runRelay({ keys, reader, runScript, consumer: `relay:${instance}` }))

    const store: StoreShape = {
      name: "redis",
      visibilityTimeoutMs,
      lanes: keys.lanes,

      now: Effect.map(
        attempt("now", () => client.time()),
        ([seconds, micros]) => Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
      ),

      load: Effect.fnUntraced(function*(key: string) {
        const [version, state, token] = yield* attempt("load", () => client.hmget(keys.exec(key), "version", "state", "token"))
        return version === null || version === undefined
          ? Option.none()
          : Option.some({ key, version: Number(version), token: token ?? "", state: state ?? "" })
      }),

      loadJournal: (key, journalId) => attempt("loadJournal", () => client.lrange(keys.journal(key, journalId), 0, -1)),

      commit: Effect.fnUntraced(function*(c: Commit) {
        const call = encodeCommit(keys, c, { replyTtlMs })
        if (typeof call === "string") return yield* invalid("commit", call)
        // A write that creates the record (a client's start): its result waiter needs no version read (notifier.ts).
        const mark = c.expectedVersion === 0 ? notifier.mark() : undefined
        const reply = yield* runScript("commit", call.keys, call.args)
        const rest = yield* interpretReply(reply, { operation: "commit", commit: { key: c.key, expectedVersion: c.expectedVersion } })
          .pipe(Effect.catchTag("MissingGroup", (e) => Effect.fail(asStoreError("commit")(e))))
        if (mark !== undefined) notifier.wrote(c.key, Number(rest[0]), mark)
        // After the version: what the claim claimed, from the commit's partition.
        if (c.claim === undefined || rest.length < 2) return []
        const lane = claimLane(keys, c.claim, c.messages ?? [])
        return carrying(yield* admit(c.claim.stream, parseClaimed(keys.partitionOf(c.key), lane, rest.slice(1))), c.messages)
      }),

      append: (messages) =>
        Effect.forEach(encodeAppend(keys, messages), (call) => runOk(runScript, "append", call.keys, call.args), {
          concurrency: "unbounded",
          discard: true,
        }),

      read: Effect.fnUntraced(function*(address: StreamAddress, options: ReadOptions) {
        return yield* admit(address, yield* reader.read(taskStream(address), options))
      }),

      // Completing a message that is no longer pending is a no-op (see the memory store).
      complete: Effect.fnUntraced(function*(ack: Delivery, messages: ReadonlyArray<OutboundMessage>, claim?: Claim) {
        const call = encodeComplete(keys, ack, messages, claim)
        if (typeof call === "string") return yield* invalid("complete", call)
        const reply = yield* runScript("complete", call.keys, call.args)
        const rest = yield* interpretReply(reply, { operation: "complete" }).pipe(
          Effect.catchTag("CommitConflict", () => Effect.succeed([])),
          Effect.mapError(asStoreError("complete")),
        )
        const at = locateDelivery(keys, ack)
        if (claim === undefined || rest.length === 0 || typeof at === "string") return []
        return carrying(yield* admit(claim.stream, parseClaimed(at.partition, claimLane(keys, claim, messages), rest)), messages)
      }),

      release: (deliveries, options) =>
        Effect.gen(function*() {
          const byStream = new Map<string, { address: StreamAddress; entries: Array<Entry> }>()
          for (const d of deliveries) {
            const entry = toEntry(d)
            if (entry === undefined) continue
            const name = `${d.stream.kind}:${d.stream.taskQueue}`
            let group = byStream.get(name)
            if (group === undefined) byStream.set(name, (group = { address: d.stream, entries: [] }))
            group.entries.push(entry)
          }
          yield* Effect.forEach(
            byStream.values(),
            ({ address, entries }) => reader.giveBack(taskStream(address), entries, options?.uncounted === true),
            { concurrency: "unbounded", discard: true },
          )
        }),

      touch: (d) => {
        const entry = toEntry(d)
        if (entry === undefined) return Effect.void
        return Effect.asVoid(
          runOk(runScript, "touch", [keys.stream(entry.partition, d.stream, entry.lane)], [STREAM_GROUP, entry.entryId, d.deliveries, RELEASED_CONSUMER]),
        )
      },

      deadLetter: (d, reason) => {
        const entry = toEntry(d)
        if (entry === undefined) return Effect.succeed(false)
        return Effect.map(
          runOk(runScript, "dead", [keys.stream(entry.partition, d.stream, entry.lane), keys.dead(entry.partition, d.stream, entry.lane)], [STREAM_GROUP, entry.entryId, reason]),
          (reply) => reply[0] === 1,
        )
      },

      retryDeadLetter: (address, id) => {
        const at = parseDeliveryId(id)
        if (at === undefined || at.partition >= partitions || at.lane >= keys.lanesOf(address)) return Effect.succeed(false)
        return Effect.map(
          runOk(runScript, "redeliver", [keys.dead(at.partition, address, at.lane), keys.stream(at.partition, address, at.lane)], [at.entryId]),
          (reply) => reply[0] === 1,
        )
      },

      purgeDeadLetters: (address, ids) => {
        if (ids === undefined) {
          return Effect.map(
            Effect.forEach(everyLane(address), ({ p, lane }) =>
              Effect.map(attempt("purgeDeadLetters", () => client.multi().xlen(keys.dead(p, address, lane)).del(keys.dead(p, address, lane)).exec()), (replies) =>
                Number(replies?.[0]?.[1] ?? 0)), { concurrency: "unbounded" }),
            (counts) => counts.reduce((a, b) => a + b, 0),
          )
        }
        const byLane = new Map<string, Array<string>>()
        for (const id of ids) {
          const at = parseDeliveryId(id)
          if (at === undefined || at.partition >= partitions || at.lane >= keys.lanesOf(address)) continue
          const dead = keys.dead(at.partition, address, at.lane)
          const list = byLane.get(dead)
          if (list === undefined) byLane.set(dead, [at.entryId])
          else list.push(at.entryId)
        }
        return Effect.map(
          Effect.forEach(byLane, ([dead, entryIds]) => attempt("purgeDeadLetters", () => client.xdel(dead, ...entryIds)), {
            concurrency: "unbounded",
          }),
          (counts) => counts.reduce((a, b) => a + Number(b), 0),
        )
      },

      deadLetters: (address) =>
        Effect.map(
          Effect.forEach(
            everyLane(address),
            ({ p, lane }) =>
              Effect.map(attempt("deadLetters", () => client.xrange(keys.dead(p, address, lane), "-", "+")), (entries) =>
                entries.map(([deadId, fields]) => {
                  const f = new Map<string, string>()
                  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!)
                  const letter: DeadLetter = {
                    id: deliveryId(p, deadId, lane),
                    delivery: {
                      id: deliveryId(p, f.get("id") ?? "", lane),
                      stream: address,
                      key: f.get("k") ?? "",
                      body: f.get("b") ?? "",
                      deliveries: Number(f.get("n") ?? 0),
                      ...(f.get("id") ? { appendedAt: Number.parseInt(f.get("id")!, 10) } : {}),
                    },
                    reason: f.get("r") ?? "",
                    at: Number(f.get("at") ?? 0),
                    ...(f.get("e") ? { raw: f.get("e")! } : {}),
                  }
                  return { deadId, letter }
                })),
            { concurrency: "unbounded" },
          ),
          (perPartition) =>
            perPartition.flat().sort((a, b) => a.letter.at - b.letter.at || (a.deadId < b.deadId ? -1 : 1))
              .map((x) => x.letter),
        ),

      ...makeRedisLimits(keys, runScript),

      fireDueTimers: timers.fireDueTimers,
      nextTimerAt: timers.nextTimerAt,
      dueTimers: Effect.suspend(() => Effect.flatMap(store.now, timers.dueBy)),

      describeStream: (address) =>
        Effect.gen(function*() {
          const now = yield* store.now
          const perPartition = yield* Effect.forEach(everyLane(address), ({ p, lane }) => describePartition(client, keys.stream(p, address, lane), keys.dead(p, address, lane)), { concurrency: "unbounded" })
          return sumPartitions(perPartition, now)
        }),

      // Replies live in the partition of the commit that wrote them, which the
      // caller does not name: look in every partition (one BLPOP over all of
      // them on standalone Redis; per-slot BLPOPs, raced, on a cluster).
      takeReply: (id, timeoutMs) => {
        const replyKeys = all.map((p) => keys.reply(p, id))
        if (timeoutMs <= 0) {
          return Effect.map(
            Effect.forEach(replyKeys, (key) => attempt("takeReply", () => client.lpop(key)), {
              concurrency: "unbounded",
            }),
            (values) => Option.fromNullishOr(values.find((v) => v !== null && v !== undefined)),
          )
        }
        const seconds = Math.max(0.001, timeoutMs / 1000)
        const groups = groupBySlot(client, replyKeys)
        if (groups.length === 1) {
          return Effect.map(
            pool.use("takeReply", (c) => c.blpop(...replyKeys, seconds), groups[0]?.node),
            (reply) => (reply === null ? Option.none() : Option.some(reply[1])),
          )
        }
        // Cluster: one BLPOP per slot group at once; the one that pops wakes the others.
        return Effect.flatMap(
          pool.gather("takeReply", groups.map((g) => ({ node: g.node, run: (c) => c.blpop(...g.indices.map((i) => replyKeys[i]!), seconds) })), (reply) => reply !== null, null),
          (results) => {
            for (const r of results) if (Result.isSuccess(r) && r.success !== null) return Effect.succeed(Option.some(r.success[1]))
            const failure = results.find(Result.isFailure)
            return failure !== undefined && results.every(Result.isFailure) ? Effect.fail(failure.failure) : Effect.succeed(Option.none())
          },
        )
      },

      indexPartitions: keys.partitions,

      scanIndex: (p, term, { direction, after, limit }) =>
        Effect.gen(function*() {
          // ZRANGE BYSCORE from `after`'s score; hits tied with it at or before its key are skipped
          // here (Redis orders ties by member bytes, as `compareIndexHits` does).
          const key = keys.indexTerm(p, term)
          const asc = direction === "ASC"
          const from = after === undefined ? (asc ? "-inf" : "+inf") : String(after.score)
          const to = asc ? "+inf" : "-inf"
          const hits: Array<IndexHit> = []
          const batch = limit + 16
          for (let offset = 0; hits.length < limit; offset += batch) {
            const flat = yield* attempt("scanIndex", () =>
              asc
                ? client.zrange(key, from, to, "BYSCORE", "LIMIT", offset, batch, "WITHSCORES")
                : client.zrange(key, from, to, "BYSCORE", "REV", "LIMIT", offset, batch, "WITHSCORES"))
            for (let i = 0; i + 1 < flat.length && hits.length < limit; i += 2) {
              const hit = { key: flat[i] as string, score: Number(flat[i + 1]) }
              if (after !== undefined && hit.score === after.score && (asc ? compareIndexHits(hit, after) <= 0 : compareIndexHits(hit, after) >= 0)) continue
              hits.push(hit)
            }
            if (flat.length < batch * 2) break
          }
          return hits
        }),

      countIndex: (p, terms) =>
        Effect.forEach(terms, (term) => attempt("countIndex", () => client.zcard(keys.indexTerm(p, term))), { concurrency: "unbounded" }),

      readSettings: (prefix) =>
        Effect.map(attempt("readSettings", () => client.hgetall(keys.config)), (all) =>
          Object.entries(all).filter(([name]) => name.startsWith(`s:${prefix}`)).map(([name, value]) => [name.slice(2), value] as const)),

      defineSetting: (name, value) =>
        Effect.map(
          attempt("defineSetting", () => client.multi().hsetnx(keys.config, `s:${name}`, value).hget(keys.config, `s:${name}`).exec()),
          (replies) => String(replies?.[1]?.[1] ?? value),
        ),

      awaitUpdate: (key, afterVersion, timeoutMs) =>
        notifier.wait(
          key,
          afterVersion,
          // The version of the record's last notifying commit: a step that notifies no one wakes no one.
          Effect.map(attempt("awaitUpdate", () => client.hget(keys.exec(key), "nv")), (v) => Number(v ?? 0)),
          timeoutMs,
        ),
    }
    return store
  })

/**
 * A `Store` layer on Redis. Acquires a command connection (unless an ioredis
 * client is passed in), a subscriber connection and a pool of blocking
 * connections, and runs the outbox relay; all are released with the layer.
 */
export const layerRedis = (options: RedisStoreOptions): Layer.Layer<Store, StoreError> =>
  Layer.effect(Store, makeRedisStore(options))

/** One partition of a stream, as `describeStream` reads it (one pipelined round trip). */
interface PartitionDescription {
  readonly length: number
  readonly pending: number
  /** The lowest pending entry id's time (epoch ms by the server's clock), if any is pending. */
  readonly oldestPendingAt?: number
  readonly consumers: ReadonlyArray<{ readonly name: string; readonly pending: number; readonly idleMs: number }>
  readonly deadLetters: number
}

/**
 * XLEN, the XPENDING summary and XINFO CONSUMERS of a partition's stream,
 * and XLEN of its dead letters. A stream never read has no group yet
 * (NOGROUP): nothing pending, no consumers.
 */
const describePartition = (client: CommandClient, stream: string, dead: string): Effect.Effect<PartitionDescription, StoreError> =>
  Effect.map(
    attempt("describeStream", () => client.pipeline().xlen(stream).xpending(stream, STREAM_GROUP).xinfo("CONSUMERS", stream, STREAM_GROUP).xlen(dead).exec()),
    (replies): PartitionDescription => {
      const ok = (i: number): unknown => (replies?.[i]?.[0] == null ? replies?.[i]?.[1] : undefined)
      const summary = ok(1) as [number, string | null, string | null, unknown] | undefined
      const consumers = ((ok(2) ?? []) as Array<Array<string | number>>).map((flat) => {
        const f = new Map<string, string | number>()
        for (let i = 0; i + 1 < flat.length; i += 2) f.set(String(flat[i]), flat[i + 1]!)
        return { name: String(f.get("name") ?? ""), pending: Number(f.get("pending") ?? 0), idleMs: Number(f.get("idle") ?? 0) }
      })
      const lowest = summary?.[1]
      return {
        length: Number(ok(0) ?? 0),
        pending: Number(summary?.[0] ?? 0),
        ...(typeof lowest === "string" ? { oldestPendingAt: Number(lowest.split("-")[0]) } : {}),
        // Released messages wait on a placeholder consumer for re-delivery: pending, but held by nobody.
        consumers: consumers.filter((c) => c.name !== RELEASED_CONSUMER),
        deadLetters: Number(ok(3) ?? 0),
      }
    },
  )

/** A stream's partitions summed: a consumer named on several partitions is one consumer. */
const sumPartitions = (partitions: ReadonlyArray<PartitionDescription>, now: number): StreamDescription => {
  const consumers = new Map<string, { name: string; pending: number; idleMs: number }>()
  let oldest = Infinity
  for (const p of partitions) {
    if (p.oldestPendingAt !== undefined) oldest = Math.min(oldest, p.oldestPendingAt)
    for (const c of p.consumers) {
      const seen = consumers.get(c.name)
      if (seen === undefined) consumers.set(c.name, { ...c })
      else consumers.set(c.name, { name: c.name, pending: seen.pending + c.pending, idleMs: Math.min(seen.idleMs, c.idleMs) })
    }
  }
  return {
    length: partitions.reduce((n, p) => n + p.length, 0),
    pending: partitions.reduce((n, p) => n + p.pending, 0),
    ...(oldest === Infinity ? {} : { oldestPendingMs: Math.max(0, now - oldest) }),
    consumers: [...consumers.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    deadLetters: partitions.reduce((n, p) => n + p.deadLetters, 0),
  }
}
