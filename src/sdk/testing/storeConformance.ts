/**
 * The executable `Store` contract: every backend must pass this suite.
 *
 * It uses only `StoreShape`, runs on the live clock (a backend's own clock
 * is what it tests), never sleeps to synchronise, and gives every test its own
 * task queues and keys, so it can run against one shared server. Tests run
 * sequentially; give the layer its own namespace so no other process fires
 * its timers meanwhile, and a visibility timeout longer than a test (≥ 10 s).
 *
 * @example
 * ```ts
 * // test/stores/myBackend.test.ts
 * import { storeConformance } from "hotmesh/testing"
 * storeConformance("my-backend", layerMyBackend({ maxDeliveries: 3 }), { maxDeliveries: 3 })
 * ```
 */
import { expect, layer } from "@effect/vitest"
import { Clock, Effect, Fiber, type Layer, Option } from "effect"
import {
  type Commit,
  type CommitConflict,
  compareIndexHits,
  type Delivery,
  type IndexHit,
  laneOf,
  type OutboundMessage,
  Store,
  type StoreShape,
  type StreamAddress,
} from "../../stores/Store.ts"
import { limitsConformance } from "./limitsConformance.ts"

/** The backend limits the suite must know about. */
export interface StoreConformanceOptions {
  /** The backend's delivery limit: the message is dead-lettered instead of delivery `maxDeliveries + 1`. */
  readonly maxDeliveries: number
  /**
   * The backend implements `Claim` (append and claim) on streams a consumer
   * has read: the suite then checks it claims exactly what a read would
   * have delivered new. Without it, claiming nothing is also accepted.
   */
  readonly claims?: boolean
}

let counter = 0
const runId = Math.random().toString(36).slice(2, 8)

/** Unique stream names and key for one test. */
const fixture = (label: string) => {
  const id = `${label}-${++counter}-${runId}`
  const key = `wf-${id}`
  const wf: StreamAddress = { kind: "workflow", taskQueue: `conf-${id}` }
  const act: StreamAddress = { kind: "activity", taskQueue: `conf-${id}` }
  const msg = (body: string, stream: StreamAddress = wf): OutboundMessage => ({ stream, key, body })
  return { id, key, wf, act, msg }
}

const readNow = (store: StoreShape, stream: StreamAddress, consumer = "c1", count = 1000) =>
  store.read(stream, { consumer, count, blockMs: 0 })

const bodies = (ds: ReadonlyArray<Delivery>) => ds.map((d) => d.body)

/** Fail the test instead of hanging when something that must complete does not. */
const guard = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.timeout(self, "5 seconds")

/** Every hit of `term`, over all index partitions, in `direction`, read `page` at a time. */
const scanAll = (store: StoreShape, term: string, direction: "ASC" | "DESC", page = 2) =>
  Effect.gen(function*() {
    const hits: Array<IndexHit> = []
    for (let p = 0; p < store.indexPartitions; p++) {
      let after: IndexHit | undefined
      for (;;) {
        const got: ReadonlyArray<IndexHit> = yield* store.scanIndex(p, term, { direction, limit: page, ...(after === undefined ? {} : { after }) })
        hits.push(...got)
        if (got.length < page) break
        after = got[got.length - 1]
      }
    }
    return hits.sort((a, b) => (direction === "ASC" ? compareIndexHits(a, b) : compareIndexHits(b, a)))
  })

const countAll = (store: StoreShape, term: string) =>
  Effect.map(
    Effect.forEach(Array.from({ length: store.indexPartitions }, (_, p) => p), (p) => store.countIndex(p, [term])),
    (counts) => counts.reduce((sum, [n]) => sum + (n ?? 0), 0),
  )

/** A fairness key whose lane (of `lanes`) is not `other`'s: any key when there is one lane. */
const keyInAnotherLane = (other: string, lanes: number) => {
  for (let i = 0; ; i++) if (lanes === 1 || laneOf(`trickle-${i}`, lanes) !== laneOf(other, lanes)) return `trickle-${i}`
}

const conflictOf = (self: Effect.Effect<void, unknown>) =>
  Effect.map(Effect.flip(self), (e) => e as CommitConflict)

