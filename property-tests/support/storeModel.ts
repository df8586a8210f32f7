/**
 * A model-based test of the `Store` contract: `fc.commands` drives append,
 * read, commit (with and without ack, with stale versions or another write's
 * token, journal entries from the end or cutting it, claiming or not), complete (claiming or not), release,
 * touch, deadLetter, timers and time against a backend and a simple in-test model, and
 * checks every answer the backend gives.
 *
 * Backend-agnostic: the target is a `Store` layer. What the model demands is
 * the contract (`src/stores/Store.ts`), not one backend's internals: FIFO for
 * new messages (messages a single fireDueTimers call appends may come in any
 * order), redeliveries (released or stalled) before new messages, a batch as
 * long as `count` allows, acks by message id, release/touch only by the
 * current delivery, dead-lettering at `maxDeliveries`, version (and token)
 * conflicts before "not pending" ones, cancellations before new timers in a
 * commit, a journal cut to `from` before new entries.
 *
 * With `virtualTime` the suite provides a `VirtualClock` as Effect's `Clock`
 * and generates time jumps (visibility timeouts, timers); a backend on its own
 * clock (Redis) runs with `virtualTime: false`: timers are far in the past or
 * future and no message stalls (give it a long visibility timeout).
 */
import { deepStrictEqual, ok } from "node:assert/strict"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import fc from "fast-check"
import { describe, it } from "vitest"
import { VirtualClock } from "../../src/sdk/testing/internal/virtualClock.ts"
import { assertProperty, numRuns, timeoutFor } from "./check.ts"
import { type Claim, type Commit, type Delivery, type OutboundMessage, Store, type StoreShape, type StreamAddress } from "../../src/stores/Store.ts"

export interface StoreModelTarget {
  /** A fresh, empty store (called once per generated command sequence). */
  readonly layer: () => Layer.Layer<Store, unknown>
  readonly maxDeliveries: number
  readonly visibilityTimeoutMs: number
  readonly virtualTime: boolean
  /** Called before each read: wait until messages written so far are readable (e.g. an outbox relay). */
  readonly settle?: (store: StoreShape) => Effect.Effect<void>
}

const STREAMS: ReadonlyArray<StreamAddress> = [{ kind: "workflow", taskQueue: "q1" }, { kind: "activity", taskQueue: "q1" }, { kind: "workflow", taskQueue: "q2" }]
const KEYS = ["k1", "k2"]
const TIMER_IDS = ["t1", "t2", "t3"]
const JOURNALS = ["r1", "r2"]
const nameOf = (s: StreamAddress) => `${s.kind}:${s.taskQueue}`

type MState = "fresh" | "pending" | "released" | "done" | "dead"
interface MMsg { readonly body: string; readonly stream: string; readonly key: string; state: MState; deliveries: number; deadline: number; readonly group: number; readonly index: number }

interface Model {
  now: number
  counter: number
  group: number
  readonly msgs: Map<string, MMsg>
  readonly records: Map<string, { version: number; token: string; state: string }>
  readonly journals: Map<string, Array<string>>
  readonly timers: Map<string, { fireAt: number; seq: number; message: OutboundMessage }>
  timerSeq: number
  /** Deliveries handed out so far (the real side holds the `Delivery` objects at the same indices). */
  readonly held: Array<{ readonly body: string; readonly deliveries: number }>
  readonly deadLetters: Map<string, number>
}

interface Real {
  readonly store: StoreShape
  readonly run: <A, E>(effect: Effect.Effect<A, E, never>) => Promise<A>
  readonly clock: VirtualClock | undefined
  readonly held: Array<Delivery>
  readonly target: StoreModelTarget
}

type Cmd = fc.AsyncCommand<Model, Real, false>

/** How often the interesting cases happened (all runs of this process): print it to judge the generators. */
export const storeModelStats: Record<string, number> = {}
const tally = (what: string, n = 1) => void (n > 0 && (storeModelStats[what] = (storeModelStats[what] ?? 0) + n))

/** On a backend's own clock, the model's `now` follows the store's before each command. */
const refresh = async (m: Model, r: Real): Promise<void> => {
  if (r.clock === undefined) m.now = await r.run(r.store.now)
}

const START = 1_000_000_000

