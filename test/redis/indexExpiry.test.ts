/**
 * The visibility index's retention bookkeeping on Redis: a closing commit
 * files its record in an expiry bucket (`{ns:pN}:ib`, `{ns:pN}:ib:<end>`),
 * and `fire` sweeps the buckets — and still sweeps what the previous format
 * wrote (`{ns:pN}:ie` hash of full zset names, `{ns:pN}:iq` zset), and the
 * `all` / `type:<T>` entries the previous version listed executions under.
 */
import { createHash } from "node:crypto"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { initialState, type ExecutionState } from "../../src/core/state.ts"
import { indexDelta, indexEntries, retiredTerms } from "../../src/core/visibility.ts"
import type { Commit, StoreShape } from "../../src/stores/Store.ts"
import { decodeExpiringEntry, encodeExpiringEntry, readExpiringEntry } from "../../src/stores/redis/encode.ts"
import { INDEX_EXPIRY_BUCKET_MS, indexExpiryBucketEnd, type Keys, makeKeys } from "../../src/stores/redis/keys.ts"
import { makeRedisStore } from "../../src/stores/redis/layer.ts"
import { useRedis } from "../support/redisServer.ts"

const redis = await useRedis()
const admin = new Redis(redis.url)
afterAll(() => admin.quit())

let nsCounter = 0
const withStore = <A, E>(f: (store: StoreShape, keys: Keys) => Effect.Effect<A, E>) => {
  const namespace = `ix${++nsCounter}-${process.pid}`
  return Effect.scoped(Effect.flatMap(makeRedisStore({ redis: redis.url, namespace }), (store) => f(store, makeKeys(namespace, 8))))
}
const call = <A>(f: () => Promise<A>) => Effect.promise(f)
/** Every index zset of partition `p` that lists `key`. */
const termsListing = (keys: Keys, p: number, key: string) =>
  call(async () => {
    const prefix = keys.indexTerm(p, "")
    const zsets = await admin.keys(`${prefix}*`)
    const listing: Array<string> = []
    for (const zset of zsets) if ((await admin.type(zset)) === "zset" && (await admin.zscore(zset, key)) !== null) listing.push(zset.slice(prefix.length))
    return listing.sort()
  })

const state = (workflowId: string, now: number): ExecutionState =>
  initialState({ workflowId, runId: "r1", workflowType: "order", taskQueue: "q", args: [] }, now)
const closedOf = (s: ExecutionState, now: number): ExecutionState => ({ ...s, status: "COMPLETED", closeTime: now })
/** Start `key` (index entries of a running `s`), then close it with retention until `at`. */
const startAndClose = (store: StoreShape, key: string, now: number, at: number) =>
  Effect.gen(function*() {
    const running = state(key, now)
    yield* store.commit({ key, expectedVersion: 0, state: "running", token: "t1", index: indexDelta(undefined, running) })
    const close: Commit = {
      key, expectedVersion: 1, expectedToken: "t1", state: "closed", token: "t2",
      journal: { id: "r1", from: 0, entries: ["a"] }, expire: { at, record: true }, index: indexDelta(running, closedOf(running, now)),
    }
    yield* store.commit(close)
  })