/** Register the conformance suite for `layer` (a fresh store; `options` are its configured limits). */
export const storeConformance = (
  name: string,
  storeLayer: Layer.Layer<Store, unknown>,
  options: StoreConformanceOptions,
): void =>
  layer(storeLayer, { excludeTestServices: true })(`Store conformance: ${name}`, (it) => {
    it.effect("has a name and a clock", () =>
      Effect.gen(function*() {
        const store = yield* Store
        expect(store.name.length).toBeGreaterThan(0)
        const a = yield* store.now
        const b = yield* store.now
        expect(Number.isFinite(a)).toBe(true)
        expect(b).toBeGreaterThanOrEqual(a)
      }))

    it.effect("load/loadJournal of unknown keys are empty", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("empty")
        expect(Option.isNone(yield* store.load(f.key))).toBe(true)
        expect(yield* store.loadJournal(f.key, "run-1")).toEqual([])
        expect(yield* store.deadLetters(f.wf)).toEqual([])
        expect(yield* readNow(store, f.wf)).toEqual([])
      }))

    it.effect("commit writes state with version+1; omitting state keeps the version", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("version")
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "s1", token: "t1" })
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 1, token: "t1", state: "s1" }))
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2" })
        yield* store.commit({ key: f.key, expectedVersion: 2, expectedToken: "t2", messages: [f.msg("m")] })
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 2, token: "t2", state: "s2" }))
        expect(bodies(yield* readNow(store, f.wf))).toEqual(["m"])
      }))

    it.effect("a version conflict changes nothing", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("conflict")
        const now = yield* store.now
        yield* store.append([f.msg("input")])
        const [input] = yield* readNow(store, f.wf)
        yield* store.commit({
          key: f.key, expectedVersion: 0, state: "s1", token: "t1", journal: { id: "run", from: 0, entries: ["j1"] },
          timers: [{ id: `${f.id}-keep`, fireAt: now - 1, message: f.msg("timer-keep", f.act) }],
        })
        const bad: Commit = {
          key: f.key, expectedVersion: 0, state: "bad", token: "bad", journal: { id: "run", from: 0, entries: ["bad"] },
          messages: [f.msg("bad-msg", f.act)], cancelTimers: [`${f.id}-keep`],
          timers: [{ id: `${f.id}-new`, fireAt: now - 1, message: f.msg("timer-new", f.act) }],
          replies: [{ id: `${f.id}-reply`, body: "bad" }], ack: input!, notify: true,
        }
        const e = yield* conflictOf(store.commit(bad))
        expect(e._tag).toBe("CommitConflict")
        expect({ key: e.key, expectedVersion: e.expectedVersion, actualVersion: e.actualVersion, reason: e.reason })
          .toEqual({ key: f.key, expectedVersion: 0, actualVersion: 1, reason: "version" })
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 1, token: "t1", state: "s1" }))
        expect(yield* store.loadJournal(f.key, "run")).toEqual(["j1"])
        expect(yield* store.takeReply(`${f.id}-reply`, 0)).toEqual(Option.none())
        expect(yield* readNow(store, f.wf, "other")).toEqual([]) // input still pending, not released
        expect(yield* store.fireDueTimers(100)).toBe(1)
        expect(bodies(yield* readNow(store, f.act))).toEqual(["timer-keep"]) // kept, nothing new
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "t1", ack: input! }) // still pending: ack works
      }))

    it.effect("a commit names the write it expects: the right version with another token conflicts and changes nothing", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("token")
        yield* store.append([f.msg("input")])
        const [input] = yield* readNow(store, f.wf)
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "s1", token: "A", journal: { id: "run", from: 0, entries: ["j1"] } })
        // A guess of version 1 written by another commit (as a worker's cache or a client's Start
        // record is, after a store rollback reached version 1 again with other contents).
        const stale: Commit = {
          key: f.key, expectedVersion: 1, expectedToken: "B", state: "stale", token: "C",
          journal: { id: "run", from: 1, entries: ["stale"] }, messages: [f.msg("stale-msg", f.act)],
          replies: [{ id: `${f.id}-reply`, body: "stale" }], ack: input!, notify: true,
        }
        const e = yield* conflictOf(store.commit(stale))
        expect({ tag: e._tag, key: e.key, expectedVersion: e.expectedVersion, actualVersion: e.actualVersion, reason: e.reason })
          .toEqual({ tag: "CommitConflict", key: f.key, expectedVersion: 1, actualVersion: 1, reason: "version" })
        // A state-less commit (an ack, a query reply) is checked the same way, and naming no token means "".
        const { state: _s, token: _t, ...ackOnly } = stale
        expect((yield* conflictOf(store.commit({ ...ackOnly, messages: [], journal: { id: "run", from: 1, entries: [] } }))).reason).toBe("version")
        expect((yield* conflictOf(store.commit({ key: f.key, expectedVersion: 1, ack: input! }))).reason).toBe("version")
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 1, token: "A", state: "s1" }))
        expect(yield* store.loadJournal(f.key, "run")).toEqual(["j1"])
        expect(yield* store.takeReply(`${f.id}-reply`, 0)).toEqual(Option.none())
        expect(yield* readNow(store, f.act)).toEqual([])
        expect(yield* readNow(store, f.wf, "other")).toEqual([]) // input still pending
        // The write it names: commits, and the next commit must name the new token.
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "A", state: "s2", token: "D", ack: input! })
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 2, token: "D", state: "s2" }))
        expect((yield* conflictOf(store.commit({ key: f.key, expectedVersion: 2, expectedToken: "A", state: "s3", token: "E" }))).reason).toBe("version")
      }))

    it.effect("a version that comes round again (record gone, re-created) does not match a guess of the old write", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("reborn")
        const now = yield* store.now
        // Version 1 written as "A", then gone (here by retention; in production, a store restored from
        // a snapshot taken before it), then version 1 again, written as "B".
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "first", token: "A", journal: { id: "r1", from: 0, entries: ["a"] }, expire: { at: now - 1, record: true } })
        yield* store.fireDueTimers(10)
        expect(Option.isNone(yield* store.load(f.key))).toBe(true)
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "second", token: "B", journal: { id: "r1", from: 0, entries: ["b"] } })
        // A commit computed from the first write must not land on the second.
        const e = yield* conflictOf(store.commit({
          key: f.key, expectedVersion: 1, expectedToken: "A", state: "stale", token: "C", journal: { id: "r1", from: 1, entries: ["stale"] },
        }))
        expect({ reason: e.reason, actualVersion: e.actualVersion }).toEqual({ reason: "version", actualVersion: 1 })
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 1, token: "B", state: "second" }))
        expect(yield* store.loadJournal(f.key, "r1")).toEqual(["b"])
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "B", state: "next", token: "D", journal: { id: "r1", from: 1, entries: ["c"] } })
        expect(yield* store.loadJournal(f.key, "r1")).toEqual(["b", "c"])
      }))

    it.effect("journal entries are written from `from`: entries the expected record does not claim are cut first", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("journal-from")
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "s1", token: "t1", journal: { id: "r", from: 0, entries: ["a", "b", "c"] } })
        // The record claims one entry: "b" and "c" are not its history.
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2", journal: { id: "r", from: 1, entries: ["x"] } })
        expect(yield* store.loadJournal(f.key, "r")).toEqual(["a", "x"])
        yield* store.commit({ key: f.key, expectedVersion: 2, expectedToken: "t2", state: "s3", token: "t3", journal: { id: "r", from: 0, entries: ["y"] } })
        expect(yield* store.loadJournal(f.key, "r")).toEqual(["y"])
        // Shorter than `from` (entries lost outside the store): appended as it is.
        yield* store.commit({ key: f.key, expectedVersion: 3, expectedToken: "t3", journal: { id: "r", from: 5, entries: ["z"] } })
        expect(yield* store.loadJournal(f.key, "r")).toEqual(["y", "z"])
        // A conflicting commit cuts nothing.
        yield* conflictOf(store.commit({ key: f.key, expectedVersion: 3, expectedToken: "nope", journal: { id: "r", from: 0, entries: [] } }))
        expect(yield* store.loadJournal(f.key, "r")).toEqual(["y", "z"])
      }))

    it.effect("retention: an expired commit's journal goes, and its record unless rewritten since", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("expire")
        const other = `${f.key}-other`
        const now = yield* store.now
        // Closed run of f.key: journal and record expire.
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "closed", token: "t1", journal: { id: "r1", from: 0, entries: ["a"] }, expire: { at: now - 1, record: true } })
        // Continued run of `other`: the old journal expires, the record (next run) stays.
        yield* store.commit({ key: other, expectedVersion: 0, state: "next", token: "t1", journal: { id: "r1", from: 0, entries: ["b"] }, expire: { at: now - 1, record: false } })
        // A record written again after its expiry was set survives it.
        const third = `${f.key}-third`
        yield* store.commit({ key: third, expectedVersion: 0, state: "closed", token: "t1", journal: { id: "r1", from: 0, entries: ["c"] }, expire: { at: now + 150, record: true } })
        yield* store.commit({ key: third, expectedVersion: 1, expectedToken: "t1", state: "restarted", token: "t2", journal: { id: "r2", from: 0, entries: ["d"] } })
        yield* Effect.sleep(200)
        yield* store.fireDueTimers(10)
        expect(Option.isNone(yield* store.load(f.key))).toBe(true)
        expect(yield* store.loadJournal(f.key, "r1")).toEqual([])
        expect(Option.map(yield* store.load(other), (r) => r.state)).toEqual(Option.some("next"))
        expect(yield* store.loadJournal(other, "r1")).toEqual([])
        expect(Option.map(yield* store.load(third), (r) => r.state)).toEqual(Option.some("restarted"))
        expect(yield* store.loadJournal(third, "r2")).toEqual(["d"])
      }))

    it.effect("index: a commit lists its key under terms, scanned in (score, key) order from any hit, both ways", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("index")
        const term = `t-${f.id}`
        const other = `o-${f.id}`
        // Five keys, two pairs tied on score (ties order by key bytes), spread over partitions.
        const listed = [["b", 20], ["a", 20], ["c", 10], ["é", 30], ["d", 30]] as const
        for (const [suffix, score] of listed) {
          yield* store.commit({ key: `${f.key}-${suffix}`, expectedVersion: 0, state: "s", token: "t1", index: { remove: [], add: [{ term, score }, { term: other, score: 1 }], keep: [] } })
        }
        const ascending = ["c", "a", "b", "d", "é"].map((x) => `${f.key}-${x}`)
        expect((yield* scanAll(store, term, "ASC")).map((hit) => hit.key)).toEqual(ascending)
        expect((yield* scanAll(store, term, "DESC")).map((hit) => hit.key)).toEqual([...ascending].reverse())
        expect((yield* scanAll(store, term, "ASC")).map((hit) => hit.score)).toEqual([10, 20, 20, 30, 30])
        expect(yield* countAll(store, term)).toBe(5)
        // Moving one key: it leaves `other`, takes a new score in `term`.
        yield* store.commit({ key: `${f.key}-c`, expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2", index: { remove: [other], add: [{ term, score: 40 }], keep: [] } })
        expect((yield* scanAll(store, term, "ASC")).map((hit) => hit.key)).toEqual([...ascending.slice(1), `${f.key}-c`])
        expect(yield* countAll(store, other)).toBe(4)
        expect(yield* countAll(store, `none-${f.id}`)).toBe(0)
        expect(yield* scanAll(store, `none-${f.id}`, "DESC")).toEqual([])
        // A commit that loses its race writes no index entries.
        yield* conflictOf(store.commit({ key: `${f.key}-a`, expectedVersion: 0, state: "x", token: "t9", index: { remove: [], add: [{ term: `lost-${f.id}`, score: 1 }], keep: [] } }))
        expect(yield* countAll(store, `lost-${f.id}`)).toBe(0)
      }))

    it.effect("index: a record's retention removes its entries; a record written again keeps them", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("index-expire")
        const term = `t-${f.id}`
        const now = yield* store.now
        const stays = `s-${f.id}`
        const open = (key: string) => store.commit({ key, expectedVersion: 0, state: "open", token: "t0", index: { remove: [], add: [{ term: stays, score: 1 }], keep: [] } })
        const close = (key: string, at: number, record = true) =>
          store.commit({
            key, expectedVersion: 1, expectedToken: "t0", state: "closed", token: "t1",
            journal: { id: "r1", from: 0, entries: ["a"] }, expire: { at, record }, index: { remove: [], add: [{ term, score: 1 }], keep: [stays] },
          })
        for (const suffix of ["gone", "kept", "continued"]) yield* open(`${f.key}-${suffix}`)
        yield* close(`${f.key}-gone`, now - 1)
        yield* close(`${f.key}-kept`, now + 150)
        // Continued as new: the old run's journal expires, the record (the next run) and its entries stay.
        yield* close(`${f.key}-continued`, now - 1, false)
        yield* store.commit({ key: `${f.key}-kept`, expectedVersion: 2, expectedToken: "t1", state: "restarted", token: "t2", index: { remove: [], add: [{ term, score: 2 }], keep: [stays] } })
        yield* Effect.sleep(200)
        yield* store.fireDueTimers(10)
        expect((yield* scanAll(store, term, "ASC")).map((hit) => hit.key)).toEqual([`${f.key}-continued`, `${f.key}-kept`])
        expect(yield* countAll(store, term)).toBe(2)
        // The expired record left the terms it stayed in too.
        expect((yield* scanAll(store, stays, "ASC")).map((hit) => hit.key).sort()).toEqual([`${f.key}-continued`, `${f.key}-kept`])
      }))

    it.effect("settings: the first definition of a name wins; read by prefix", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("settings")
        expect(yield* store.defineSetting(`${f.id}:a`, "KEYWORD")).toBe("KEYWORD")
        expect(yield* store.defineSetting(`${f.id}:a`, "INT")).toBe("KEYWORD")
        expect(yield* store.defineSetting(`${f.id}:b`, "BOOL")).toBe("BOOL")
        const read = yield* store.readSettings(`${f.id}:`)
        expect([...read].sort()).toEqual([[`${f.id}:a`, "KEYWORD"], [`${f.id}:b`, "BOOL"]])
        expect(yield* store.readSettings(`none-${f.id}`)).toEqual([])
      }))

    it.effect("journal entries append in order, per key and journal id", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("journal")
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "s", token: "t1", journal: { id: "r1", from: 0, entries: ["a", "b"] } })
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "t1", journal: { id: "r1", from: 2, entries: ["c"] } })
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "t1", journal: { id: "r2", from: 0, entries: ["x"] } })
        expect(yield* store.loadJournal(f.key, "r1")).toEqual(["a", "b", "c"])
        expect(yield* store.loadJournal(f.key, "r2")).toEqual(["x"])
        expect(yield* store.loadJournal(`${f.key}-other`, "r1")).toEqual([])
      }))

    it.effect("payloads are stored exactly as given", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("payload")
        const odd = ["", " ", "\u0000nul", "ünïcødé 🚀", "{\"json\":true}", "x".repeat(100_000), "a\nb\r\n"]
        yield* store.commit({ key: f.key, expectedVersion: 0, state: odd[3]!, token: "t1", journal: { id: "r", from: 0, entries: odd } })
        yield* store.append(odd.map((b) => f.msg(b)))
        expect(yield* store.loadJournal(f.key, "r")).toEqual(odd)
        expect(Option.map(yield* store.load(f.key), (r) => r.state)).toEqual(Option.some(odd[3]))
        const got = yield* readNow(store, f.wf)
        expect(bodies(got)).toEqual(odd)
        expect(got.every((d) => d.key === f.key && d.stream.kind === "workflow" && d.stream.taskQueue === f.wf.taskQueue))
          .toBe(true)
      }))

    it.effect("append and read are FIFO, respect count, and deliver each message once", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("fifo")
        yield* store.append([f.msg("1"), f.msg("2"), f.msg("3")])
        yield* store.append([f.msg("4"), f.msg("a1", f.act), f.msg("5")])
        const first = yield* readNow(store, f.wf, "c1", 2)
        const rest = yield* readNow(store, f.wf, "c2")
        expect(bodies(first)).toEqual(["1", "2"])
        expect(bodies(rest)).toEqual(["3", "4", "5"])
        expect([...first, ...rest].every((d) => d.deliveries === 1)).toBe(true)
        expect(new Set([...first, ...rest].map((d) => d.id)).size).toBe(5)
        expect(bodies(yield* readNow(store, f.act))).toEqual(["a1"])
        expect(yield* readNow(store, f.wf, "c3")).toEqual([]) // pending on c1/c2: no second consumer
      }))

    it.effect("a blocking read wakes on append; concurrent readers never share a message", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("block")
        const reader = (consumer: string) => store.read(f.wf, { consumer, count: 10, blockMs: 300 })
        const a = yield* Effect.forkChild(reader("a"))
        const b = yield* Effect.forkChild(reader("b"))
        yield* store.append([f.msg("only")])
        const got = [...(yield* guard(Fiber.join(a))), ...(yield* guard(Fiber.join(b)))]
        expect(bodies(got)).toEqual(["only"])
      }))

    it.effect("a blocking read on an empty stream returns [] after blockMs", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("block-timeout")
        const start = yield* Clock.currentTimeMillis
        expect(yield* guard(store.read(f.wf, { consumer: "c", count: 1, blockMs: 30 }))).toEqual([])
        expect((yield* Clock.currentTimeMillis) - start).toBeGreaterThanOrEqual(25)
      }))

    it.effect("release makes a message deliverable again, keeping its delivery count", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("release")
        yield* store.append([f.msg("m")])
        const [d1] = yield* readNow(store, f.wf, "a")
        yield* store.release([d1!])
        const [d2] = yield* readNow(store, f.wf, "b")
        expect(d2).toEqual({ ...d1!, deliveries: 2 })
        expect(yield* readNow(store, f.wf, "c")).toEqual([])
      }))

    it.effect(`an uncounted release does not count toward the delivery limit: ${options.maxDeliveries + 2} uncounted releases, no dead letter`, () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("uncounted")
        yield* store.append([f.msg("interrupted")])
        for (let i = 1; i <= options.maxDeliveries + 2; i++) {
          const got = yield* readNow(store, f.wf, `u${i}`)
          expect(got.map((d) => [d.body, d.deliveries])).toEqual([["interrupted", 1]])
          yield* store.release(got, { uncounted: true })
        }
        const [counted] = yield* readNow(store, f.wf, "counted")
        yield* store.release([counted!])
        expect((yield* readNow(store, f.wf, "after")).map((d) => d.deliveries)).toEqual([2])
        expect(yield* store.deadLetters(f.wf)).toEqual([])
      }))

    it.effect("a touch after release does not take the message back; a released message behind others is delivered by the next read", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("release-touch")
        yield* store.append([f.msg("m1"), f.msg("m2")])
        const [d1, d2] = yield* store.read(f.wf, { consumer: "a", count: 2, blockMs: 0 })
        yield* store.release([d1!])
        yield* store.touch(d1!) // a late heartbeat of the consumer that gave it back
        const [again] = yield* readNow(store, f.wf, "b")
        expect(again?.body).toBe(d1!.body)
        // Released again after a later message was handed out: still found at once.
        yield* store.release([again!, d2!])
        const bodies = (yield* store.read(f.wf, { consumer: "c", count: 2, blockMs: 0 })).map((d) => d.body)
        expect(bodies.sort()).toEqual([d1!.body, d2!.body].sort())
      }))

    it.effect("touch keeps a message pending with its owner", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("touch")
        yield* store.append([f.msg("m")])
        const [d] = yield* readNow(store, f.wf, "a")
        yield* store.touch(d!)
        expect(yield* readNow(store, f.wf, "b")).toEqual([])
        yield* store.complete(d!, [])
        yield* store.release([d!])
        expect(yield* readNow(store, f.wf, "b")).toEqual([]) // acked: release does not resurrect it
      }))

    it.effect("commit acks its input; acking again is CommitConflict not-pending and changes nothing", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("ack-commit")
        yield* store.append([f.msg("in")])
        const [d] = yield* readNow(store, f.wf)
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "s1", token: "t1", ack: d! })
        yield* store.release([d!])
        expect(yield* readNow(store, f.wf, "other")).toEqual([])
        const e = yield* conflictOf(store.commit({
          key: f.key, expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2", ack: d!, messages: [f.msg("out", f.act)],
          journal: { id: "r", from: 0, entries: ["j"] },
        }))
        expect({ tag: e._tag, reason: e.reason, actualVersion: e.actualVersion })
          .toEqual({ tag: "CommitConflict", reason: "not-pending", actualVersion: 1 })
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 1, token: "t1", state: "s1" }))
        expect(yield* store.loadJournal(f.key, "r")).toEqual([])
        expect(yield* readNow(store, f.act)).toEqual([])
      }))

    it.effect("complete acks and appends atomically; completing a non-pending message is a no-op", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("complete")
        yield* store.append([f.msg("task", f.act)])
        const [d] = yield* readNow(store, f.act, "worker")
        yield* store.complete(d!, [f.msg("result-1"), f.msg("result-2")])
        expect(bodies(yield* readNow(store, f.wf))).toEqual(["result-1", "result-2"])
        yield* store.release([d!])
        expect(yield* readNow(store, f.act, "worker-2")).toEqual([])
        // Decision (see Store.complete): a duplicate completion succeeds and appends nothing.
        yield* store.complete(d!, [f.msg("duplicate")])
        expect(yield* readNow(store, f.wf)).toEqual([])
        const e = yield* conflictOf(store.commit({ key: f.key, expectedVersion: 0, ack: d! }))
        expect(e.reason).toBe("not-pending")
      }))

    it.effect("a commit may acknowledge an activity task of its key; it and the task's completion exclude each other", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("ack-task")
        // The step that consumed a report unwritten acknowledges the task itself: the completion after it is a no-op.
        yield* store.append([f.msg("task-1", f.act), f.msg("task-2", f.act)])
        const [first, second] = yield* readNow(store, f.act, "worker")
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "s1", token: "t1", ack: first!, messages: [f.msg("next", f.act)] })
        yield* store.complete(first!, [f.msg("report-1")])
        expect(yield* readNow(store, f.wf)).toEqual([])
        // The completion first: the step's commit is not-pending and changes nothing.
        yield* store.complete(second!, [f.msg("report-2")])
        const e = yield* conflictOf(store.commit({ key: f.key, expectedVersion: 1, expectedToken: "t1", state: "s2", token: "t2", ack: second! }))
        expect(e.reason).toBe("not-pending")
        expect(yield* store.load(f.key)).toEqual(Option.some({ key: f.key, version: 1, token: "t1", state: "s1" }))
        expect(bodies(yield* readNow(store, f.wf))).toEqual(["report-2"])
        expect(bodies(yield* readNow(store, f.act, "worker-2"))).toEqual(["next"])
      }))

    it.effect("a commit's claim delivers what a read would deliver new, pending on the claiming consumer", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("claim-commit")
        expect(yield* readNow(store, f.act, "w")).toEqual([]) // a consumer has read the stream (it exists)
        yield* store.append([f.msg("older", f.act)])
        const result = yield* store.commit({
          key: f.key, expectedVersion: 0, state: "s1", token: "t1",
          messages: [f.msg("a", f.act), f.msg("b", f.act)], claim: { stream: f.act, consumer: "w", count: 2 },
        })
        const claimed = result ?? []
        const rest = yield* readNow(store, f.act, "other")
        // Every message exactly once: claimed (oldest first), or still there for a read.
        expect([...bodies(claimed), ...bodies(rest)]).toEqual(["older", "a", "b"])
        if (options.claims === true) expect(bodies(claimed)).toEqual(["older", "a"])
        for (const d of claimed) {
          expect({ stream: d.stream, key: d.key, deliveries: d.deliveries }).toEqual({ stream: f.act, key: f.key, deliveries: 1 })
          yield* store.complete(d, []) // pending: completing it acknowledges it
        }
        yield* store.release(rest)
        expect(bodies(yield* readNow(store, f.act, "third"))).toEqual(bodies(rest)) // claimed and completed: gone
      }))

    it.effect("a completion's claim delivers its own report; a failed write claims nothing", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("claim-complete")
        expect(yield* readNow(store, f.wf, "engine")).toEqual([])
        yield* store.append([f.msg("task", f.act)])
        const [d] = yield* readNow(store, f.act, "worker")
        const claim = { stream: f.wf, consumer: "engine", count: 1 }
        const claimed = (yield* store.complete(d!, [f.msg("report")], claim)) ?? []
        const read = yield* readNow(store, f.wf, "other")
        expect([...bodies(claimed), ...bodies(read)]).toEqual(["report"])
        if (options.claims === true) expect(claimed.map((c) => ({ body: c.body, key: c.key, deliveries: c.deliveries }))).toEqual([{ body: "report", key: f.key, deliveries: 1 }])
        yield* store.release(read)
        // A duplicate completion writes nothing, so claims nothing, even with a message there to claim.
        yield* store.append([f.msg("waiting")])
        expect((yield* store.complete(d!, [f.msg("duplicate")], claim)) ?? []).toEqual([])
        // A commit that conflicts writes nothing and claims nothing.
        const e = yield* conflictOf(store.commit({ key: f.key, expectedVersion: 7, state: "x", token: "t9", claim }))
        expect(e.reason).toBe("version")
        const left = yield* readNow(store, f.wf, "last")
        expect(bodies(left).sort()).toEqual([...(claimed.length === 0 ? ["report"] : []), "waiting"].sort())
      }))

    it.effect(`dead-letters a message instead of delivering it more than ${options.maxDeliveries} times`, () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("dlq")
        yield* store.append([f.msg("poison")])
        let last: Delivery | undefined
        for (let i = 1; i <= options.maxDeliveries; i++) {
          const got = yield* readNow(store, f.wf, `c${i}`)
          expect(got.map((d) => [d.body, d.deliveries])).toEqual([["poison", i]])
          last = got[0]
          yield* store.release(got)
        }
        yield* store.append([f.msg("healthy")])
        expect(bodies(yield* readNow(store, f.wf, "next"))).toEqual(["healthy"])
        const dead = yield* store.deadLetters(f.wf)
        expect(dead.length).toBe(1)
        expect({ ...dead[0]!.delivery }).toEqual({ ...last! })
        expect(dead[0]!.reason.length).toBeGreaterThan(0)
        expect(Number.isFinite(dead[0]!.at)).toBe(true)
        expect((yield* conflictOf(store.commit({ key: f.key, expectedVersion: 0, ack: last! }))).reason)
          .toBe("not-pending")
        expect(yield* readNow(store, f.wf, "again")).toEqual([])
      }))

    it.effect("deadLetter parks a pending message at once with its reason, and acks it", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("deadnow")
        const odd = "{\"type\":\"Start\"} \u0000 ünïcødé"
        yield* store.append([f.msg(odd), f.msg("after")])
        const [bad, good] = yield* readNow(store, f.wf, "c1")
        const before = yield* store.now
        expect(yield* store.deadLetter(bad!, "cannot decode: missing workflowId")).toBe(true)
        // Not pending any more: a second dead-lettering, an ack or a completion changes nothing.
        expect(yield* store.deadLetter(bad!, "again")).toBe(false)
        expect((yield* conflictOf(store.commit({ key: f.key, expectedVersion: 0, ack: bad! }))).reason).toBe("not-pending")
        yield* store.release([bad!, good!])
        expect(bodies(yield* readNow(store, f.wf, "c2"))).toEqual(["after"])
        const dead = yield* store.deadLetters(f.wf)
        expect(dead.length).toBe(1)
        expect(dead[0]!.id.length).toBeGreaterThan(0)
        expect({ ...dead[0]!.delivery, stream: { ...dead[0]!.delivery.stream } }).toEqual({ ...bad!, stream: { ...bad!.stream } })
        expect(dead[0]!.reason).toBe("cannot decode: missing workflowId")
        expect(dead[0]!.at).toBeGreaterThanOrEqual(before - 1000)
        expect(yield* store.deadLetters(f.act)).toEqual([])
        // A message never delivered (or another stream's) is not pending: nothing happens.
        expect(yield* store.deadLetter({ ...good!, stream: f.act }, "wrong stream")).toBe(false)
      }))

    it.effect("retryDeadLetter re-appends the original message as new and removes the dead letter", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("deadretry")
        yield* store.append([f.msg("one", f.act), f.msg("two", f.act)])
        const [one, two] = yield* readNow(store, f.act, "c1")
        yield* store.deadLetter(one!, "r1")
        yield* store.deadLetter(two!, "r2")
        const dead = yield* store.deadLetters(f.act)
        expect(dead.map((d) => d.delivery.body)).toEqual(["one", "two"])
        expect(yield* store.retryDeadLetter(f.act, dead[1]!.id)).toBe(true)
        expect(yield* store.retryDeadLetter(f.act, dead[1]!.id)).toBe(false)
        expect(yield* store.retryDeadLetter(f.wf, dead[0]!.id)).toBe(false)
        expect(yield* store.retryDeadLetter(f.act, "no-such-id")).toBe(false)
        expect((yield* store.deadLetters(f.act)).map((d) => d.delivery.body)).toEqual(["one"])
        const again = yield* readNow(store, f.act, "c2")
        expect(again.map((d) => [d.key, d.body, d.deliveries])).toEqual([[f.key, "two", 1]])
        // A retried message is an ordinary one: it can be acknowledged.
        yield* store.complete(again[0]!, [])
        expect(yield* readNow(store, f.act, "c3")).toEqual([])
      }))

    it.effect("purgeDeadLetters deletes the named dead letters, or all of a stream's", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("deadpurge")
        yield* store.append([f.msg("a"), f.msg("b"), f.msg("c"), f.msg("x", f.act)])
        for (const d of yield* readNow(store, f.wf, "c1")) yield* store.deadLetter(d, "bad")
        for (const d of yield* readNow(store, f.act, "c1")) yield* store.deadLetter(d, "bad")
        const dead = yield* store.deadLetters(f.wf)
        expect(yield* store.purgeDeadLetters(f.wf, [dead[1]!.id, "no-such-id"])).toBe(1)
        expect((yield* store.deadLetters(f.wf)).map((d) => d.delivery.body)).toEqual(["a", "c"])
        expect(yield* store.purgeDeadLetters(f.wf, [])).toBe(0)
        expect(yield* store.purgeDeadLetters(f.wf)).toBe(2)
        expect(yield* store.deadLetters(f.wf)).toEqual([])
        expect((yield* store.deadLetters(f.act)).map((d) => d.delivery.body)).toEqual(["x"])
      }))

    it.effect("describeStream: depth, pending and its age, consumers with what they hold, dead letters", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("describe")
        expect(yield* store.describeStream(f.wf)).toEqual({ length: 0, pending: 0, consumers: [], deadLetters: 0 })
        yield* store.append([f.msg("a"), f.msg("b"), f.msg("c"), f.msg("d"), f.msg("e")])
        const [a, b] = yield* readNow(store, f.wf, "c1", 2)
        const [c] = yield* readNow(store, f.wf, "c2", 1)
        yield* store.deadLetter(c!, "bad")
        yield* store.release([b!])
        const d = yield* store.describeStream(f.wf)
        // a is held by c1; b was given back (delivered, not acknowledged, held by nobody); c is a dead letter; d, e wait.
        expect({ ...d, consumers: [] }).toMatchObject({ length: 4, pending: 2, deadLetters: 1 })
        expect(d.oldestPendingMs).toBeGreaterThanOrEqual(0)
        expect(d.oldestPendingMs).toBeLessThan(60_000)
        expect(d.consumers.map((x) => [x.name, x.pending]).sort()).toEqual([["c1", 1], ["c2", 0]])
        for (const consumer of d.consumers) expect(consumer.idleMs).toBeGreaterThanOrEqual(0)
        yield* store.complete(a!, [])
        const after = yield* store.describeStream(f.wf)
        expect([after.length, after.pending, after.deadLetters]).toEqual([3, 1, 1])
        expect(after.consumers.find((x) => x.name === "c1")?.pending).toBe(0)
        // The other stream of the task queue is its own.
        expect(yield* store.describeStream(f.act)).toEqual({ length: 0, pending: 0, consumers: [], deadLetters: 0 })
      }))

    it.effect("dueTimers counts the timers due by the store clock, not the later ones", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("due")
        yield* store.fireDueTimers(10_000)
        const before = yield* store.dueTimers
        const now = yield* store.now
        yield* store.commit({
          key: f.key, expectedVersion: 0,
          timers: [1, 2].map((i) => ({ id: `${f.id}-due-${i}`, fireAt: now - 10 * i, message: f.msg(`due-${i}`) }))
            .concat([{ id: `${f.id}-later`, fireAt: now + 86_400_000, message: f.msg("later") }]),
        })
        expect(yield* store.dueTimers).toBe(before + 2)
        yield* store.fireDueTimers(10_000)
        expect(yield* store.dueTimers).toBe(0)
        yield* store.commit({ key: f.key, expectedVersion: 0, cancelTimers: [`${f.id}-later`] })
      }))

    it.effect("timers fire once, when due, in fireAt order (ties by insertion)", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("timers")
        const now = yield* store.now
        const t = (id: string, fireAt: number) => ({ id: `${f.id}-${id}`, fireAt, message: f.msg(id) })
        yield* store.commit({ key: f.key, expectedVersion: 0, timers: [t("future", now + 86_400_000)] })
        yield* store.commit({
          key: f.key, expectedVersion: 0,
          timers: [t("A", now - 100), t("B", now - 300), t("C", now - 200), t("D", now - 300)],
        })
        const next = yield* store.nextTimerAt
        expect(Option.isSome(next) && next.value <= now - 300).toBe(true)
        expect(yield* store.fireDueTimers(2)).toBe(2)
        expect(yield* store.fireDueTimers(100)).toBe(2)
        expect(yield* store.fireDueTimers(100)).toBe(0)
        expect(bodies(yield* readNow(store, f.wf))).toEqual(["B", "D", "C", "A"])
        yield* store.commit({ key: f.key, expectedVersion: 0, cancelTimers: [`${f.id}-future`] })
        expect(yield* store.fireDueTimers(100)).toBe(0)
        expect(yield* readNow(store, f.wf)).toEqual([])
      }))

    it.effect("fireDueTimers never exceeds its limit, fires every due timer across keys, and none early", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("timer-limit")
        const now = yield* store.now
        const keys = Array.from({ length: 20 }, (_, i) => `${f.key}-${i}`)
        for (const [i, key] of keys.entries()) {
          yield* store.commit({
            key, expectedVersion: 0,
            timers: [
              { id: `${f.id}-due-${i}`, fireAt: now - 100 + i, message: { stream: f.wf, key, body: `due-${i}` } },
              { id: `${f.id}-later-${i}`, fireAt: now + 86_400_000, message: { stream: f.wf, key, body: `later-${i}` } },
            ],
          })
        }
        expect(yield* store.fireDueTimers(1)).toBe(1)
        expect(yield* store.fireDueTimers(3)).toBe(3)
        expect(yield* store.fireDueTimers(5)).toBe(5)
        expect(yield* store.fireDueTimers(100)).toBe(11)
        expect(yield* store.fireDueTimers(100)).toBe(0)
        expect(bodies(yield* readNow(store, f.wf)).sort()).toEqual(keys.map((_, i) => `due-${i}`).sort())
        yield* store.commit({ key: keys[0]!, expectedVersion: 0, cancelTimers: keys.map((_, i) => `${f.id}-later-${i}`) })
      }))

    it.effect("a timer with an existing id replaces it; cancelTimers removes it", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("timer-replace")
        const now = yield* store.now
        const t = (id: string, fireAt: number, body: string) => ({ id: `${f.id}-${id}`, fireAt, message: f.msg(body) })
        yield* store.commit({ key: f.key, expectedVersion: 0, timers: [t("x", now - 10, "old"), t("y", now - 10, "y")] })
        yield* store.commit({ key: f.key, expectedVersion: 0, timers: [t("x", now - 5, "new")] })
        yield* store.commit({ key: f.key, expectedVersion: 0, cancelTimers: [`${f.id}-y`, `${f.id}-unknown`] })
        yield* store.commit({ key: f.key, expectedVersion: 0, timers: [t("z", now - 10, "z-old")] })
        yield* store.commit({ key: f.key, expectedVersion: 0, timers: [t("z", now + 86_400_000, "z-late")] })
        expect(yield* store.fireDueTimers(100)).toBe(1)
        expect(bodies(yield* readNow(store, f.wf))).toEqual(["new"])
        yield* store.commit({ key: f.key, expectedVersion: 0, cancelTimers: [`${f.id}-z`] })
      }))

    it.effect("replies are taken once; takeReply waits for a reply and times out", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("reply")
        yield* store.commit({ key: f.key, expectedVersion: 0, replies: [{ id: `${f.id}-q1`, body: "answer" }] })
        expect(yield* store.takeReply(`${f.id}-q1`, 0)).toEqual(Option.some("answer"))
        expect(yield* store.takeReply(`${f.id}-q1`, 0)).toEqual(Option.none())
        const waiting = yield* Effect.forkChild(store.takeReply(`${f.id}-q2`, 10_000))
        yield* store.commit({ key: f.key, expectedVersion: 0, replies: [{ id: `${f.id}-q2`, body: "later" }] })
        expect(yield* guard(Fiber.join(waiting))).toEqual(Option.some("later"))
        const start = yield* Clock.currentTimeMillis
        expect(yield* guard(store.takeReply(`${f.id}-q3`, 30))).toEqual(Option.none())
        expect((yield* Clock.currentTimeMillis) - start).toBeGreaterThanOrEqual(25)
      }))

    it.effect("awaitUpdate wakes on a notifying commit, returns at once past one, and ignores commits that do not notify", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("await")
        const timesOut = (afterVersion: number) =>
          Effect.gen(function*() {
            const start = yield* Clock.currentTimeMillis
            yield* guard(store.awaitUpdate(f.key, afterVersion, 30))
            expect((yield* Clock.currentTimeMillis) - start).toBeGreaterThanOrEqual(25)
          })
        yield* store.commit({ key: f.key, expectedVersion: 0, state: "s1", token: "t1" })
        // Version 1 moved past 0, but without `notify`: nobody waiting for a notification is woken.
        yield* timesOut(0)
        const waiter = yield* Effect.forkChild(store.awaitUpdate(f.key, 1, 60_000))
        yield* store.commit({ key: f.key, expectedVersion: 1, expectedToken: "t1", state: "closed", token: "t2", notify: true })
        const woken = yield* guard(Fiber.join(waiter))
        // A backend may send the notifying commit's record along with the wake: it is then what `load` returns.
        if (woken !== undefined) {
          const loaded = Option.getOrThrow(yield* store.load(f.key))
          expect({ key: woken.key, version: woken.version, token: woken.token, state: woken.state })
            .toEqual({ key: loaded.key, version: loaded.version, token: loaded.token, state: loaded.state })
        }
        // Started after the notifying commit: returns at once (no notification can be missed).
        yield* guard(store.awaitUpdate(f.key, 1, 60_000))
        yield* guard(store.awaitUpdate(f.key, 0, 60_000))
        yield* timesOut(2)
        yield* store.commit({ key: f.key, expectedVersion: 2, expectedToken: "t2", state: "s3", token: "t3" })
        yield* timesOut(2)
      }))

    it.effect("fair sharing: a task of another fairness key starts within the first lanes × count, however many wait before it", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("fair")
        const lanes = store.lanes
        expect(Number.isInteger(lanes) && lanes >= 1).toBe(true)
        const trickle = keyInAnotherLane("flood", lanes)
        const flood = 30
        const count = 3
        // One routing key for all: one partition of a partitioned backend, FIFO per key when there is one lane.
        yield* store.append(Array.from({ length: flood }, (_, i): OutboundMessage => ({ ...f.msg(`a${i}`, f.act), fairnessKey: "flood" })))
        yield* store.append([{ ...f.msg("b", f.act), fairnessKey: trickle }])
        const started: Array<string> = []
        for (let reads = 0; started.length < flood + 1 && reads <= flood; reads++) {
          const got = yield* readNow(store, f.act, "c1", count)
          expect(got.length).toBeLessThanOrEqual(count)
          for (const d of got) {
            started.push(d.body)
            yield* store.complete(d, [])
          }
        }
        expect(started.filter((b) => b !== "b")).toEqual(Array.from({ length: flood }, (_, i) => `a${i}`))
        if (lanes === 1) expect(started.indexOf("b")).toBe(flood)
        else expect(started.indexOf("b")).toBeLessThan(lanes * count)
      }))

    it.effect("a task read from another lane than the first is released, touched, completed, dead-lettered and retried like any", () =>
      Effect.gen(function*() {
        const store = yield* Store
        const f = fixture("lane-ops")
        const fairnessKey = keyInAnotherLane("", store.lanes)
        const task = (body: string): OutboundMessage => ({ ...f.msg(body, f.act), fairnessKey })
        yield* store.append([task("x"), task("y")])
        const [x, y] = yield* readNow(store, f.act)
        expect([x?.body, y?.body]).toEqual(["x", "y"])
        yield* store.touch(x!)
        yield* store.release([x!])
        const [again] = yield* readNow(store, f.act)
        expect(again?.body).toBe("x")
        expect(again?.deliveries).toBe(2)
        yield* store.complete(again!, [f.msg("done")])
        expect(bodies(yield* readNow(store, f.wf))).toEqual(["done"])
        expect(yield* store.deadLetter(y!, "bad")).toBe(true)
        const [letter] = yield* store.deadLetters(f.act)
        expect(letter?.delivery.body).toBe("y")
        expect(yield* store.retryDeadLetter(f.act, letter!.id)).toBe(true)
        const [retried] = yield* readNow(store, f.act)
        expect(retried?.body).toBe("y")
        yield* store.commit({ key: f.key, expectedVersion: 0, ack: retried! })
        expect((yield* store.describeStream(f.act)).length).toBe(0)
        expect(yield* readNow(store, f.act)).toEqual([])
      }))

    limitsConformance(it)
  })