const appendModel = (m: Model, messages: ReadonlyArray<OutboundMessage>, unordered = false): void => {
  const group = ++m.group
  messages.forEach((msg, index) =>
    m.msgs.set(msg.body, { body: msg.body, stream: nameOf(msg.stream), key: msg.key, state: "fresh", deliveries: 0, deadline: 0, group, index: unordered ? 0 : index }))
}
const newMessages = (m: Model, specs: ReadonlyArray<readonly [number, number]>, prefix = "m"): Array<OutboundMessage> =>
  specs.map(([s, k]) => ({ stream: STREAMS[s % STREAMS.length]!, key: KEYS[k % KEYS.length]!, body: `${prefix}${++m.counter}` }))
const isPending = (msg: MMsg | undefined) => msg !== undefined && (msg.state === "pending" || msg.state === "released")
/** A held delivery: mostly one of the latest three (the current deliveries), sometimes any (often stale). */
const heldAt = (m: Model, i: number) =>
  m.held.length === 0 ? undefined : i % 4 === 0 ? (i >> 2) % m.held.length : Math.max(0, m.held.length - 1 - ((i >> 2) % 3))

const msgSpec = fc.tuple(fc.nat(2), fc.nat(1))
const claimArb = fc.option(fc.tuple(fc.nat(STREAMS.length - 1), fc.integer({ min: 1, max: 3 })), { nil: undefined, freq: 2 })
const messagesArb = fc.array(msgSpec, { maxLength: 3 })

class AppendCmd implements Cmd {
  constructor(readonly specs: ReadonlyArray<readonly [number, number]>) {}
  check = () => true
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const messages = newMessages(m, this.specs)
    await r.run(r.store.append(messages))
    appendModel(m, messages)
  }
  toString = () => `append(${JSON.stringify(this.specs)})`
}

class ReadCmd implements Cmd {
  constructor(readonly stream: number, readonly count: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const address = STREAMS[this.stream]!
    const name = nameOf(address)
    if (r.target.settle !== undefined) await r.run(r.target.settle(r.store))
    const got = await r.run(r.store.read(address, { consumer: `c${this.count}`, count: this.count, blockMs: 0 }))
    const dead = await r.run(r.store.deadLetters(address))
    const newlyDead = dead.slice(m.deadLetters.get(name) ?? 0).map((d) => d.delivery.body)
    const deliverable = [...m.msgs.values()].filter((x) => x.stream === name &&
      (x.state === "fresh" || x.state === "released" || (x.state === "pending" && x.deadline <= m.now)))
    const what = `${this}: got ${JSON.stringify(got.map((d) => [d.body, d.deliveries]))}, dead-lettered ${JSON.stringify(newlyDead)}`
    ok(got.length <= this.count, `${what}: more than count`)
    deepStrictEqual(new Set(got.map((d) => d.body)).size, got.length, `${what}: a message twice in one batch`)
    for (const d of got) {
      const msg = deliverable.find((x) => x.body === d.body)
      ok(msg !== undefined, `${what}: ${d.body} was not deliverable`)
      deepStrictEqual([d.key, nameOf(d.stream), d.deliveries], [msg.key, name, msg.deliveries + 1], `${what}: delivery of ${d.body}`)
      ok(d.deliveries <= r.target.maxDeliveries, `${what}: delivered more than maxDeliveries`)
    }
    for (const body of newlyDead) {
      const msg = deliverable.find((x) => x.body === body)
      ok(msg !== undefined && msg.deliveries >= r.target.maxDeliveries, `${what}: ${body} dead-lettered early`)
    }
    const handled = new Set([...got.map((d) => d.body), ...newlyDead])
    if (got.length < this.count) deepStrictEqual(deliverable.filter((x) => !handled.has(x.body)).map((x) => x.body), [], `${what}: deliverable messages left behind`)
    const fresh = got.map((d) => m.msgs.get(d.body)!).filter((x) => x.state === "fresh")
    if (fresh.length > 0) {
      deepStrictEqual(deliverable.filter((x) => x.state !== "fresh" && !handled.has(x.body)).map((x) => x.body), [], `${what}: new messages before redeliveries`)
    }
    const order = (x: MMsg) => x.group * 1000 + x.index
    const expectedFresh = deliverable.filter((x) => x.state === "fresh").map(order).sort((a, b) => a - b).slice(0, fresh.length)
    deepStrictEqual(fresh.map(order), expectedFresh, `${what}: new messages out of order`)
    tally("deliveries", got.length)
    tally("redeliveries", got.filter((d) => d.deliveries > 1).length)
    tally("stalled redeliveries", got.filter((d) => m.msgs.get(d.body)!.state === "pending").length)
    tally("dead letters", newlyDead.length)
    for (const d of got) {
      const msg = m.msgs.get(d.body)!
      Object.assign(msg, { state: "pending", deliveries: d.deliveries, deadline: m.now + r.target.visibilityTimeoutMs })
      m.held.push({ body: d.body, deliveries: d.deliveries })
      r.held.push(d)
    }
    for (const body of newlyDead) m.msgs.get(body)!.state = "dead"
    m.deadLetters.set(name, dead.length)
  }
  toString = () => `read(${nameOf(STREAMS[this.stream]!)}, ${this.count})`
}

