/**
 * Reading one logical stream that is split over all partitions, with a
 * consumer group: stalled-message reclaim (XAUTOCLAIM after the visibility
 * timeout), dead-lettering, give-back of over-read messages, and NOGROUP
 * recovery. Used for task-queue streams (`Store.read`) and the outbox (relay).
 *
 * A read is: (1) the `read` script on every partition at once (pipelined on
 * the command connection: one round trip) — each reclaims stalled messages
 * first, then takes new ones, up to a per-partition quota; partitions that
 * filled their quota get a second round with what is left of `count`;
 * (2) only if all that found nothing and `blockMs > 0`, one
 * `XREADGROUP BLOCK` over the partitions' streams on a pooled blocking
 * connection, re-checking for reclaimable messages at least once per
 * visibility timeout. Messages read beyond `count` (quotas round up; a
 * blocking XREADGROUP counts per stream) are given back with their delivery
 * count restored, so they are re-delivered at once and nothing is lost.
 *
 * Lanes (fair sharing, an activity stream with `lanes`): a partition's read
 * is one `readLanes` script over all its lane streams, which shares the
 * partition's quota between the lanes in turn; the blocking XREADGROUP lists
 * every lane stream. A stream without lanes reads exactly as before.
 *
 * Redis Cluster: a multi-key XREADGROUP must stay within one slot, so the
 * blocking step is one blocking read per slot group on the master owning it,
 * all at once (`blockingGather`); the scripts are single-slot already and
 * routed by ioredis' `Cluster` to the master of their slot.
 *
 * Groups are created at id 0 with MKSTREAM (BUSYGROUP is success). Because
 * acknowledged entries are deleted (XDEL inside the acknowledging script), a
 * stream holds exactly its unacknowledged messages, so a group re-created
 * after Redis lost it re-delivers exactly those: at-least-once survives.
 */
import { Effect, Result } from "effect"
import type { Redis } from "ioredis"
import type { StoreError } from "../Store.ts"
import { type BlockingPool, type CommandClient, groupBySlot, isCluster, isTopologyError, type SlotGroup } from "./connection.ts"
import { monotonicNow } from "./realtime.ts"
import { asStoreError, attempt, interpretReply, type RunScript, runOk } from "./scripts.ts"

/** Consumer that released messages are parked on until a read reclaims them. */
export const RELEASED_CONSUMER = "hotmesh:released"

/** One logical stream: a stream key (and dead-letter key) per partition. */
export interface PartitionedStream {
  /** Stream key of each partition, index = partition. */
  readonly streams: ReadonlyArray<string>
  /** Dead-letter stream key of each partition (unused when `maxDeliveries` is 0). */
  readonly dead: ReadonlyArray<string>
  readonly group: string
  /** Dead-letter a message instead of delivering it more often than this; 0 = never. */
  readonly maxDeliveries: number
  /**
   * More than one lane per partition (see `Keys.stream`): each partition's
   * lane streams and their dead letters, `[p][lane]`, lane 0 being
   * `streams[p]` / `dead[p]`. Absent: one lane.
   */
  readonly lanes?: {
    readonly streams: ReadonlyArray<ReadonlyArray<string>>
    readonly dead: ReadonlyArray<ReadonlyArray<string>>
  }
}

/** Every stream key of `stream`: its partitions' (lane 0 first in each), in partition order. */
const allKeys = (stream: PartitionedStream): ReadonlyArray<string> => stream.lanes?.streams.flat() ?? stream.streams

/** The stream key of `partition`'s lane `lane`. */
const laneKey = (stream: PartitionedStream, partition: number, lane: number): string =>
  lane === 0 ? stream.streams[partition]! : stream.lanes!.streams[partition]![lane]!

/** A message handed out by `GroupReader.read`. */
export interface Entry {
  readonly partition: number
  /** Its lane in the partition (0 for a stream without lanes). */
  readonly lane: number
  readonly entryId: string
  readonly deliveries: number
  readonly key: string
  readonly body: string
}

/** Consumer-group reads over partitioned streams. */
export interface GroupReader {
  readonly read: (
    stream: PartitionedStream,
    options: { readonly consumer: string; readonly count: number; readonly blockMs: number },
  ) => Effect.Effect<ReadonlyArray<Entry>, StoreError>
  /** Park `entries` on the released consumer, idle since the epoch; `restore` sets their count back by one. */
  readonly giveBack: (
    stream: PartitionedStream,
    entries: ReadonlyArray<Entry>,
    restore: boolean,
  ) => Effect.Effect<void, StoreError>
  /** Create the group on `key` if missing (BUSYGROUP is success). */
  readonly ensureGroup: (key: string, group: string) => Effect.Effect<void, StoreError>
}

