/**
 * The Redis store on a real `redis-server`: the shared conformance suite,
 * then what only Redis has — key slots and hash tags (also checked by a
 * Redis Cluster node), NOGROUP recovery, the outbox relay, XAUTOCLAIM
 * reclaim, dead letters, TIME-based timers, namespaces, reconnects.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, References } from "effect"
import fc from "fast-check"
import { Redis } from "ioredis"
import { storeConformance } from "../../src/sdk/testing/storeConformance.ts"
import { type Delivery, laneOf, type OutboundMessage, type StoreShape, type StreamAddress } from "../../src/stores/Store.ts"
import { NOTIFY_RECORD_MAX } from "../../src/stores/redis/encode.ts"
import { fnv1a32, makeKeys } from "../../src/stores/redis/keys.ts"
import { layerRedis, makeRedisStore, type RedisStoreOptions } from "../../src/stores/redis/layer.ts"
import type { ScriptName } from "../../src/stores/redis/lua.ts"
import { parseNotification } from "../../src/stores/redis/notifier.ts"
import { crc16, hashTagOf, keySlot } from "../../src/stores/redis/slot.ts"
import { startRedis, useRedis } from "../support/redisServer.ts"

const redis = await useRedis()
const admin = new Redis(redis.url)
afterAll(() => admin.quit())

/** Every script invocation of every store in this file: checked for single-slot KEYS at the end. */
const invocations: Array<{ readonly name: ScriptName; readonly keys: ReadonlyArray<string> }> = []
const onScript = (name: ScriptName, keys: ReadonlyArray<string>) => void invocations.push({ name, keys })

let nsCounter = 0
const freshNamespace = () => `t${++nsCounter}-${process.pid}`

storeConformance(
  "redis",
  layerRedis({ redis: redis.url, namespace: freshNamespace(), maxDeliveries: 3, onScript }),
  { maxDeliveries: 3, claims: true },
)
storeConformance(
  "redis (4 lanes)",
  layerRedis({ redis: redis.url, namespace: freshNamespace(), maxDeliveries: 3, lanes: 4, onScript }),
  { maxDeliveries: 3, claims: true },
)

/** Run `f` with a fresh store (own namespace unless given), closed afterwards. */
const withStore = <A, E>(
  options: Partial<RedisStoreOptions>,
  f: (store: StoreShape) => Effect.Effect<A, E>,
) =>
  Effect.scoped(
    Effect.flatMap(
      makeRedisStore({ redis: redis.url, namespace: freshNamespace(), onScript, ...options }),
      f,
    ),
  )

const wf = (taskQueue: string): StreamAddress => ({ kind: "workflow", taskQueue })
const msg = (stream: StreamAddress, key: string, body: string): OutboundMessage => ({ stream, key, body })
const bodies = (ds: ReadonlyArray<Delivery>) => ds.map((d) => d.body)
const readNow = (store: StoreShape, stream: StreamAddress, consumer = "c", count = 100) =>
  store.read(stream, { consumer, count, blockMs: 0 })
const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/**
 * An ioredis client of its own name, for a store under test: `subscribers`
 * lists its notifier's subscribed connections, `killSubscriber` kills the one
 * there is and waits until another is subscribed, `run` quits the client after.
 */
const namedClient = (label: string) => {
  const url = new URL(redis.url)
  const connectionName = `${label}-${process.pid}`
  const base = new Redis({ host: url.hostname, port: Number(url.port), connectionName })
  const subscribers = Effect.promise(async () =>
    String(await admin.client("LIST")).split("\n").filter((line) => line.includes(` name=${connectionName} `) && / sub=[1-9]/.test(line))
      .map((line) => /id=(\d+)/.exec(line)![1]!))
  const killSubscriber = Effect.gen(function*() {
    const before = yield* subscribers
    expect(before).toHaveLength(1)
    yield* Effect.promise(() => admin.client("KILL", "ID", before[0]!))
    for (let i = 0; i < 250; i++) {
      const now = yield* subscribers
      if (now.length === 1 && now[0] !== before[0]) return
      yield* sleep(20)
    }
  })
  const run = <A, E>(self: Effect.Effect<A, E>) =>
    self.pipe(Effect.ensuring(Effect.promise(() => base.quit())), Effect.provideService(References.MinimumLogLevel, "Error"))
  return { base, subscribers, killSubscriber, run }
}

/** A routing key of partition `p` (of `partitions`), distinct per `label`. */
const keyIn = (p: number, label: string, partitions = 8) => {
  const keys = makeKeys("x", partitions)
  for (let i = 0; ; i++) if (keys.partitionOf(`${label}-${i}`) === p) return `${label}-${i}`
}

describe("fnv1a32 (the partitioning hash)", () => {
  it("is FNV-1a of the key's UTF-8 bytes, as TextEncoder gives them (a lone surrogate as U+FFFD)", () => {
    // The published FNV-1a 32-bit vectors: partitions of existing data must never move.
    expect([fnv1a32(""), fnv1a32("a"), fnv1a32("foobar")]).toEqual([0x811c9dc5, 0xe40c292c, 0xbf9cf968])
    const encoder = new TextEncoder()
    const reference = (text: string) => {
      let hash = 0x811c9dc5
      for (const byte of encoder.encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
      return hash >>> 0
    }
    const unit = fc.oneof(fc.constantFrom("\ud800", "\udfff", "\udbff\udc00", "é", "€", "\u{1d11e}", "\u07ff", "\u0800", "\uffff"), fc.string({ unit: "binary", maxLength: 3 }))
    fc.assert(fc.property(fc.string({ unit }), (text) => fnv1a32(text) === reference(text)), { numRuns: 2000 })
  })
})

describe("keySlot (CRC16/XMODEM, hash tags)", () => {
  it("matches the Redis Cluster specification's vectors", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0x31c3)
    expect(keySlot("123456789")).toBe(12739)
    expect(hashTagOf("{user1000}.following")).toBe("user1000")
    expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"))
    expect(hashTagOf("foo{}{bar}")).toBe("foo{}{bar}")
    expect(hashTagOf("foo{{bar}}zap")).toBe("{bar")
    expect(hashTagOf("foo{bar}{zap}")).toBe("bar")
    expect(hashTagOf("no-tag")).toBe("no-tag")
  })

  it("puts every key of a partition in one slot", () => {
    const keys = makeKeys("shop", 8)
    const stream = wf("orders")
    for (let p = 0; p < 8; p++) {
      const key = keyIn(p, "wf")
      const slot = keySlot(keys.tag(p))
      const all = [
        keys.exec(key), keys.journal(key, "run-1"), keys.stream(p, stream), keys.dead(p, stream),
        keys.timers(p), keys.timerData(p), keys.timerSeq(p), keys.outbox(p), keys.relayed(p), keys.reply(p, "q"),
      ]
      expect(all.map(keySlot)).toEqual(all.map(() => slot))
    }
  })
})