interface CommitSpec {
  readonly key: number
  readonly version: "current" | "ahead" | "behind"
  /** "other": the right version named with another write's token (a guess from before a rollback). */
  readonly token: "current" | "other"
  readonly state: boolean
  /** Journal id, entry count, and where they start: the journal's end, or an index (cutting what lies beyond). */
  readonly journal: readonly [number, number, "end" | number]
  readonly messages: ReadonlyArray<readonly [number, number]>
  readonly timers: ReadonlyArray<readonly [number, number, number, number]>
  readonly cancel: ReadonlyArray<number>
  readonly ack: number | undefined
  /** Also claim up to this many new messages of this stream (`Claim`): [stream, count]. */
  readonly claim: readonly [number, number] | undefined
}

/** The claim of a write: a consumer of its own, so claimed deliveries are told apart from reads. */
const claimOf = (spec: readonly [number, number] | undefined): Claim | undefined =>
  spec === undefined ? undefined : { stream: STREAMS[spec[0] % STREAMS.length]!, consumer: "claimer", count: spec[1] }

/**
 * Check what a write claimed against the model (Store.ts `Claim`): at most
 * `count`, each new (never delivered) on the claimed stream, and per key the
 * oldest new ones first (a partitioned backend claims from one partition,
 * so across keys any subset will do); then hold them like read deliveries.
 */
const checkClaimed = (m: Model, r: Real, claim: Claim | undefined, claimed: ReadonlyArray<Delivery>, what: string): void => {
  if (claim === undefined) {
    deepStrictEqual(claimed.length, 0, `${what}: claimed without a claim`)
    return
  }
  const name = nameOf(claim.stream)
  ok(claimed.length <= claim.count, `${what}: claimed more than count`)
  const order = (x: MMsg) => x.group * 1000 + x.index
  for (const d of claimed) {
    const msg = m.msgs.get(d.body)
    ok(msg !== undefined && msg.stream === name && msg.state === "fresh", `${what}: claimed ${d.body}, not new on ${name}`)
    deepStrictEqual([d.key, nameOf(d.stream), d.deliveries], [msg.key, name, 1], `${what}: claimed delivery of ${d.body}`)
    const older = [...m.msgs.values()].filter((x) => x.stream === name && x.key === d.key && x.state === "fresh" && order(x) < order(msg))
    deepStrictEqual(older.filter((x) => !claimed.some((c) => c.body === x.body)).map((x) => x.body), [], `${what}: claimed ${d.body} before older new messages of its key`)
  }
  tally("claimed", claimed.length)
  for (const d of claimed) {
    Object.assign(m.msgs.get(d.body)!, { state: "pending", deliveries: 1, deadline: m.now + r.target.visibilityTimeoutMs })
    m.held.push({ body: d.body, deliveries: 1 })
    r.held.push(d)
  }
}