/** Dependencies of a `GroupReader`. */
export interface GroupReaderDeps {
  readonly client: CommandClient
  readonly pool: BlockingPool
  readonly runScript: RunScript
  readonly visibilityTimeoutMs: number
}

/** Parse `[id, n, key, body, id, ...]` from the `read` script. */
const parseEntries = (partition: number, flat: ReadonlyArray<unknown>): Array<Entry> => {
  const out: Array<Entry> = []
  for (let i = 0; i + 3 < flat.length; i += 4) {
    out.push({
      partition,
      lane: 0,
      entryId: String(flat[i]),
      deliveries: Number(flat[i + 1]),
      key: String(flat[i + 2]),
      body: String(flat[i + 3]),
    })
  }
  return out
}

const fieldOf = (fields: ReadonlyArray<unknown>, name: string): string => {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return String(fields[i + 1])
  return ""
}

/** Make a `GroupReader`. */
export const makeGroupReader = (deps: GroupReaderDeps): GroupReader => {
  const { client, pool, runScript, visibilityTimeoutMs } = deps
  const ensured = new Set<string>()
  const cursors = new Map<string, string>()
  let rotation = 0
  /** Where the next `readLanes` of a partition starts, by its lane 0 stream. */
  const laneTurns = new Map<string, number>()

  const ensureGroup = (key: string, group: string): Effect.Effect<void, StoreError> =>
    attempt("ensureGroup", async () => {
      try {
        await client.xgroup("CREATE", key, group, "0", "MKSTREAM")
      } catch (e) {
        if (!(e instanceof Error && e.message.startsWith("BUSYGROUP"))) throw e
      }
      ensured.add(`${group}\u0000${key}`)
    })

  /** Create the group on every partition (and lane) not known to have it (evaluated when run). */
  const ensureAll = (stream: PartitionedStream) =>
    Effect.suspend(() =>
      Effect.forEach(
        allKeys(stream).filter((key) => !ensured.has(`${stream.group}\u0000${key}`)),
        (key) => ensureGroup(key, stream.group),
        { concurrency: "unbounded", discard: true },
      )
    )

  /**
   * The `readLanes` script on partition `p`'s lanes, starting at the lane
   * after the last one the previous read of them took from (the script says
   * which; it creates a lane's missing group itself).
   */
  const readLanes = (stream: PartitionedStream, lanes: ReadonlyArray<string>, p: number, consumer: string, quota: number) => {
    const dead = stream.lanes!.dead[p]!
    return Effect.gen(function*() {
      const reply = yield* runScript("readLanes", lanes.flatMap((key, lane) => [key, dead[lane]!]), [
        stream.group, consumer, quota, visibilityTimeoutMs, stream.maxDeliveries, (laneTurns.get(lanes[0]!) ?? 0) % lanes.length,
        ...lanes.map((key) => cursors.get(key) ?? "0-0"),
      ])
      const rest = yield* interpretReply(reply, { operation: "read", stream: lanes[0]! })
      laneTurns.set(lanes[0]!, Number(rest[1]))
      lanes.forEach((key, lane) => cursors.set(key, String(rest[2 + lane])))
      const out: Array<Entry> = []
      for (let i = 2 + lanes.length; i + 4 < rest.length; i += 5) {
        out.push({
          partition: p,
          lane: Number(rest[i]),
          entryId: String(rest[i + 1]),
          deliveries: Number(rest[i + 2]),
          key: String(rest[i + 3]),
          body: String(rest[i + 4]),
        })
      }
      return out
    }).pipe(Effect.mapError(asStoreError("read")))
  }

  /** The `read` script on partition `p`, re-creating the group once on NOGROUP. */
  const readPartition = (stream: PartitionedStream, p: number, consumer: string, quota: number) => {
    const lanes = stream.lanes?.streams[p]
    if (lanes !== undefined && lanes.length > 1) return readLanes(stream, lanes, p, consumer, quota)
    const key = stream.streams[p]!
    const once = Effect.gen(function*() {
      const reply = yield* runScript("read", [key, stream.dead[p]!], [
        stream.group, consumer, quota, visibilityTimeoutMs, stream.maxDeliveries, cursors.get(key) ?? "0-0",
      ])
      const rest = yield* interpretReply(reply, { operation: "read", stream: key })
      cursors.set(key, String(rest[0]))
      return parseEntries(p, rest.slice(2))
    })
    return once.pipe(
      Effect.catchTag("MissingGroup", () => Effect.andThen(ensureGroup(key, stream.group), once)),
      Effect.mapError(asStoreError("read")),
    )
  }

  /**
   * The `read` script on each of `partitions`. On a cluster a partition whose
   * node is unreachable (or moving) yields nothing this time instead of
   * failing the read: only its own messages wait. The read fails when every
   * partition failed.
   */
  const readEach = (stream: PartitionedStream, partitions: ReadonlyArray<number>, consumer: string, quota: number) =>
    isCluster(client)
      ? Effect.flatMap(
        Effect.forEach(partitions, (p) => Effect.result(readPartition(stream, p, consumer, quota)), { concurrency: "unbounded" }),
        (results) => {
          const failures = results.filter(Result.isFailure)
          for (const f of failures) onTopologyError(f.failure)
          if (failures.length > 0 && failures.length === results.length) return Effect.fail(failures[0]!.failure)
          return Effect.succeed(results.map((r) => (Result.isSuccess(r) ? r.success : [])))
        },
      )
      : Effect.forEach(partitions, (p) => readPartition(stream, p, consumer, quota), { concurrency: "unbounded" })

  /** Non-blocking: quota rounds over partitions, reclaim first. */
  const readRounds = (stream: PartitionedStream, consumer: string, count: number) =>
    Effect.gen(function*() {
      const partitions = stream.streams.length
      const start = rotation++ % partitions
      let active = Array.from({ length: partitions }, (_, i) => (start + i) % partitions)
      const got: Array<Entry> = []
      for (let round = 0; round < 3 && active.length > 0 && got.length < count; round++) {
        const quota = Math.ceil((count - got.length) / active.length)
        const results = yield* readEach(stream, active, consumer, quota)
        const full: Array<number> = []
        results.forEach((entries, i) => {
          got.push(...entries)
          if (entries.length >= quota) full.push(active[i]!)
        })
        active = full
      }
      return got
    })

  /** Entries of an XREADGROUP reply. */
  const parseBlocked = (stream: PartitionedStream, reply: unknown, out: Array<Entry>) => {
    if (!Array.isArray(reply)) return
    for (const [key, entries] of reply as ReadonlyArray<[string, ReadonlyArray<[string, ReadonlyArray<unknown>]>]>) {
      let partition = stream.streams.indexOf(key)
      let lane = 0
      if (partition < 0 && stream.lanes !== undefined) {
        partition = stream.lanes.streams.findIndex((lanes) => (lane = lanes.indexOf(key)) >= 0)
      }
      for (const [entryId, fields] of entries) {
        if (!Array.isArray(fields)) continue
        out.push({ partition, lane, entryId, deliveries: 1, key: fieldOf(fields, "k"), body: fieldOf(fields, "b") })
      }
    }
  }

  const xreadgroup = (c: Redis, stream: PartitionedStream, keys: ReadonlyArray<string>, consumer: string, count: number, blockMs: number) =>
    c.call(
      "XREADGROUP", "GROUP", stream.group, consumer, "COUNT", Math.ceil(count / stream.streams.length), "BLOCK", Math.max(1, Math.round(blockMs)),
      "STREAMS", ...keys, ...keys.map(() => ">"),
    )

  /**
   * One XREADGROUP BLOCK over all partitions (new messages only). COUNT
   * applies to each partition's stream, so each asks for its share of
   * `count`: a burst over-reads by at most one per partition (given back).
   * On a cluster, one XREADGROUP BLOCK per slot group (see `blockingGather`).
   */
  const blockingRead = (stream: PartitionedStream, consumer: string, count: number, blockMs: number) => {
    const all = allKeys(stream)
    const groups = groupBySlot(client, all)
    if (groups.length > 1) return blockingGather(stream, all, groups, consumer, count, blockMs)
    const once = pool.use("read", (c) => xreadgroup(c, stream, all, consumer, count, blockMs), groups[0]?.node)
    return once.pipe(
      Effect.catchIf(
        (e) => e.message.startsWith("NOGROUP"),
        () =>
          Effect.suspend(() => {
            for (const key of all) ensured.delete(`${stream.group}\u0000${key}`)
            return Effect.andThen(ensureAll(stream), once)
          }),
      ),
      Effect.tapError((e) => Effect.sync(() => onTopologyError(e))),
      Effect.map((reply) => {
        const out: Array<Entry> = []
        parseBlocked(stream, reply, out)
        return out
      }),
    )
  }

  /** After MOVED/ASK/CLUSTERDOWN or a lost node: reload the slot map (the next read regroups). */
  const onTopologyError = (e: StoreError) => {
    if (isCluster(client) && isTopologyError(e.cause ?? e)) client.refreshSlotsCache()
  }

  /**
   * Redis Cluster: a multi-key XREADGROUP must stay within one slot, so the
   * blocking step is one XREADGROUP BLOCK per slot group, each on a
   * connection to the master owning that slot now, all at once; the first
   * to return messages wakes the others (CLIENT UNBLOCK), and everything
   * they read is kept. A group whose node is gone or moved fails alone (the
   * slot map is reloaded): the other nodes' partitions keep flowing. Only
   * when every group failed does the read fail.
   */
  const blockingGather = (
    stream: PartitionedStream,
    all: ReadonlyArray<string>,
    groups: ReadonlyArray<SlotGroup>,
    consumer: string,
    count: number,
    blockMs: number,
  ): Effect.Effect<Array<Entry>, StoreError> =>
    Effect.gen(function*() {
      const calls = groups.map((g) => {
        const keys = g.indices.map((i) => all[i]!)
        return { node: g.node, keys, run: (c: Redis) => xreadgroup(c, stream, keys, consumer, count, blockMs) }
      })
      const results = yield* pool.gather("read", calls, (reply) => Array.isArray(reply) && reply.length > 0, null as unknown)
      const out: Array<Entry> = []
      let failure: StoreError | undefined
      let failed = 0
      for (const [i, result] of results.entries()) {
        if (Result.isSuccess(result)) {
          parseBlocked(stream, result.success, out)
          continue
        }
        failed++
        failure ??= result.failure
        onTopologyError(result.failure)
        if (result.failure.message.startsWith("NOGROUP")) {
          for (const key of calls[i]!.keys) ensured.delete(`${stream.group}\u0000${key}`)
        }
      }
      if (failed > 0) yield* ensureAll(stream).pipe(Effect.ignore)
      if (failure !== undefined && failed === results.length) return yield* failure
      return out
    })

  const giveBack: GroupReader["giveBack"] = (stream, entries, restore) => {
    const byStream = new Map<string, Array<string | number>>()
    for (const e of entries) {
      const key = laneKey(stream, e.partition, e.lane)
      let args = byStream.get(key)
      if (args === undefined) byStream.set(key, (args = [stream.group, RELEASED_CONSUMER]))
      args.push(e.entryId, e.deliveries, restore ? e.deliveries - 1 : -1)
    }
    return Effect.forEach(
      byStream,
      ([key, args]) => runOk(runScript, "release", [key], args),
      { concurrency: "unbounded", discard: true },
    )
  }

  /** Keep the first `count`, give the rest back with their delivery count restored. */
  const keep = (stream: PartitionedStream, got: Array<Entry>, count: number) =>
    got.length <= count
      ? Effect.succeed(got)
      : Effect.as(giveBack(stream, got.slice(count), true), got.slice(0, count))

  /**
   * When each stream's last partition scan (reclaim, released, new) came back
   * empty. Until `scanInterval` has passed, reads go straight to the blocking
   * XREADGROUP (new messages): stalled or released messages then wait at most
   * that long, and an idle reader costs one command per read, not one per partition.
   */
  const emptyScanAt = new Map<string, number>()
  const scanInterval = Math.min(1000, visibilityTimeoutMs / 2)

  const read: GroupReader["read"] = (stream, { consumer, count, blockMs }) =>
    Effect.gen(function*() {
      if (count <= 0) return []
      yield* ensureAll(stream)
      const deadline = monotonicNow() + Math.max(0, blockMs)
      const name = stream.streams[0] ?? ""
      for (;;) {
        const lastEmpty = emptyScanAt.get(name)
        if (lastEmpty === undefined || monotonicNow() - lastEmpty >= scanInterval || blockMs === 0) {
          const got = yield* readRounds(stream, consumer, count)
          if (got.length > 0) {
            emptyScanAt.delete(name)
            return yield* keep(stream, got, count)
          }
          emptyScanAt.set(name, monotonicNow())
        }
        const now = monotonicNow()
        if (now >= deadline) return []
        const blocked = yield* blockingRead(stream, consumer, count, Math.min(deadline - now, scanInterval))
        // COUNT applies per partition stream, so a burst can over-read; what is given back is
        // found only by a scan: the next read must scan at once rather than after `scanInterval`.
        if (blocked.length > count) emptyScanAt.delete(name)
        if (blocked.length > 0) return yield* keep(stream, blocked, count)
        if (monotonicNow() >= deadline) return []
      }
    })

  return { read, giveBack, ensureGroup }
}