describe("Redis specifics", () => {
  it.live("NOGROUP: a group deleted or a stream dropped behind the store's back is re-created", () =>
    withStore({}, (store) =>
      Effect.gen(function*() {
        const q = wf("nogroup")
        const key = keyIn(3, "ng")
        const streamKey = makeKeys(`t${nsCounter}-${process.pid}`, 8).stream(3, q)
        yield* store.append([msg(q, key, "first")])
        expect(bodies(yield* readNow(store, q))).toEqual(["first"])
        yield* Effect.promise(() => admin.xgroup("DESTROY", streamKey, "hotmesh"))
        yield* store.append([msg(q, key, "second")])
        // Re-created at 0: the unacknowledged "first" comes back, then "second".
        expect(bodies(yield* readNow(store, q, "other"))).toEqual(["first", "second"])
        yield* Effect.promise(() => admin.del(streamKey))
        yield* store.append([msg(q, key, "third")])
        expect(bodies(yield* readNow(store, q))).toEqual(["third"])
        // While blocked: Redis unblocks the reader with NOGROUP; it re-creates and goes on.
        const blocked = yield* Effect.forkChild(store.read(q, { consumer: "b", count: 10, blockMs: 3_000 }))
        yield* sleep(100)
        yield* Effect.promise(() => admin.xgroup("DESTROY", streamKey, "hotmesh"))
        yield* sleep(50)
        yield* store.append([msg(q, key, "fourth")])
        const got = bodies(yield* Fiber.join(blocked))
        got.push(...bodies(yield* readNow(store, q, "b")))
        expect(got.sort()).toEqual(["fourth", "third"]) // "third" was never acknowledged: re-delivered
      })))

  it.live("outbox relay: messages, timers and completions reach keys of other partitions", () =>
    withStore({}, (store) =>
      Effect.gen(function*() {
        const q = wf("relay")
        const act: StreamAddress = { kind: "activity", taskQueue: "relay" }
        const parent = keyIn(1, "parent")
        const child = keyIn(6, "child")
        const odd = "ünï 🚀 \u0000 \"q\" \\ /"
        const now = yield* store.now
        yield* store.commit({
          key: parent, expectedVersion: 0, state: "s", token: "t1",
          messages: [msg(q, child, `start ${odd}`), msg(act, parent, "task")],
          timers: [{ id: "t-child", fireAt: now - 1, message: msg(q, child, `timer ${odd}`) }],
        })
        const first = yield* store.read(q, { consumer: "c", count: 10, blockMs: 2_000 })
        expect(first.map((d) => [d.key, d.body])).toEqual([[child, `start ${odd}`]])
        expect(yield* store.fireDueTimers(10)).toBe(1)
        const second = yield* store.read(q, { consumer: "c", count: 10, blockMs: 2_000 })
        expect(second.map((d) => [d.key, d.body])).toEqual([[child, `timer ${odd}`]])
        const [task] = yield* readNow(store, act)
        yield* store.complete(task!, [msg(q, child, "result")])
        expect(bodies(yield* store.read(q, { consumer: "c", count: 10, blockMs: 2_000 }))).toEqual(["result"])
        // Outboxes are emptied (acknowledged entries deleted). The relay acks an entry in its
        // outbox after delivering it (two slots, two scripts), so the ack may trail the read.
        const keys = makeKeys(`t${nsCounter}-${process.pid}`, 8)
        const deadline = Date.now() + 2_000
        let length = yield* Effect.promise(() => admin.xlen(keys.outbox(1)))
        while (length > 0 && Date.now() < deadline) {
          yield* sleep(10)
          length = yield* Effect.promise(() => admin.xlen(keys.outbox(1)))
        }
        expect(length).toBe(0)
      })))

  it.live("outbox relay: two stores relay each entry once; a re-relayed entry is deduplicated", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const q = wf("relay2")
      const from = keyIn(0, "from")
      const targets = Array.from({ length: 20 }, (_, i) => keyIn(1 + (i % 7), `to${i}`))
      yield* Effect.scoped(Effect.gen(function*() {
        const a = yield* makeRedisStore({ redis: redis.url, namespace, onScript })
        yield* makeRedisStore({ redis: redis.url, namespace, onScript })
        yield* a.commit({ key: from, expectedVersion: 0, messages: targets.map((k) => msg(q, k, k)) })
        const got: Array<string> = []
        while (got.length < targets.length) {
          const ds = yield* a.read(q, { consumer: "c", count: 100, blockMs: 2_000 })
          if (ds.length === 0) break
          got.push(...bodies(ds))
        }
        expect(got.sort()).toEqual([...targets].sort())
        // An entry relayed before (its dedupe mark is in the target partition), as
        // when a relay crashed between deliver and ack, is acknowledged and dropped.
        const keys = makeKeys(namespace, 8)
        const destination = JSON.stringify(["workflow", "relay2", targets[0]])
        const base = Date.now() + 60_000
        yield* Effect.promise(() => admin.zadd(keys.relayed(keys.partitionOf(targets[0]!)), Date.now(), `0/${base}-1`))
        yield* Effect.promise(() => admin.xadd(keys.outbox(0), `${base}-1`, "k", destination, "b", "duplicate"))
        yield* Effect.promise(() => admin.xadd(keys.outbox(0), `${base}-2`, "k", destination, "b", "fresh"))
        expect(bodies(yield* a.read(q, { consumer: "c", count: 100, blockMs: 2_000 }))).toEqual(["fresh"])
        yield* sleep(100)
        expect(yield* readNow(a, q)).toEqual([])
        expect(yield* Effect.promise(() => admin.xlen(keys.outbox(0)))).toBe(0)
      }))
    }))

  it.live("reclaim: XAUTOCLAIM re-delivers after the visibility timeout; touch extends it", () =>
    withStore({ visibilityTimeoutMs: 300 }, (store) =>
      Effect.gen(function*() {
        const q = wf("reclaim")
        const key = keyIn(2, "rc")
        yield* store.append([msg(q, key, "stalled"), msg(q, key, "alive")])
        const [stalled, alive] = yield* readNow(store, q, "crashed")
        expect(yield* readNow(store, q, "other")).toEqual([])
        yield* sleep(200)
        yield* store.touch(alive!)
        yield* sleep(150)
        const again = yield* readNow(store, q, "other")
        expect(again).toEqual([{ ...stalled!, deliveries: 2 }])
        // A blocked reader notices reclaimable messages within about one visibility timeout.
        const start = Date.now()
        const late: Array<Delivery> = []
        while (late.length < 2 && Date.now() - start < 3_000) {
          late.push(...(yield* store.read(q, { consumer: "third", count: 10, blockMs: 5_000 })))
        }
        expect(late.map((d) => [d.body, d.deliveries]).sort()).toEqual([["alive", 2], ["stalled", 3]])
        expect(Date.now() - start).toBeLessThan(1_500)
        // A zombie (the first consumer) cannot touch or release what was reclaimed.
        yield* store.release([stalled!])
        expect(yield* readNow(store, q, "fourth")).toEqual([])
      })))

  it.live("dead letters: over-delivered messages are parked with a reason; the stream keeps flowing", () =>
    withStore({ visibilityTimeoutMs: 100, maxDeliveries: 2 }, (store) =>
      Effect.gen(function*() {
        const q = wf("dead")
        const key = keyIn(4, "dl")
        yield* store.append([msg(q, key, "poison")])
        expect(bodies(yield* readNow(store, q, "a"))).toEqual(["poison"])
        yield* sleep(150)
        expect((yield* readNow(store, q, "b")).map((d) => d.deliveries)).toEqual([2])
        yield* sleep(150)
        yield* store.append([msg(q, key, "fine")])
        expect(bodies(yield* readNow(store, q, "c"))).toEqual(["fine"])
        const dead = yield* store.deadLetters(q)
        expect(dead.map((d) => [d.delivery.body, d.delivery.deliveries, d.delivery.key])).toEqual([["poison", 2, key]])
        expect(dead[0]!.reason).toMatch(/delivered 2 times.*maxDeliveries 2/)
        expect(Math.abs(dead[0]!.at - (yield* store.now))).toBeLessThan(5_000)
      })))

  it.live("read respects count across partitions: over-read messages are given back intact", () =>
    withStore({}, (store) =>
      Effect.gen(function*() {
        const q = wf("count")
        const messages = Array.from({ length: 16 }, (_, i) => msg(q, keyIn(i % 8, `k${i}`), `m${i}`))
        yield* store.append(messages)
        const got: Array<Delivery> = []
        for (let i = 0; i < 16; i++) {
          const one = yield* readNow(store, q, `c${i}`, 1)
          expect(one.length).toBe(1)
          got.push(...one)
        }
        expect(yield* readNow(store, q, "last")).toEqual([])
        expect(bodies(got).sort()).toEqual(messages.map((m) => m.body).sort())
        expect(got.every((d) => d.deliveries === 1)).toBe(true)
      })))

  it.live("a workflow's own timer lands in its stream within the fire script, not through the outbox relay", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const keys = makeKeys(namespace, 8)
      yield* withStore({ namespace }, (store) =>
        Effect.gen(function*() {
          const q = wf("own-timer")
          const key = keyIn(3, "own")
          const now = yield* store.now
          yield* store.commit({ key, expectedVersion: 0, state: "s", token: "t1", timers: [{ id: "sleep-1", fireAt: now - 1, message: msg(q, key, "fired") }] })
          expect(yield* store.fireDueTimers(10)).toBe(1)
          // Right after the fire: the entry is in the partition's workflow stream, and a non-blocking read gets it.
          const entries = yield* Effect.promise(() => admin.xrange(keys.stream(3, q), "-", "+"))
          expect(entries.map(([, fields]) => fields)).toEqual([["k", key, "b", "fired"]])
          expect(bodies(yield* readNow(store, q))).toEqual(["fired"])
          // Nothing went through the outbox: no outbox entry, no relay dedupe mark in the partition.
          expect(yield* Effect.promise(() => admin.xlen(keys.outbox(3)))).toBe(0)
          expect(yield* Effect.promise(() => admin.zcard(keys.relayed(3)))).toBe(0)
        }))
    }))

  it.live("fireDueTimers: a limit below the partition count still fires the earliest due, and the rest on later calls", () =>
    withStore({}, (store) =>
      Effect.gen(function*() {
        const q = wf("limit")
        const now = yield* store.now
        // 12 due timers, all in partition 5 (one share of a limit of 3 is 0 there), plus one in partition 2.
        const key = keyIn(5, "busy")
        const other = keyIn(2, "quiet")
        yield* store.commit({
          key, expectedVersion: 0,
          timers: Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, fireAt: now - 100 + i, message: msg(q, key, `t${i}`) })),
        })
        yield* store.commit({ key: other, expectedVersion: 0, timers: [{ id: "o", fireAt: now - 50, message: msg(q, other, "o") }] })
        expect(yield* store.fireDueTimers(3)).toBe(3)
        expect(yield* store.fireDueTimers(4)).toBe(4)
        expect(yield* store.fireDueTimers(100)).toBe(6)
        expect(yield* store.fireDueTimers(100)).toBe(0)
        const got = bodies(yield* readNow(store, q))
        expect(got.filter((b) => b !== "o")).toEqual(Array.from({ length: 12 }, (_, i) => `t${i}`)) // per key: fireAt order
        expect(got).toContain("o")
      })))

  it.live("timers fire by Redis TIME: never early, late by milliseconds", () =>
    withStore({}, (store) =>
      Effect.gen(function*() {
        const q = wf("timers")
        const lateness: Array<number> = []
        for (let i = 0; i < 5; i++) {
          const key = keyIn(i, "tm")
          const fireAt = (yield* store.now) + 150 + 10 * i
          yield* store.commit({ key, expectedVersion: 0, timers: [{ id: `t${i}`, fireAt, message: msg(q, key, `t${i}`) }] })
          // The interpreter's loop: sleep until nextTimerAt by the store clock, then fire.
          for (;;) {
            const next = yield* store.nextTimerAt
            const now = yield* store.now
            if (Option.isSome(next) && next.value > now) yield* sleep(next.value - now)
            if ((yield* store.fireDueTimers(10)) > 0) break
          }
          const [d] = yield* readNow(store, q)
          const firedAt = Number(d!.id.split("/")[1]!.split("-")[0]) // XADD '*' id = Redis ms clock
          expect(firedAt).toBeGreaterThanOrEqual(fireAt)
          lateness.push(firedAt - fireAt)
        }
        expect(Math.max(...lateness)).toBeLessThan(50)
      })))

  it.live("replies: found in any partition, blocking take, expire after replyTtlMs", () =>
    withStore({ replyTtlMs: 200 }, (store) =>
      Effect.gen(function*() {
        const key = keyIn(5, "rp")
        const waiting = yield* Effect.forkChild(store.takeReply("q-blocking", 5_000))
        yield* sleep(50)
        yield* store.commit({ key, expectedVersion: 0, replies: [{ id: "q-blocking", body: "late" }, { id: "q-exp", body: "x" }] })
        expect(yield* Fiber.join(waiting)).toEqual(Option.some("late"))
        yield* sleep(300)
        expect(yield* store.takeReply("q-exp", 0)).toEqual(Option.none())
      })))

  it.live("namespaces isolate tenants; a namespace's partition count is fixed", () =>
    Effect.gen(function*() {
      const a = freshNamespace()
      const b = freshNamespace()
      const q = wf("tenant")
      yield* Effect.scoped(Effect.gen(function*() {
        const sa = yield* makeRedisStore({ redis: redis.url, namespace: a, onScript })
        const sb = yield* makeRedisStore({ redis: redis.url, namespace: b, onScript })
        const now = yield* sa.now
        yield* sa.commit({
          key: "k", expectedVersion: 0, state: "a-state", token: "t1", journal: { id: "r", from: 0, entries: ["j"] },
          messages: [msg(q, "k", "a-msg")], timers: [{ id: "t", fireAt: now - 1, message: msg(q, "k", "a-timer") }],
        })
        expect(yield* sb.load("k")).toEqual(Option.none())
        expect(yield* sb.loadJournal("k", "r")).toEqual([])
        expect(yield* sb.nextTimerAt).toEqual(Option.none())
        expect(yield* sb.fireDueTimers(10)).toBe(0)
        expect(yield* readNow(sb, q)).toEqual([])
        const waiter = yield* Effect.forkChild(sb.awaitUpdate("k", 0, 300))
        yield* sa.commit({ key: "k", expectedVersion: 1, expectedToken: "t1", state: "closed", token: "t2", notify: true })
        const start = Date.now()
        yield* Fiber.join(waiter)
        expect(Date.now() - start).toBeGreaterThan(150) // b's waiter was not woken by a's commit
        expect(bodies(yield* readNow(sa, q))).toEqual(["a-msg"])
      }))
      const mismatch = yield* Effect.flip(Effect.scoped(makeRedisStore({ redis: redis.url, namespace: a, partitions: 4 })))
      expect(mismatch.message).toMatch(/has 8 partitions; this store is configured with 4/)
    }))

  it.live("messages a blocking read over-read and gave back are found by the very next read", () =>
    withStore({}, (store) =>
      Effect.gen(function*() {
        const q = wf("overread")
        // An empty read: its partition scan found nothing, so scans are skipped for a while.
        expect(yield* store.read(q, { consumer: "c", count: 10, blockMs: 20 })).toEqual([])
        const sent = Array.from({ length: 8 }, (_, p) => Array.from({ length: 5 }, (_, i) => msg(q, keyIn(p, `o${i}`), `p${p}-${i}`))).flat()
        yield* store.append(sent)
        // COUNT is per partition stream (its share, 2, of 10): the blocking read gets 16, keeps 10, gives 6 back.
        const first = yield* store.read(q, { consumer: "c", count: 10, blockMs: 300 })
        expect(first).toHaveLength(10)
        // Those 6 are only visible to a scan; the next read must not wait for the scan interval (1 s).
        const second = yield* store.read(q, { consumer: "c", count: 100, blockMs: 300 })
        expect([...bodies(first), ...bodies(second)].sort()).toEqual(sent.map((m) => m.body).sort())
      })))

  it.live("a commit cannot acknowledge a message of another partition (not atomic): StoreError", () =>
    withStore({}, (store) =>
      Effect.gen(function*() {
        const q = wf("crossack")
        yield* store.append([msg(q, keyIn(0, "ca"), "m")])
        const [d] = yield* readNow(store, q)
        const error = yield* Effect.flip(store.commit({ key: keyIn(1, "cb"), expectedVersion: 0, ack: d! }))
        expect(error._tag).toBe("StoreError")
      })))

  it.live("a commit is one round trip; acknowledged entries are deleted from the stream", () =>
    Effect.gen(function*() {
      const client = new Redis(redis.url)
      const sent: Array<string> = []
      const original = client.sendCommand.bind(client)
      client.sendCommand = ((command: { name: string; args: Array<unknown> }) => {
        if (command.args.some((a) => String(a).includes("one-rt"))) sent.push(command.name)
        return original(command as never)
      }) as typeof client.sendCommand
      yield* withStore({ redis: client }, (store) =>
        Effect.gen(function*() {
          const q = wf("one-rt")
          yield* store.append([msg(q, "one-rt", "in")])
          const [d] = yield* readNow(store, q)
          sent.length = 0
          yield* store.commit({
            key: "one-rt", expectedVersion: 0, state: "s", token: "t1", journal: { id: "r", from: 0, entries: ["a", "b"] },
            messages: [msg(q, "one-rt", "out")], ack: d!, notify: true,
          })
          expect(sent).toEqual(["evalsha"])
          const keys = makeKeys(`t${nsCounter}-${process.pid}`, 8)
          const len = yield* Effect.promise(() => admin.xlen(keys.stream(keys.partitionOf("one-rt"), q)))
          expect(len).toBe(1) // only "out" is left
        }))
      expect(client.status).toBe("ready") // a client passed in is not closed by the store
      yield* Effect.promise(() => client.quit())
    }))

  it.live("a store subscribes at its first wait; a waiter on a record it created reads no version while the subscription holds", () => {
    const { base, subscribers, killSubscriber, run } = namedClient("created")
    let versionReads = 0
    const hget = base.hget.bind(base) as (key: string, field: string) => Promise<string | null>
    base.hget = ((key: string, field: string) => {
      if (field === "nv") versionReads++
      return hget(key, field)
    }) as typeof base.hget
    const namespace = freshNamespace()
    return run(Effect.scoped(Effect.gen(function*() {
      const mine = yield* makeRedisStore({ redis: base, namespace })
      const other = yield* makeRedisStore({ redis: redis.url, namespace })
      // Subscribed at the first wait, not before: a store that never waits is sent no notifications.
      yield* other.commit({ key: "n", expectedVersion: 0, state: "s1", token: "t1", notify: true })
      expect(yield* subscribers).toEqual([])
      yield* mine.awaitUpdate("n", 0, 60_000)
      expect(yield* subscribers).toHaveLength(1)
      versionReads = 0
      yield* mine.commit({ key: "a", expectedVersion: 0, state: "s1", token: "t1" })
      const waiter = yield* Effect.forkChild(mine.awaitUpdate("a", 1, 60_000))
      yield* other.commit({ key: "a", expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2", notify: true })
      yield* Effect.timeout(Fiber.join(waiter), "10 seconds")
      // Started after the notification: it has been seen, so the wait returns at once.
      yield* Effect.timeout(mine.awaitUpdate("a", 1, 60_000), "10 seconds")
      expect(versionReads).toBe(0)
      // A record another store created: the version is read, as always.
      yield* other.commit({ key: "b", expectedVersion: 0, state: "s1", token: "t1" })
      yield* mine.awaitUpdate("b", 1, 30)
      expect(versionReads).toBe(1)
      // The subscription breaks after the write: notifications may have been lost, so the version is read.
      yield* mine.commit({ key: "c", expectedVersion: 0, state: "s1", token: "t1" })
      yield* killSubscriber
      yield* other.commit({ key: "c", expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2", notify: true })
      yield* Effect.timeout(mine.awaitUpdate("c", 1, 60_000), "10 seconds")
      expect(versionReads).toBe(2)
    })))
  })

  it.live("a notification carries a small record to its waiter (no read), a large one only its version; the earlier form still wakes", () => {
    const { base, run } = namedClient("carry")
    let loads = 0
    const hmget = base.hmget.bind(base)
    base.hmget = ((...args: Parameters<typeof base.hmget>) => {
      loads++
      return hmget(...args)
    }) as typeof base.hmget
    // A waiter registers, then reads the version of the record's last notification: once that read is
    // answered, a notification can only come after it.
    let versionRead = () => {}
    const hget = base.hget.bind(base)
    base.hget = ((key: string, field: string) =>
      hget(key, field).then((v) => {
        if (field === "nv") versionRead()
        return v
      })) as typeof base.hget
    const waiting = <A, E>(wait: Effect.Effect<A, E>) =>
      Effect.gen(function*() {
        const read = new Promise<void>((resolve) => (versionRead = resolve))
        const fiber = yield* Effect.forkChild(wait)
        yield* Effect.promise(() => read)
        return fiber
      })
    const namespace = freshNamespace()
    const key = "k\n:#" // what either form must carry intact
    return run(Effect.scoped(Effect.gen(function*() {
      const mine = yield* makeRedisStore({ redis: base, namespace })
      const other = yield* makeRedisStore({ redis: redis.url, namespace })
      const small = "s".repeat(NOTIFY_RECORD_MAX)
      yield* other.commit({ key, expectedVersion: 0, state: "s1", token: "t1" })
      const waiter = yield* waiting(mine.awaitUpdate(key, 1, 60_000))
      yield* other.commit({ key, expectedVersion: 1, expectedToken: "t1", state: small, token: "t2", notify: true })
      expect(yield* Effect.timeout(Fiber.join(waiter), "10 seconds")).toEqual({ key, version: 2, token: "t2", state: small })
      // One character more: the waiter wakes with nothing and reads the record itself.
      const large = yield* waiting(mine.awaitUpdate(key, 2, 60_000))
      yield* other.commit({ key, expectedVersion: 2, expectedToken: "t2", state: `${small}x`, token: "t3", notify: true })
      expect(yield* Effect.timeout(Fiber.join(large), "10 seconds")).toBeUndefined()
      // A writer of an earlier version publishes only '<version>:<key>': it still wakes the waiter.
      const plain = yield* waiting(mine.awaitUpdate(key, 3, 60_000))
      yield* Effect.promise(() => admin.publish(makeKeys(namespace, 8, "spread").channel, `4:${key}`))
      expect(yield* Effect.timeout(Fiber.join(plain), "10 seconds")).toBeUndefined()
      expect(loads).toBe(0)
    })))
  })

  it("parseNotification reads both forms and refuses malformed ones", () => {
    expect(parseNotification("3:wf:1")).toEqual({ version: 3, key: "wf:1" })
    expect(parseNotification(`#${JSON.stringify([3, "a\nb", "t"])}\n{"s":1}\nmore`))
      .toEqual({ version: 3, key: "a\nb", record: { key: "a\nb", version: 3, token: "t", state: `{"s":1}\nmore` } })
    for (const bad of ["x:k", "nocolon", "#[3,\"k\"]\ns", "#{}\ns", "#[3,\"k\",\"t\"]", "#[1.5,\"k\",\"t\"]\ns", "#[3,4,\"t\"]\ns"]) {
      expect(parseNotification(bad)).toBeUndefined()
    }
  })

  it.live("the notifier subscribes once its connection is ready, and again after a reconnect", () => {
    const { base, killSubscriber, run } = namedClient("ready")
    /** The connection's status at each SUBSCRIBE (sent before "ready", ioredis' ready check fails and the reconnect forgets it). */
    const subscribedWhen: Array<string> = []
    const duplicate = base.duplicate.bind(base)
    base.duplicate = ((override?: Parameters<typeof duplicate>[0]) => {
      // Not connected until asked: the first wait finds the subscriber's connection not ready.
      const connection = duplicate({ ...override, lazyConnect: true })
      const subscribe = connection.subscribe.bind(connection) as (...channels: Array<string>) => Promise<unknown>
      connection.subscribe = ((...channels: Array<string>) => {
        subscribedWhen.push(connection.status)
        return subscribe(...channels)
      }) as typeof connection.subscribe
      return connection
    }) as typeof base.duplicate
    const namespace = freshNamespace()
    return run(Effect.scoped(Effect.gen(function*() {
      const mine = yield* makeRedisStore({ redis: base, namespace })
      const other = yield* makeRedisStore({ redis: redis.url, namespace })
      const wakes = (afterVersion: number, commit: Effect.Effect<unknown, unknown>) =>
        Effect.gen(function*() {
          const waiter = yield* Effect.forkChild(mine.awaitUpdate("k", afterVersion, 60_000))
          yield* sleep(50) // the waiter is parked (no notification yet)
          yield* commit
          yield* Effect.timeout(Fiber.join(waiter), "10 seconds")
        })
      yield* wakes(0, other.commit({ key: "k", expectedVersion: 0, state: "s1", token: "t1", notify: true }))
      expect(subscribedWhen).toEqual(["ready"])
      yield* killSubscriber
      // Subscribed again (by the notifier, and by ioredis' own resubscription), each once ready.
      expect(subscribedWhen.length).toBeGreaterThanOrEqual(2)
      expect(subscribedWhen.every((status) => status === "ready")).toBe(true)
      yield* wakes(1, other.commit({ key: "k", expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2", notify: true }))
    })))
  })

  it.live("connection trouble: a blocked read survives a killed connection and a Redis restart", () => {
    const url = new URL(redis.url)
    const connectionName = `reconnect-${process.pid}`
    const options = { host: url.hostname, port: Number(url.port), connectionName }
    /** Kill every connection of this store (the command client and its duplicates). */
    const killStoreConnections = Effect.promise(async () => {
      const list = await admin.client("LIST")
      const ids = String(list).split("\n").filter((line) => line.includes(` name=${connectionName} `))
        .map((line) => /id=(\d+)/.exec(line)?.[1])
      for (const id of ids) if (id !== undefined) await admin.client("KILL", "ID", id)
      return ids.length
    })
    return withStore({ redis: options }, (store) =>
      Effect.gen(function*() {
        const q = wf("reconnect")
        const key = keyIn(7, "rc")
        const blocked = yield* Effect.forkChild(store.read(q, { consumer: "c", count: 10, blockMs: 4_000 }))
        // A result waiter with a fallback far beyond the test's timeout: only the subscriber's
        // wake-up after it reconnects (notifications may have been lost meanwhile) can end it.
        const waiter = yield* Effect.forkChild(store.awaitUpdate(key, 0, 600_000))
        yield* sleep(100)
        expect(yield* killStoreConnections).toBeGreaterThanOrEqual(3)
        yield* sleep(200)
        yield* store.append([msg(q, key, "after-kill")])
        expect(bodies(yield* Fiber.join(blocked))).toEqual(["after-kill"])
        yield* Fiber.join(waiter)
        if (redis.port === undefined) return // REDIS_URL: cannot restart someone else's server
        yield* Effect.promise(() => redis.restart())
        // Everything is gone (no persistence): scripts reload (NOSCRIPT), groups re-create (NOGROUP).
        yield* Effect.retry(store.append([msg(q, key, "after-restart")]), { times: 20 })
        expect(bodies(yield* readNow(store, q))).toEqual(["after-restart"])
      })).pipe(Effect.provideService(References.MinimumLogLevel, "Error"))
  })

  it.live("closing the store interrupts its blocking reads; an unreachable Redis is a StoreError", () =>
    Effect.gen(function*() {
      const result = yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* makeRedisStore({ redis: redis.url, namespace: freshNamespace(), onScript })
        const fiber = yield* Effect.forkDetach(store.read(wf("close"), { consumer: "c", count: 1, blockMs: 20_000 }))
        yield* sleep(100)
        return fiber
      }))
      const start = Date.now()
      const exit = yield* Fiber.await(result)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(Date.now() - start).toBeLessThan(2_000)
      const unreachable = yield* Effect.flip(
        Effect.scoped(makeRedisStore({ redis: "redis://127.0.0.1:1", namespace: "x" })),
      )
      expect(unreachable._tag).toBe("StoreError")
    }))
})

describe("on a Redis Cluster node", () => {
  it.live("CLUSTER KEYSLOT agrees with keySlot, and every script runs with real slot checks", () =>
    Effect.gen(function*() {
      const node = yield* Effect.promise(() => startRedis({ extraArgs: ["--cluster-enabled", "yes"] }))
      yield* Effect.addFinalizer(() => Effect.promise(() => node.stop()))
      const client = new Redis(node.url)
      yield* Effect.addFinalizer(() => Effect.promise(() => client.quit()))
      yield* Effect.promise(() => client.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383"))
      for (let i = 0; i < 250; i++) {
        if (String(yield* Effect.promise(() => client.call("CLUSTER", "INFO"))).includes("cluster_state:ok")) break
        yield* sleep(20)
      }
      const keys = makeKeys("shop", 8)
      const samples = ["a", "{x}y", "foo{}{bar}", "ünïcødé", ...Array.from({ length: 8 }, (_, p) => keys.exec(keyIn(p, "s")))]
      for (const k of samples) {
        expect(Number(yield* Effect.promise(() => client.call("CLUSTER", "KEYSLOT", k)))).toBe(keySlot(k))
      }
      // The non-blocking paths on a one-node cluster (the full cluster runs in test/redis/cluster*.test.ts).
      const store = yield* makeRedisStore({ redis: node.url, namespace: "cl", onScript })
      const q = wf("cluster")
      const a = keyIn(0, "ca")
      const b = keyIn(5, "cb")
      const now = yield* store.now
      yield* store.append([msg(q, a, "in"), msg(q, b, "other")])
      const first = yield* readNow(store, q)
      const input = first.find((d) => d.body === "in")
      const other = first.find((d) => d.body === "other")
      yield* store.touch(other!)
      yield* store.release([other!])
      yield* store.commit({
        key: a, expectedVersion: 0, state: "s", token: "t1", journal: { id: "r", from: 0, entries: ["j"] }, ack: input!, notify: true,
        messages: [msg(q, a, "local")], replies: [{ id: "q", body: "r" }],
        timers: [
          { id: "ta", fireAt: now - 1, message: msg(q, a, "timer-local") },
          { id: "tb", fireAt: now - 1, message: msg(q, b, "timer-remote") },
        ],
      })
      expect(yield* store.takeReply("q", 0)).toEqual(Option.some("r"))
      expect(yield* store.fireDueTimers(10)).toBe(2)
      const got: Array<string> = []
      for (let i = 0; i < 200 && got.length < 4; i++) {
        got.push(...bodies(yield* readNow(store, q, "c2")))
        if (got.length < 4) yield* sleep(25)
      }
      expect(got.sort()).toEqual(["local", "other", "timer-local", "timer-remote"])
    }).pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "None")), 30_000)
})

describe("slot discipline", () => {
  it.live("every script invocation of this file touched keys of one slot only", () =>
    Effect.sync(() => {
      const names = new Set(invocations.map((i) => i.name))
      expect([...names].sort()).toEqual(
        ["ack", "acquire", "append", "commit", "complete", "dead", "fire", "limits", "read", "readLanes", "redeliver", "relay", "release", "renew", "touch", "unlease"],
      )
      for (const { name, keys } of invocations) {
        const slots = new Set(keys.map(keySlot))
        expect({ name, slots: slots.size }).toEqual({ name, slots: 1 })
      }
    }))
})

describe("key layouts and durability on one Redis", () => {
  it.live("a namespace recorded before layouts existed keeps the legacy {ns:pN} tags; a new one records \"spread\"", () =>
    Effect.gen(function*() {
      const legacy = freshNamespace()
      yield* Effect.promise(() => admin.hset(`{${legacy}}:config`, "partitions", 8))
      const q = wf("layout")
      const old = yield* makeRedisStore({ redis: redis.url, namespace: legacy })
      yield* old.append([msg(q, "k", "legacy")])
      const p = makeKeys(legacy, 8, "legacy").partitionOf("k")
      expect(yield* Effect.promise(() => admin.xlen(`{${legacy}:p${p}}:s:workflow:layout`))).toBe(1)
      expect(bodies(yield* readNow(old, q))).toEqual(["legacy"])
      const fresh = freshNamespace()
      yield* makeRedisStore({ redis: redis.url, namespace: fresh })
      const spread = makeKeys(fresh, 8, "spread")
      // The partitions' hash tags are recorded for workers in other languages (docs/protocol.md, "Keys").
      expect(yield* Effect.promise(() => admin.hgetall(`{${fresh}}:config`))).toEqual({
        partitions: "8", layout: "spread", tags: Array.from({ length: 8 }, (_, i) => spread.tag(i)).join(" "), lanes: "1",
      })
      expect(yield* Effect.promise(() => admin.hget(`{${legacy}}:config`, "tags")))
        .toBe(Array.from({ length: 8 }, (_, i) => `{${legacy}:p${i}}`).join(" "))
    }).pipe(Effect.scoped))

  it.live("lanes 1 is the layout before lanes: a namespace recorded without lanes reads its old s:activity:<q> entries with the read script; it refuses 4 lanes", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const act: StreamAddress = { kind: "activity", taskQueue: "old-layout" }
      // A namespace as a store before lanes recorded it, with tasks in its streams (as protocol 2 wrote them).
      const keys = makeKeys(namespace, 8, "spread")
      yield* Effect.promise(() =>
        admin.hset(`{${namespace}}:config`, "partitions", 8, "layout", "spread", "tags", Array.from({ length: 8 }, (_, p) => keys.tag(p)).join(" ")))
      const old = Array.from({ length: 8 }, (_, p) => ({ p, key: keyIn(p, "old") }))
      for (const { p, key } of old) {
        expect(keys.stream(p, act)).toBe(`${keys.tag(p)}:s:activity:old-layout`)
        yield* Effect.promise(() => admin.xadd(keys.stream(p, act), "*", "k", key, "b", `old-${p}`))
      }
      const scripts: Array<ScriptName> = []
      // The scripts that touched the queue's streams (the relay reads its outboxes meanwhile).
      const store = yield* makeRedisStore({ redis: redis.url, namespace, onScript: (name, keys) => void (keys.some((k) => k.endsWith(":old-layout")) && scripts.push(name)) })
      expect(store.lanes).toBe(1)
      // New tasks of any workflow type join them in the same streams.
      yield* store.append([{ stream: act, key: old[3]!.key, body: "new", fairnessKey: "some-type" }])
      scripts.length = 0
      const got = yield* readNow(store, act)
      expect(bodies(got).sort()).toEqual([...old.map(({ p }) => `old-${p}`), "new"].sort())
      expect(got.every((d) => /^\d+\/\d+-\d+$/.test(d.id))).toBe(true)
      expect(new Set(scripts)).toEqual(new Set(["read"]))
      expect(scripts).toHaveLength(8)
      for (const d of got) yield* store.complete(d, [])
      expect(yield* Effect.promise(() => admin.hget(`{${namespace}}:config`, "lanes"))).toBeNull()
      const refused = yield* Effect.flip(Effect.scoped(makeRedisStore({ redis: redis.url, namespace, lanes: 4 })))
      expect(refused.message).toMatch(/has 1 lane per activity stream; this store is configured with 4/)
      const bad = yield* Effect.flip(Effect.scoped(makeRedisStore({ redis: redis.url, namespace: freshNamespace(), lanes: 0 })))
      expect(bad.message).toMatch(/lanes must be an integer in 1\.\.64, got 0/)
    }).pipe(Effect.scoped))

  it.live("lanes: a task goes to its fairness key's lane stream (lane 0 the old name), its delivery id names the lane; a read is one readLanes per partition; a blocking read wakes on any lane", () =>
    Effect.gen(function*() {
      const namespace = freshNamespace()
      const act: StreamAddress = { kind: "activity", taskQueue: "laned" }
      const scripts: Array<ScriptName> = []
      // The scripts that touched the queue's streams (the relay reads its outboxes meanwhile).
      const store = yield* makeRedisStore({ redis: redis.url, namespace, lanes: 4, onScript: (name, keys) => void (keys.some((k) => k.endsWith(":laned")) && scripts.push(name)) })
      expect(store.lanes).toBe(4)
      expect(yield* Effect.promise(() => admin.hget(`{${namespace}}:config`, "lanes"))).toBe("4")
      const keys = makeKeys(namespace, 8, "spread", 4)
      const typeIn = (lane: number) => {
        for (let i = 0; ; i++) if (laneOf(`type-${i}`, 4) === lane) return `type-${i}`
      }
      const key = keyIn(5, "laned")
      yield* store.append([0, 1, 2, 3].map((lane) => ({ stream: act, key, body: `lane-${lane}`, fairnessKey: typeIn(lane) })))
      expect(keys.stream(5, act, 0)).toBe(`${keys.tag(5)}:s:activity:laned`)
      for (const lane of [0, 1, 2, 3]) {
        const stream = lane === 0 ? `${keys.tag(5)}:s:activity:laned` : `${keys.tag(5)}:s:activity#${lane}:laned`
        expect(yield* Effect.promise(() => admin.xrange(stream, "-", "+"))).toMatchObject([[expect.any(String), ["k", key, "b", `lane-${lane}`]]])
      }
      scripts.length = 0
      const got = yield* readNow(store, act)
      expect(new Set(scripts)).toEqual(new Set(["readLanes"]))
      expect(scripts).toHaveLength(8)
      expect(bodies(got).sort()).toEqual(["lane-0", "lane-1", "lane-2", "lane-3"])
      for (const d of got) {
        const lane = Number(d.body.slice(5))
        expect(d.id).toMatch(lane === 0 ? /^5\/\d+-\d+$/ : new RegExp(`^5\\.${lane}/\\d+-\\d+$`))
        yield* store.complete(d, [])
      }
      expect((yield* store.describeStream(act)).length).toBe(0)
      // Nothing anywhere: the read blocks on every lane stream, and a task in lane 3 wakes it.
      const waiting = yield* Effect.forkChild(store.read(act, { consumer: "c", count: 5, blockMs: 5000 }))
      const blockedOn = () => Effect.promise(async () => String(await admin.client("LIST")).split("\n").filter((c) => / flags=b /.test(c) && / cmd=xreadgroup /.test(c)).length)
      while ((yield* blockedOn()) === 0) yield* sleep(5)
      yield* store.append([{ stream: act, key: keyIn(2, "late"), body: "late", fairnessKey: typeIn(3) }])
      const late = yield* Fiber.join(waiting)
      expect(bodies(late)).toEqual(["late"])
      expect(late[0]!.id).toMatch(/^2\.3\//)
    }).pipe(Effect.scoped))

  it.live("durability: a commit no replica acknowledged fails with a StoreError caused by ReplicasNotAcknowledged; with a replica it succeeds", () =>
    Effect.gen(function*() {
      const q = wf("durable")
      const lonely = yield* makeRedisStore({ redis: redis.url, namespace: freshNamespace(), durability: { replicas: 1, timeoutMs: 50 } })
      const failed = yield* Effect.flip(lonely.append([msg(q, "k", "x")]))
      expect(failed._tag).toBe("StoreError")
      expect(failed.message).toMatch(/durability: 0 of 1 replica of the server acknowledged the write within 50 ms/)
      expect((failed.cause as { _tag?: string })._tag).toBe("ReplicasNotAcknowledged")
      // The write itself stayed on the master (the caller retries; appends are at-least-once).
      expect(bodies(yield* readNow(lonely, q))).toEqual(["x"])

      if (redis.port === undefined) return // REDIS_URL: cannot attach a replica to someone else's server
      // Sync at once (the default waits 5 s for more replicas to share one transfer).
      yield* Effect.promise(() => admin.config("SET", "repl-diskless-sync-delay", "0"))
      const replica = yield* Effect.promise(() => startRedis({ extraArgs: ["--replicaof", "127.0.0.1", String(redis.port)] }))
      yield* Effect.addFinalizer(() => Effect.promise(() => replica.stop()))
      const link = new Redis(replica.url)
      yield* Effect.addFinalizer(() => Effect.sync(() => link.disconnect()))
      for (let i = 0; i < 500 && !(yield* Effect.promise(() => link.info("replication"))).includes("master_link_status:up"); i++) yield* sleep(20)
      const durable = yield* makeRedisStore({ redis: redis.url, namespace: freshNamespace(), durability: { replicas: 1, timeoutMs: 5_000 } })
      yield* durable.append([msg(q, "k", "y")])
      const [delivery] = yield* readNow(durable, q)
      yield* durable.commit({ key: "k", expectedVersion: 0, state: "s", token: "t", ack: delivery! })
      const namespaceKeys = yield* Effect.promise(() => link.keys("*:x:k"))
      expect(namespaceKeys.length).toBeGreaterThanOrEqual(1) // the replica had the record when commit returned
      const bad = yield* Effect.flip(Effect.scoped(makeRedisStore({ redis: redis.url, namespace: freshNamespace(), durability: { replicas: 0, timeoutMs: 10 } })))
      expect(bad.message).toMatch(/durability.replicas must be an integer ≥ 1/)
    }).pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "None")), 30_000)
})