class CommitCmd implements Cmd {
  constructor(readonly spec: CommitSpec, readonly delays: ReadonlyArray<number>) {}
  check = () => true
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const s = this.spec
    const key = KEYS[s.key]!
    const actual = m.records.get(key)?.version ?? 0
    const actualToken = m.records.get(key)?.token ?? ""
    const expectedVersion = s.version === "current" ? actual : s.version === "ahead" ? actual + 1 : Math.max(0, actual - 1)
    const expectedToken = s.token === "current" ? actualToken : `other${++m.counter}`
    const jk = `${key}/${JOURNALS[s.journal[0]]}`
    const journalLength = m.journals.get(jk)?.length ?? 0
    const from = s.journal[2] === "end" ? journalLength : s.journal[2]
    const heldIndex = s.ack === undefined ? undefined : heldAt(m, s.ack)
    const entries = Array.from({ length: s.journal[1] }, () => `j${++m.counter}`)
    const messages = newMessages(m, s.messages)
    const timers = s.timers.map(([id, delay, st, k]) => ({ id: TIMER_IDS[id]!, fireAt: m.now + this.delays[delay % this.delays.length]!, message: newMessages(m, [[st, k]], "t")[0]! }))
    const commit: Commit = {
      key, expectedVersion,
      ...(expectedToken === "" ? {} : { expectedToken }),
      ...(s.state ? { state: `s${++m.counter}`, token: `w${++m.counter}` } : {}),
      ...(entries.length > 0 ? { journal: { id: JOURNALS[s.journal[0]]!, from, entries } } : {}),
      ...(messages.length > 0 ? { messages } : {}),
      ...(timers.length > 0 ? { timers } : {}),
      ...(s.cancel.length > 0 ? { cancelTimers: s.cancel.map((i) => TIMER_IDS[i]!) } : {}),
      ...(heldIndex === undefined ? {} : { ack: r.held[heldIndex]! }),
      ...(s.claim === undefined ? {} : { claim: claimOf(s.claim)! }),
    }
    const outcome = await r.run(Effect.result(r.store.commit(commit)))
    const acked = heldIndex === undefined ? undefined : m.msgs.get(m.held[heldIndex]!.body)
    const reason = expectedVersion !== actual || expectedToken !== actualToken ? "version" : heldIndex !== undefined && !isPending(acked) ? "not-pending" : undefined
    const what = `${this} (version ${actual}, ack ${acked?.body}:${acked?.state})`
    tally(reason === undefined ? (acked === undefined ? "commits" : "commits with ack") : `conflicts (${reason})`)
    if (reason !== undefined) {
      ok(outcome._tag === "Failure" && outcome.failure._tag === "CommitConflict", `${what}: expected CommitConflict (${reason}), got ${JSON.stringify(outcome)}`)
      const conflict = outcome.failure
      deepStrictEqual([conflict.reason, conflict.actualVersion, conflict.expectedVersion, conflict.key], [reason, actual, expectedVersion, key], what)
      return
    }
    ok(outcome._tag === "Success", `${what}: expected success, got ${JSON.stringify(outcome)}`)
    if (commit.state !== undefined) m.records.set(key, { version: actual + 1, token: commit.token, state: commit.state })
    if (entries.length > 0) m.journals.set(jk, [...(m.journals.get(jk) ?? []).slice(0, from), ...entries])
    appendModel(m, messages)
    for (const id of commit.cancelTimers ?? []) m.timers.delete(id)
    for (const t of timers) m.timers.set(t.id, { fireAt: t.fireAt, seq: ++m.timerSeq, message: t.message })
    if (acked !== undefined) acked.state = "done"
    checkClaimed(m, r, commit.claim, outcome.success ?? [], what)
  }
  toString = () => `commit(${JSON.stringify(this.spec)})`
}

class CompleteCmd implements Cmd {
  constructor(readonly ack: number, readonly specs: ReadonlyArray<readonly [number, number]>, readonly claim: readonly [number, number] | undefined) {}
  check = (m: Readonly<Model>) => m.held.length > 0
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const i = heldAt(m, this.ack)!
    const messages = newMessages(m, this.specs)
    const claim = claimOf(this.claim)
    const claimed = (await r.run(r.store.complete(r.held[i]!, messages, claim))) ?? []
    const msg = m.msgs.get(m.held[i]!.body)!
    tally(isPending(msg) ? "completes" : "late completes")
    if (!isPending(msg)) {
      deepStrictEqual(claimed.length, 0, `${this}: a late completion claimed`) // a no-op: writes and claims nothing
      return
    }
    msg.state = "done"
    appendModel(m, messages)
    checkClaimed(m, r, claim, claimed, `${this}`)
  }
  toString = () => `complete(held ${this.ack}, ${JSON.stringify(this.specs)}, claim ${JSON.stringify(this.claim)})`
}