describe("index expiry buckets", () => {
  it("an entry names the key and its terms with a separator found in neither", () => {
    expect(encodeExpiringEntry("o-1", ["status:COMPLETED", "closed"])).toBe(" o-1 status:COMPLETED closed")
    const spaced = encodeExpiringEntry("order 1", ["a b", "c"])!
    expect(spaced.startsWith(" ")).toBe(false)
    expect(decodeExpiringEntry(spaced)).toEqual({ key: "order 1", terms: ["a b", "c"] })
    expect(decodeExpiringEntry(encodeExpiringEntry("k", [])!)).toEqual({ key: "k", terms: [] })
    // An empty term never comes first (that is the shared-terms form, read from the bucket's hash).
    expect(decodeExpiringEntry(encodeExpiringEntry("k", ["", "a", "a"])!)).toEqual({ key: "k", terms: ["a", ""] })
    expect(readExpiringEntry(" k  abc123", { abc123: "|a|b" })).toEqual({ key: "k", terms: ["a", "b"] })
    const everyAscii = Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)).join("")
    expect(encodeExpiringEntry(everyAscii, [])).toBeUndefined()
  })

  it.live("a closing commit files its record in the bucket of its expiry, with the terms it is listed under (no ie/iq entry)", () =>
    withStore((store, keys) =>
      Effect.gen(function*() {
        const now = yield* store.now
        const key = "closed-1"
        const p = keys.partitionOf(key)
        const at = now + 3_600_000
        yield* startAndClose(store, key, now, at)
        const end = indexExpiryBucketEnd(at)
        expect(end - at).toBeGreaterThan(0)
        expect(end - at).toBeLessThanOrEqual(INDEX_EXPIRY_BUCKET_MS)
        // The bucket is due at the record's expiry; its list holds the key and its terms.
        expect(yield* call(() => admin.zrange(keys.indexExpiryBuckets(p), 0, -1, "WITHSCORES"))).toEqual([String(end), String(at)])
        const entries = yield* call(() => admin.lrange(keys.indexExpiryBucket(p, end), 0, -1))
        const closedTerms = indexEntries(closedOf(state(key, now), now)).map((e) => e.term)
        expect(entries.map(decodeExpiringEntry)).toEqual([{ key, terms: expect.arrayContaining(closedTerms) }])
        expect(decodeExpiringEntry(entries[0]!).terms).toHaveLength(closedTerms.length)
        // It is listed under exactly those terms: no `all`, no `type:<T>` (nor old-format bookkeeping).
        expect(yield* termsListing(keys, p, key)).toEqual([...closedTerms].sort())
        expect(yield* call(() => admin.exists(keys.indexExpiring(p), keys.indexExpiryQueue(p)))).toBe(0)
        // Not due yet: a sweep leaves it alone.
        yield* store.fireDueTimers(10)
        expect(yield* termsListing(keys, p, key)).toEqual([...closedTerms].sort())
        expect(yield* call(() => admin.llen(keys.indexExpiryBucket(p, end)))).toBe(1)
      })))

  it.live("records of one bucket share their terms: written once in the bucket's hash (unless its id holds others), swept with it", () =>
    withStore((store, keys) =>
      Effect.gen(function*() {
        const now = yield* store.now
        // Four records of one partition closing into one bucket (expiring together, a minute ago).
        const all = Array.from({ length: 400 }, (_, i) => `shared-${i}`)
        const p = keys.partitionOf(all[0]!)
        const [first, second, third, odd] = all.filter((key) => keys.partitionOf(key) === p)
        const at = indexExpiryBucketEnd(now - 120_000) - 1
        const end = indexExpiryBucketEnd(at)
        // The terms a close files, in the commit's order (joined, added, kept), and their id in the hash.
        const filed = (running: ExecutionState) => {
          const delta = indexDelta(running, closedOf(running, now))
          const terms = [...delta.add.map((e) => e.term), ...delta.keep]
          return { terms, id: createHash("sha1").update(` ${terms.join(" ")}`).digest("hex").slice(0, 6) }
        }
        const { terms: closedTerms, id } = filed(state(first!, now))
        // `odd`'s terms differ; give their id (as a collision would) other terms first.
        const { terms: oddTerms, id: oddId } = filed({ ...state(odd!, now), taskQueue: "other" })
        yield* call(() => admin.hset(keys.indexExpiryTermSets(p, end), oddId, " not these"))
        for (const key of [first!, second!, third!]) yield* startAndClose(store, key, now, at)
        const running = { ...state(odd!, now), taskQueue: "other" }
        yield* store.commit({ key: odd!, expectedVersion: 0, state: "running", token: "t1", index: indexDelta(undefined, running) })
        yield* store.commit({
          key: odd!, expectedVersion: 1, expectedToken: "t1", state: "closed", token: "t2",
          journal: { id: "r1", from: 0, entries: ["a"] }, expire: { at, record: true }, index: indexDelta(running, closedOf(running, now)),
        })
        const entries = yield* call(() => admin.lrange(keys.indexExpiryBucket(p, end), 0, -1))
        const sets = yield* call(() => admin.hgetall(keys.indexExpiryTermSets(p, end)))
        expect(entries).toEqual([encodeExpiringEntry(first!, closedTerms), ` ${second}  ${id}`, ` ${third}  ${id}`, encodeExpiringEntry(odd!, oddTerms)])
        expect(sets).toEqual({ [id]: ` ${closedTerms.join(" ")}`, [oddId]: " not these" })
        for (const [i, key] of [first!, second!, third!, odd!].entries()) {
          expect(readExpiringEntry(entries[i]!, sets).key).toBe(key)
          expect([...readExpiringEntry(entries[i]!, sets).terms].sort()).toEqual(key === odd ? [...oddTerms].sort() : [...closedTerms].sort())
        }
        // Their records are gone already: one sweep takes all four, and the bucket's keys with them.
        yield* store.fireDueTimers(10)
        for (const key of [first!, second!, third!, odd!]) expect(yield* termsListing(keys, p, key)).toEqual([])
        expect(yield* call(() => admin.exists(keys.indexExpiryBuckets(p), keys.indexExpiryBucket(p, end), keys.indexExpiryTermSets(p, end)))).toBe(0)
      })))

  it.live("a record gone by its expiry leaves its terms at the next sweep, and the bucket goes", () =>
    withStore((store, keys) =>
      Effect.gen(function*() {
        const now = yield* store.now
        const key = "gone-1"
        const p = keys.partitionOf(key)
        yield* startAndClose(store, key, now, now - 1)
        expect((yield* termsListing(keys, p, key)).length).toBeGreaterThan(0)
        yield* store.fireDueTimers(10)
        expect(yield* termsListing(keys, p, key)).toEqual([])
        expect(yield* call(() => admin.exists(keys.indexExpiryBuckets(p), keys.indexExpiryBucket(p, indexExpiryBucketEnd(now - 1))))).toBe(0)
      })))

  it.live("from the head: a record that expires later holds the bucket until then; one written again is passed over, not swept", () =>
    withStore((store, keys) =>
      Effect.gen(function*() {
        const now = yield* store.now
        // One bucket of partition 0, by hand (as commits of one minute leave it), due now: its records
        // are `later` (expires in a minute), `rewritten` (written again: no expiry) and `gone`.
        const [later, rewritten, gone] = ["later", "rewritten", "gone"]
        const p = 0
        const end = now + INDEX_EXPIRY_BUCKET_MS
        const terms = ["status:COMPLETED", "closed"]
        for (const key of [later!, rewritten!, gone!]) {
          yield* call(() => admin.zadd(keys.indexTerm(p, "status:COMPLETED"), 1, key))
          yield* call(() => admin.zadd(keys.indexTerm(p, "closed"), 1, key))
          yield* call(() => admin.rpush(keys.indexExpiryBucket(p, end), encodeExpiringEntry(key, terms)!))
        }
        const xLater = `${keys.tag(p)}:x:${later}`
        const xRewritten = `${keys.tag(p)}:x:${rewritten}`
        yield* call(() => admin.hset(xLater, "state", "closed"))
        yield* call(() => admin.pexpire(xLater, 60_000))
        yield* call(() => admin.hset(xRewritten, "state", "running"))
        yield* call(() => admin.zadd(keys.indexExpiryBuckets(p), now - 1, String(end)))

        yield* store.fireDueTimers(10)
        // `later` holds the bucket: nothing behind it is swept yet, and the bucket is due again at its expiry.
        expect(yield* call(() => admin.llen(keys.indexExpiryBucket(p, end)))).toBe(3)
        const again = Number(yield* call(() => admin.zscore(keys.indexExpiryBuckets(p), String(end))))
        expect(again).toBeGreaterThan(now + 50_000)
        expect(again).toBeLessThanOrEqual(end)

        // Its record goes (as by its expiry) and the bucket comes due: the head is swept, the
        // rewritten record passed over with its entries, the gone one swept.
        yield* call(() => admin.del(xLater))
        yield* call(() => admin.zadd(keys.indexExpiryBuckets(p), "XX", now - 1, String(end)))
        yield* store.fireDueTimers(10)
        expect(yield* termsListing(keys, p, later!)).toEqual([])
        expect(yield* termsListing(keys, p, rewritten!)).toEqual(["closed", "status:COMPLETED"])
        expect(yield* termsListing(keys, p, gone!)).toEqual([])
        expect(yield* call(() => admin.exists(keys.indexExpiryBuckets(p), keys.indexExpiryBucket(p, end)))).toBe(0)
      })))

  it.live("a bucket that has ended passes over a record that still exists (closed again, later): its own entry sweeps it", () =>
    withStore((store, keys) =>
      Effect.gen(function*() {
        const now = yield* store.now
        const key = "again-1"
        const p = keys.partitionOf(key)
        const end = now - 1
        yield* call(() => admin.zadd(keys.indexTerm(p, "closed"), 1, key))
        yield* call(() => admin.rpush(keys.indexExpiryBucket(p, end), encodeExpiringEntry(key, ["closed"])!))
        yield* call(() => admin.zadd(keys.indexExpiryBuckets(p), end, String(end)))
        const x = `${keys.tag(p)}:x:${key}`
        yield* call(() => admin.hset(x, "state", "closed again"))
        yield* call(() => admin.pexpire(x, 600_000))
        yield* store.fireDueTimers(10)
        expect(yield* termsListing(keys, p, key)).toEqual(["closed"])
        expect(yield* call(() => admin.exists(keys.indexExpiryBuckets(p), keys.indexExpiryBucket(p, end)))).toBe(0)
      })))
})