class ReleaseCmd implements Cmd {
  constructor(readonly acks: ReadonlyArray<number>) {}
  check = (m: Readonly<Model>) => m.held.length > 0
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const indices = [...new Set(this.acks.map((a) => heldAt(m, a)!))]
    await r.run(r.store.release(indices.map((i) => r.held[i]!)))
    for (const i of indices) {
      const msg = m.msgs.get(m.held[i]!.body)!
      if (msg.state === "pending" && msg.deliveries === m.held[i]!.deliveries) msg.state = "released"
    }
  }
  toString = () => `release(held ${JSON.stringify(this.acks)})`
}

class DeadLetterCmd implements Cmd {
  constructor(readonly ack: number) {}
  check = (m: Readonly<Model>) => m.held.length > 0
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const i = heldAt(m, this.ack)!
    const delivery = r.held[i]!
    const msg = m.msgs.get(m.held[i]!.body)!
    const reason = `undecodable ${this.ack}`
    const parked = await r.run(r.store.deadLetter(delivery, reason))
    // By message id, whichever delivery names it: a pending or released message is parked, anything else is not.
    deepStrictEqual(parked, isPending(msg), `${this}: deadLetter of ${msg.body} (${msg.state})`)
    tally(parked ? "dead-lettered at once" : "late dead-letterings")
    if (!parked) return
    const dead = await r.run(r.store.deadLetters(delivery.stream))
    const name = nameOf(delivery.stream)
    deepStrictEqual(dead.length, (m.deadLetters.get(name) ?? 0) + 1, `${this}: one more dead letter`)
    const last = dead[dead.length - 1]!
    deepStrictEqual([last.delivery.body, last.delivery.key, last.reason], [msg.body, msg.key, reason], `${this}: the dead letter`)
    msg.state = "dead"
    m.deadLetters.set(name, dead.length)
  }
  toString = () => `deadLetter(held ${this.ack})`
}

class TouchCmd implements Cmd {
  constructor(readonly ack: number) {}
  check = (m: Readonly<Model>) => m.held.length > 0
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const i = heldAt(m, this.ack)!
    await r.run(r.store.touch(r.held[i]!))
    const msg = m.msgs.get(m.held[i]!.body)!
    if (msg.state === "pending" && msg.deliveries === m.held[i]!.deliveries) msg.deadline = m.now + r.target.visibilityTimeoutMs
  }
  toString = () => `touch(held ${this.ack})`
}

const dueTimers = (m: Readonly<Model>) =>
  [...m.timers].filter(([, t]) => t.fireAt <= m.now).sort(([, a], [, b]) => a.fireAt - b.fireAt || a.seq - b.seq)

class FireCmd implements Cmd {
  constructor(readonly limit: number) {}
  /** With a limit, which of several equally due timers fires is the backend's choice: only when unambiguous. */
  check = (m: Readonly<Model>) => {
    const due = dueTimers(m)
    return due.length <= this.limit || due[this.limit - 1]![1].fireAt !== due[this.limit]![1].fireAt
  }
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const due = dueTimers(m).slice(0, this.limit)
    const fired = await r.run(r.store.fireDueTimers(this.limit))
    deepStrictEqual(fired, due.length, `${this}: timers fired (due: ${JSON.stringify(due.map(([id, t]) => [id, t.fireAt - m.now]))})`)
    tally("timers fired", fired)
    for (const [id] of due) m.timers.delete(id)
    appendModel(m, due.map(([, t]) => t.message), true)
  }
  toString = () => `fireDueTimers(${this.limit})`
}

class AdvanceCmd implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    await refresh(m, r)
    r.clock!.jumpTo(m.now + this.ms)
    m.now += this.ms
  }
  toString = () => `advance(${this.ms})`
}

class InspectCmd implements Cmd {
  constructor(readonly key: number, readonly journal: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    await refresh(m, r)
    const key = KEYS[this.key]!
    const record = await r.run(r.store.load(key))
    const model = m.records.get(key)
    deepStrictEqual(record, model === undefined ? Option.none() : Option.some({ key, ...model }), `${this}: load`)
    const journal = await r.run(r.store.loadJournal(key, JOURNALS[this.journal]!))
    deepStrictEqual(journal, m.journals.get(`${key}/${JOURNALS[this.journal]}`) ?? [], `${this}: loadJournal`)
    const next = await r.run(r.store.nextTimerAt)
    const times = [...m.timers.values()].map((t) => t.fireAt)
    deepStrictEqual(next, times.length === 0 ? Option.none() : Option.some(Math.min(...times)), `${this}: nextTimerAt`)
  }
  toString = () => `inspect(${KEYS[this.key]}, ${JOURNALS[this.journal]})`
}

/** The command sequences for `target`. */
export const storeCommands = (target: StoreModelTarget) => {
  const vis = target.visibilityTimeoutMs
  const delays = target.virtualTime ? [-1000, 0, 1, 500, vis, 10 * vis] : [-1_000_000_000, 1_000_000_000]
  const commit = fc.record({
    key: fc.nat(KEYS.length - 1),
    version: fc.constantFrom<CommitSpec["version"]>("current", "current", "current", "ahead", "behind"),
    token: fc.constantFrom<CommitSpec["token"]>("current", "current", "current", "current", "other"),
    state: fc.boolean(),
    journal: fc.tuple(fc.nat(JOURNALS.length - 1), fc.nat(2), fc.oneof({ weight: 4, arbitrary: fc.constant("end" as const) }, { weight: 1, arbitrary: fc.nat(3) })),
    messages: messagesArb,
    timers: fc.array(fc.tuple(fc.nat(TIMER_IDS.length - 1), fc.nat(), fc.nat(2), fc.nat(1)), { maxLength: 2 }),
    cancel: fc.array(fc.nat(TIMER_IDS.length - 1), { maxLength: 2 }),
    ack: fc.option(fc.nat(), { nil: undefined, freq: 3 }),
    claim: claimArb,
  }).map((spec) => new CommitCmd(spec, delays))
  const commands: Array<fc.Arbitrary<Cmd>> = [
    messagesArb.map((specs) => new AppendCmd(specs)),
    fc.tuple(fc.nat(STREAMS.length - 1), fc.integer({ min: 1, max: 4 })).map(([s, n]) => new ReadCmd(s, n)),
    commit,
    fc.tuple(fc.nat(), messagesArb, claimArb).map(([a, specs, claim]) => new CompleteCmd(a, specs, claim)),
    fc.array(fc.nat(), { minLength: 1, maxLength: 2 }).map((acks) => new ReleaseCmd(acks)),
    fc.nat().map((a) => new TouchCmd(a)),
    fc.nat().map((a) => new DeadLetterCmd(a)),
    fc.constantFrom(1, 2, 100).map((limit) => new FireCmd(limit)),
    fc.tuple(fc.nat(KEYS.length - 1), fc.nat(JOURNALS.length - 1)).map(([k, j]) => new InspectCmd(k, j)),
  ]
  if (target.virtualTime) commands.push(fc.constantFrom(1, vis / 2, vis, 3 * vis).map((ms) => new AdvanceCmd(ms)))
  return fc.commands(commands, { maxCommands: 80, size: "large" })
}

/** Run one generated command sequence against a fresh store from `target`. */
export const runStoreModel = async (target: StoreModelTarget, commands: Iterable<Cmd>): Promise<void> => {
  const clock = target.virtualTime ? new VirtualClock(START) : undefined
  const runtime = ManagedRuntime.make(clock === undefined ? target.layer() : Layer.merge(target.layer(), clock.layer))
  try {
    const store = await runtime.runPromise(Effect.gen(function* () {
      return yield* Store
    }))
    const run = <A, E>(effect: Effect.Effect<A, E, never>) => runtime.runPromise(effect)
    const model: Model = {
      now: await run(store.now), counter: 0, group: 0, msgs: new Map(), records: new Map(), journals: new Map(), timers: new Map(), timerSeq: 0, held: [], deadLetters: new Map(),
    }
    const real: Real = { store, run, clock, held: [], target }
    await fc.asyncModelRun(() => ({ model, real }), commands)
  } finally {
    await runtime.dispose()
  }
}

/** Register the model test of one backend (`file`: the test file under property-tests/, for the reproduction command). */
export const storeModelSuite = (name: string, target: StoreModelTarget, file = "storeModel.test.ts"): void => {
  const RUNS = numRuns(50)
  describe(`Store model: ${name}`, () => {
    it(`agrees with the model (${RUNS} command sequences)`, async () => {
      for (const key of Object.keys(storeModelStats)) delete storeModelStats[key]
      await assertProperty(
        { file, test: `Store model: ${name}` },
        fc.asyncProperty(storeCommands(target), (commands) => runStoreModel(target, commands)),
        RUNS,
      )
      if (process.env.STORE_STATS !== undefined) console.log(name, storeModelStats)
    }, timeoutFor(RUNS, 500))
  })
}