describe("data of the previous format", () => {
  it.live("an ie/iq entry (full zset names) is swept when its record has expired; a record still there keeps its entries", () =>
    withStore((store, keys) =>
      Effect.gen(function*() {
        const now = yield* store.now
        // By hand, in partition 0 (the script sweeps what its partition's keys name).
        const p = 0
        const kept = "old-kept"
        // What the previous version wrote for a closed, expiring record (its record already expired).
        const old = (key: string) => ["all", "status:COMPLETED", "type:order", "type:order:status:COMPLETED", "queue:q", "closed"].map((term) => keys.indexTerm(p, term))
        for (const key of ["old-gone", kept]) {
          for (const zset of old(key)) yield* call(() => admin.zadd(zset, now - 10, key))
          yield* call(() => admin.hset(keys.indexExpiring(p), key, JSON.stringify(old(key))))
          yield* call(() => admin.zadd(keys.indexExpiryQueue(p), now - 1, key))
        }
        yield* call(() => admin.hset(`${keys.tag(p)}:x:${kept}`, "state", "written again"))
        expect((yield* termsListing(keys, p, "old-gone")).length).toBe(6)

        yield* store.fireDueTimers(10)
        expect(yield* termsListing(keys, p, "old-gone")).toEqual([])
        expect((yield* termsListing(keys, p, kept)).length).toBe(6)
        expect(yield* call(() => admin.exists(keys.indexExpiring(p), keys.indexExpiryQueue(p)))).toBe(0)
      })))

  it.live("an execution the previous version indexed (under all and type:<T> too) leaves those at its close, then expires whole", () =>
    withStore((store, keys) =>
      Effect.gen(function*() {
        const now = yield* store.now
        const key = "old-running"
        const p = keys.partitionOf(key)
        const running = state(key, now)
        // Started by the previous version: its terms then, `all` and `type:order` among them.
        yield* store.commit({ key, expectedVersion: 0, state: "running", token: "t1" })
        for (const term of [...indexEntries(running).map((e) => e.term), ...retiredTerms(running)]) {
          yield* call(() => admin.zadd(keys.indexTerm(p, term), now, key))
        }
        expect(yield* termsListing(keys, p, key)).toEqual(["all", "queue:q", "status:RUNNING", "type:order", "type:order:status:RUNNING"])
        // Closed by this version, with its retention passed already.
        yield* store.commit({
          key, expectedVersion: 1, expectedToken: "t1", state: "closed", token: "t2",
          journal: { id: "r1", from: 0, entries: ["a"] }, expire: { at: now - 1, record: true }, index: indexDelta(running, closedOf(running, now)),
        })
        expect(yield* termsListing(keys, p, key)).toEqual(["closed", "queue:q", "status:COMPLETED", "type:order:status:COMPLETED"])
        yield* store.fireDueTimers(10)
        expect(yield* termsListing(keys, p, key)).toEqual([])
      })))
})
