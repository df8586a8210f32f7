/**
 * The in-memory `Store` backend: the embedded default, and the backend tests
 * run on with virtual time.
 *
 * Every operation runs synchronously inside one `Effect.sync`/`suspend` thunk
 * and never yields halfway, so each one is atomic. Time comes from the calling
 * fiber's `Clock` (so a `TestClock` drives visibility timeouts, timers and
 * `now`); blocking operations park on wakers instead of polling, bounded by
 * `Effect.sleep`. Wakers are always fired at the *end* of an operation,
 * because resuming an Effect callback runs the woken fiber synchronously.
 *
 * Cost: append, read, ack, release, touch and timers are O(1) or O(log n) in
 * the number of in-flight messages / timers. Acknowledged messages are freed.
 *
 * What a writer hands over with its value attached (`EncodedValue`: message
 * bodies, states) is kept as that holder, not as text: the
 * text is computed only if someone reads it, and readers get the holder back
 * on the `Delivery` or `ExecutionRecord` and skip decoding.
 */
import { Clock, Context, Effect, Layer, Option } from "effect"
import { attachEncodedValue, type Claim, type Commit, compareIndexHits, type IndexHit, CommitConflict, type DeadLetter, type Delivery, type EncodedValue, encodedValue, type ExecutionRecord } from "./Store.ts"
import { type OutboundMessage, Store, type StoreShape, type StreamAddress, type StreamDescription, type TimerEntry } from "./Store.ts"
import { InvalidArgumentError } from "../core/errors.ts"
import { laneOf, MAX_LANES } from "../core/lanes.ts"
import { Fifo, type HeapNode, IndexedHeap, Waiters } from "./internal/collections.ts"
import { makeMemoryLimits } from "./internal/memoryLimits.ts"

/** Tuning for `makeMemoryStore`. */
export interface MemoryStoreOptions {
  /** A delivered, unacknowledged message is re-delivered after this long idle. Default 30 000. */
  readonly visibilityTimeoutMs?: number
  /** A message is dead-lettered instead of being delivered more often than this. Default 10. */
  readonly maxDeliveries?: number
  /**
   * Lanes of every activity stream (1..64; `StoreShape.lanes`): new tasks of
   * a fairness key wait in their lane's FIFO and reads take from the lanes in
   * turn. Default 1 (one FIFO, as before lanes). Anything else is a defect
   * (`InvalidArgumentError`).
   */
  readonly lanes?: number
}

/** What could still happen without time passing (see `MemoryStore.progress`). */
export interface MemoryProgress {
  /** Messages a consumer is about to take or is processing: unread on a stream whose reader waits in `read`, or a delivered workflow message. */
  readonly runnable: number
  /** Delivered activity tasks: activities running. */
  readonly running: number
  /** Unread messages on streams no reader is waiting on (busy or absent consumers). */
  readonly stranded: number
  /** Operations so far; unchanged across a pause means nothing moved. */
  readonly operations: number
}

/** The memory store plus the control surface the time-skipping test environment uses. */
export interface MemoryStore extends StoreShape {
  /** A snapshot of what could progress without time passing. */
  readonly progress: Effect.Effect<MemoryProgress>
  /** Messages appended but not yet acknowledged (unread + delivered-not-acked), all streams. */
  readonly pendingMessages: Effect.Effect<number>
  /** Completes once `pendingMessages` is 0 (at once if it already is). */
  readonly awaitIdle: Effect.Effect<void>
  /** The earliest pending timer (what `nextTimerAt` times), with its message. */
  readonly nextTimer: Effect.Effect<Option.Option<TimerEntry>>
}

/** Service tag giving tests (and `TestWorkflowEnvironment`) the `MemoryStore` behind `Store`. */
export class MemoryStoreControl
  extends Context.Service<MemoryStoreControl, MemoryStore>()("hotmesh/MemoryStoreControl")
{}

// ---------------------------------------------------------------------------
// Messages, timers and expirations (the collections are in ./internal/collections.ts)

const FRESH = 0 // appended, never delivered: in its lane of `fresh`
const PENDING = 1 // delivered, not acknowledged: in `inFlight`
const RELEASED = 2 // given back: in `released`, awaiting re-delivery
const DONE = 3 // acknowledged or dead-lettered: freed

interface Message extends HeapNode {
  readonly id: string; readonly key: string; readonly source: OutboundMessage; deliveries: number; status: number
  /** When it was appended (store clock). */
  readonly appendedAt: number
  /** The consumer it was last delivered to. */
  consumer: string
  /** Its lane of `StreamState.fresh` (0 on a workflow stream). */
  readonly lane: number
}

/** A delivery of `m`: its body is read from what was appended (encoded then, if it carries its value). */
const deliveryOf = (m: Message, stream: StreamAddress): Delivery => {
  const source = m.source
  const holder = source[encodedValue]
  return holder === undefined
    ? { id: m.id, stream, key: m.key, body: source.body, deliveries: m.deliveries, appendedAt: m.appendedAt }
    : attachEncodedValue<Delivery>({ id: m.id, stream, key: m.key, get body() { return source.body }, deliveries: m.deliveries, appendedAt: m.appendedAt }, holder)
}

/**
 * A stored state: its text, or the holder it came with; `notified` is the
 * version of the record's last commit with `notify` (what `awaitUpdate` waits past).
 */
type StoredState =
  | { readonly version: number; readonly token: string; readonly notified: number; readonly text: string; readonly holder?: undefined }
  | { readonly version: number; readonly token: string; readonly notified: number; readonly holder: EncodedValue }


interface StreamState {
  readonly name: string
  readonly address: StreamAddress
  nextId: number
  /** Every message of the stream not yet acknowledged or dead-lettered, by id. */
  readonly live: Map<string, Message>
  /** New messages, one FIFO per lane (one on a workflow stream), read in turn from `turn`. */
  readonly fresh: ReadonlyArray<Fifo<Message>>
  /** The lane the next read of new messages starts at. */
  turn: number
  /** The lane of each dead letter not in lane 0, by id (a retried one goes back to it). */
  readonly deadLanes: Map<string, number>
  readonly released: Fifo<Message>
  /** Pending messages ordered by visibility deadline. */
  readonly inFlight: IndexedHeap<Message>
  readonly deadLetters: Array<DeadLetter>
  /** Each consumer that has read the stream, and when it last did (store clock). */
  readonly consumers: Map<string, number>
  /** Bumped whenever something may have become deliverable (closes the lost-wakeup gap). */
  signal: number
}

interface Timer extends HeapNode { readonly id: string; readonly message: OutboundMessage }

/** A closed run's journal (and maybe its record, if still the write named `recordToken`) to delete at `at`. */
interface Expiration extends HeapNode {
  readonly key: string
  readonly journalId: string
  readonly recordToken: string | undefined
  /** The index terms the record is listed under, removed with it. */
  readonly terms: ReadonlyArray<string>
}

/**
 * One visibility-index term: key → score, and the hits in order, sorted
 * again on the first scan after a write (writes stay O(1); a list pays for
 * the order it reads).
 */
class IndexTerm {
  readonly scores = new Map<string, number>()
  private sorted: Array<IndexHit> | undefined
  set(key: string, score: number): void {
    if (this.scores.get(key) === score) return
    this.scores.set(key, score)
    this.sorted = undefined
  }
  delete(key: string): void {
    if (this.scores.delete(key)) this.sorted = undefined
  }
  /** Hits in ascending order (a shared array: callers do not modify it). */
  ordered(): ReadonlyArray<IndexHit> {
    this.sorted ??= Array.from(this.scores, ([key, score]) => ({ key, score })).sort(compareIndexHits)
    return this.sorted
  }
}

/** Up to `limit` hits of `hits` (ascending) in `direction`, strictly after `after`. */
const scanOrdered = (hits: ReadonlyArray<IndexHit>, direction: "ASC" | "DESC", after: IndexHit | undefined, limit: number): ReadonlyArray<IndexHit> => {
  // First index not at or before `after` in ascending order (binary search).
  let lo = 0
  let hi = hits.length
  if (after !== undefined) {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareIndexHits(hits[mid] as IndexHit, after) <= 0) lo = mid + 1
      else hi = mid
    }
  }
  if (direction === "ASC") return hits.slice(after === undefined ? 0 : lo, (after === undefined ? 0 : lo) + limit)
  // Descending: the hits strictly before `after`, last first.
  let end = hits.length
  if (after !== undefined) {
    end = lo
    while (end > 0 && compareIndexHits(hits[end - 1] as IndexHit, after) >= 0) end--
  }
  return hits.slice(Math.max(0, end - limit), end).reverse()
}


/** What a claim that claimed nothing (or a write without one) returns. */
const NOTHING: ReadonlyArray<Delivery> = []

/** What the store keeps of an appended message: a copy, or the message itself when it carries its value (its writer never changes it). */
const keptMessage = (m: OutboundMessage): OutboundMessage =>
  m[encodedValue] !== undefined
    ? m
    : m.fairnessKey === undefined
    ? { stream: { kind: m.stream.kind, taskQueue: m.stream.taskQueue }, key: m.key, body: m.body }
    : { stream: { kind: m.stream.kind, taskQueue: m.stream.taskQueue }, key: m.key, body: m.body, fairnessKey: m.fairnessKey }

// ---------------------------------------------------------------------------

/** Build a fresh, empty in-memory store. */
export const makeMemoryStore = (options?: MemoryStoreOptions): Effect.Effect<MemoryStore> =>
  Effect.sync(() => {
    const visibilityMs = options?.visibilityTimeoutMs ?? 30_000
    const maxDeliveries = options?.maxDeliveries ?? 10
    const lanes = options?.lanes ?? 1
    if (!Number.isInteger(lanes) || lanes < 1 || lanes > MAX_LANES) {
      throw new InvalidArgumentError({ message: `lanes must be an integer in 1..${MAX_LANES}, got ${lanes}` })
    }

    const streams = new Map<string, StreamState>()
    const records = new Map<string, StoredState>()
    const journals = new Map<string, Array<string>>()
    const timers = new Map<string, Timer>()
    const timerHeap = new IndexedHeap<Timer>()
    const expirations = new IndexedHeap<Expiration>()
    const replies = new Map<string, string>()
    const index = new Map<string, IndexTerm>()
    const settings = new Map<string, string>()
    const readers = new Waiters() // by stream name
    const replyWaiters = new Waiters() // by reply id
    const updateWaiters = new Waiters() // by key
    const idleWaiters = new Waiters() // one key: ""
    let pendingCount = 0
    let seq = 0
    /** Streams whose readers must be woken when the current operation ends. */
    const toWake: Array<string> = []

    const streamOf = (address: StreamAddress): StreamState => {
      const name = address.kind + ":" + address.taskQueue
      let s = streams.get(name)
      if (s === undefined) {
        const frozen = Object.freeze({ kind: address.kind, taskQueue: address.taskQueue })
        const fresh = Array.from({ length: address.kind === "activity" ? lanes : 1 }, () => new Fifo<Message>())
        s = { name, address: frozen, nextId: 1, live: new Map(), signal: 0, deadLetters: [] as Array<DeadLetter>, consumers: new Map(),
          fresh, turn: 0, deadLanes: new Map(), released: new Fifo<Message>(), inFlight: new IndexedHeap<Message>() }
        streams.set(name, s)
      }
      return s
    }

    const markReadable = (s: StreamState): void => {
      s.signal++
      if (readers.has(s.name)) toWake.push(s.name)
    }

    let operations = 0

    /** Fire the wakers collected during an operation; call last. */
    const flush = (): void => {
      operations++
      if (pendingCount === 0) idleWaiters.wake("")
      while (toWake.length > 0) {
        const name = toWake.pop()!
        // Nothing left to read (a claim took what was appended): the readers keep waiting, unwoken.
        const s = streams.get(name)
        if (s !== undefined && s.released.size === 0 && s.fresh.every((lane) => lane.size === 0)) continue
        readers.wake(name)
      }
    }

    /** The lane of `s` a new message `m` waits in: its fairness key's (0 without one, or with one lane). */
    const laneFor = (s: StreamState, m: OutboundMessage): number =>
      s.fresh.length === 1 || m.fairnessKey === undefined ? 0 : laneOf(m.fairnessKey, s.fresh.length)

    /** Append `m` to its fairness key's lane (or to `intoLane`: a retried dead letter's). */
    const appendOne = (m: OutboundMessage, now: number, intoLane?: number): void => {
      const s = streamOf(m.stream)
      const id = String(s.nextId++)
      const lane = intoLane ?? laneFor(s, m)
      const msg: Message = { id, key: m.key, source: keptMessage(m), deliveries: 0, status: FRESH, at: 0, seq: 0, heapIndex: -1, appendedAt: now, consumer: "", lane }
      s.live.set(id, msg)
      s.fresh[lane]!.push(msg)
      pendingCount++
      markReadable(s)
    }

    /** The live message `d` names, if it has been delivered and not acknowledged. */
    const findPending = (d: Delivery): Message | undefined => {
      const m = streams.get(d.stream.kind + ":" + d.stream.taskQueue)?.live.get(d.id)
      return m !== undefined && m.deliveries > 0 ? m : undefined
    }

    const free = (s: StreamState, m: Message): void => {
      s.live.delete(m.id)
      s.inFlight.remove(m)
      m.status = DONE
      pendingCount--
    }

    const acknowledge = (d: Delivery, m: Message): void => free(streamOf(d.stream), m)

    /** Add a dead letter; its id is the message's (message ids are never reused within a stream). */
    const park = (s: StreamState, m: Message, reason: string, now: number): void => {
      s.deadLetters.push(Object.freeze({ id: m.id, delivery: Object.freeze(deliveryOf(m, s.address)), reason, at: now }))
      if (m.lane !== 0) s.deadLanes.set(m.id, m.lane)
    }

    const deliver = (s: StreamState, m: Message, now: number, consumer: string, out: Array<Delivery>): void => {
      if (m.deliveries >= maxDeliveries) {
        free(s, m)
        park(s, m, `delivered ${m.deliveries} times without acknowledgement (maxDeliveries ${maxDeliveries})`, now)
        return
      }
      m.deliveries++
      m.consumer = consumer
      m.status = PENDING
      m.at = now + visibilityMs
      m.seq = ++seq
      s.inFlight.push(m)
      out.push(deliveryOf(m, s.address))
    }


    /**
     * A claim (Store.ts `Claim`): up to `count` new messages, oldest first, of
     * the lane the write's first message to the claimed stream went to (lane
     * 0 if none did), as a read would deliver them; the caller flushes.
     */
    const claimFresh = (claim: Claim | undefined, sent: ReadonlyArray<OutboundMessage> | undefined, now: number): ReadonlyArray<Delivery> => {
      if (claim === undefined || claim.count < 1) return NOTHING
      const s = streamOf(claim.stream)
      s.consumers.set(claim.consumer, now)
      const own = sent?.find((m) => m.stream.kind === claim.stream.kind && m.stream.taskQueue === claim.stream.taskQueue)
      const lane = s.fresh[own === undefined ? 0 : laneFor(s, own)]!
      const out: Array<Delivery> = []
      while (out.length < claim.count) {
        const m = lane.shift()
        if (m === undefined) break
        deliver(s, m, now, claim.consumer, out)
      }
      return out
    }

    /** Hand out up to `count` messages: stalled ones first, then released, then new (FIFO per lane, the lanes in turn). */
    const take = (s: StreamState, count: number, now: number, consumer: string): Array<Delivery> => {
      const out: Array<Delivery> = []
      s.consumers.set(consumer, now)
      let top: Message | undefined
      while (out.length < count && (top = s.inFlight.peek()) !== undefined && top.at <= now) {
        s.inFlight.remove(top)
        deliver(s, top, now, consumer, out)
      }
      while (out.length < count) {
        const m = s.released.shift()
        if (m === undefined) break
        if (m.status === RELEASED) deliver(s, m, now, consumer, out)
      }
      const lanes = s.fresh.length
      if (lanes === 1) {
        while (out.length < count) {
          const m = s.fresh[0]!.shift()
          if (m === undefined) break
          deliver(s, m, now, consumer, out)
        }
      } else {
        // One new message from each lane in turn, from where the last read stopped; stop after a
        // whole turn of empty lanes.
        for (let empty = 0; out.length < count && empty < lanes; s.turn = (s.turn + 1) % lanes) {
          const m = s.fresh[s.turn]!.shift()
          if (m === undefined) {
            empty++
            continue
          }
          empty = 0
          deliver(s, m, now, consumer, out)
        }
      }
      flush()
      return out
    }

    const read: StoreShape["read"] = (address, { blockMs, count, consumer }) =>
      Clock.clockWith((clock) => {
        const s = streamOf(address)
        if (count <= 0) return Effect.succeed([])
        const deadline = clock.currentTimeMillisUnsafe() + Math.max(0, blockMs)
        const loop: Effect.Effect<ReadonlyArray<Delivery>> = Effect.suspend(() => {
          const now = clock.currentTimeMillisUnsafe()
          const got = take(s, count, now, consumer)
          if (got.length > 0 || now >= deadline) return Effect.succeed(got)
          // Wake on append/release, or when the earliest in-flight message becomes
          // reclaimable; anything delivered later expires no sooner than now + visibility.
          const signal = s.signal
          const wakeAt = Math.min(deadline, s.inFlight.peek()?.at ?? Infinity, now + visibilityMs)
          return Effect.andThen(readers.wait(s.name, () => s.signal !== signal, wakeAt - now), loop)
        })
        return loop
      })

    const commit: StoreShape["commit"] = (c: Commit) =>
      Clock.clockWith((clock) => {
        const record = records.get(c.key)
        const actualVersion = record?.version ?? 0
        const conflict = (reason: "version" | "not-pending") =>
          Effect.fail(new CommitConflict({ key: c.key, expectedVersion: c.expectedVersion, actualVersion, reason }))
        // The record must be the very write the caller computed from: same version and same token.
        if (actualVersion !== c.expectedVersion || (record?.token ?? "") !== (c.expectedToken ?? "")) return conflict("version")
        const acked = c.ack === undefined ? undefined : findPending(c.ack)
        if (c.ack !== undefined && acked === undefined) return conflict("not-pending")
        // Validated: from here on nothing can fail, so the commit is all or nothing.
        // A state that carries its value is kept as its holder (reading `c.state` would encode it).
        const stateHolder = c[encodedValue]
        const written = stateHolder !== undefined || c.state !== undefined
        const notified = c.notify === true ? (written ? actualVersion + 1 : actualVersion) : (record?.notified ?? 0)
        if (stateHolder !== undefined) records.set(c.key, { version: actualVersion + 1, token: c.token ?? "", notified, holder: stateHolder })
        else if (c.state !== undefined) records.set(c.key, { version: actualVersion + 1, token: c.token, notified, text: c.state })
        else if (record !== undefined && notified !== record.notified) records.set(c.key, { ...record, notified })
        if (c.expire !== undefined && c.journal !== undefined) {
          // The record expires only if no later commit has written it (its token changes).
          const recordToken = c.expire.record ? records.get(c.key)?.token : undefined
          const terms = c.expire.record && c.index !== undefined ? [...c.index.keep, ...c.index.add.map((entry) => entry.term)] : []
          expirations.push({ at: c.expire.at, seq: ++seq, heapIndex: -1, key: c.key, journalId: c.journal.id, recordToken, terms })
        }
        if (c.index !== undefined) {
          for (const term of c.index.remove) index.get(term)?.delete(c.key)
          for (const { term, score } of c.index.add) {
            let entries = index.get(term)
            if (entries === undefined) index.set(term, (entries = new IndexTerm()))
            entries.set(c.key, score)
          }
        }
        if (c.journal !== undefined) {
          // Written from `from`: entries beyond what the expected record claims are cut first.
          const jk = c.key + "\u0000" + c.journal.id
          let journal = journals.get(jk)
          if (journal === undefined) journals.set(jk, (journal = []))
          const from = Math.max(0, Math.floor(c.journal.from))
          if (journal.length > from) journal.length = from
          for (const entry of c.journal.entries) journal.push(entry)
          if (journal.length === 0) journals.delete(jk)
        }
        if (c.messages !== undefined) for (const m of c.messages) appendOne(m, clock.currentTimeMillisUnsafe())
        // Cancellations apply before new timers: cancelling and setting one id re-arms it.
        if (c.cancelTimers !== undefined) for (const id of c.cancelTimers) cancelTimer(id)
        if (c.timers !== undefined) for (const t of c.timers) setTimer(t)
        if (c.replies !== undefined) for (const r of c.replies) replies.set(r.id, r.body)
        if (c.ack !== undefined && acked !== undefined) acknowledge(c.ack, acked)
        const claimed = claimFresh(c.claim, c.messages, clock.currentTimeMillisUnsafe())
        // Everything is written; only now wake anyone (woken fibers run synchronously).
        flush()
        if (c.replies !== undefined) for (const r of c.replies) replyWaiters.wake(r.id)
        if (c.notify === true) updateWaiters.wake(c.key)
        return Effect.succeed(claimed)
      })

    const cancelTimer = (id: string): void => {
      const t = timers.get(id)
      if (t !== undefined) { timers.delete(id); timerHeap.remove(t) }
    }

    const setTimer = (t: TimerEntry): void => {
      cancelTimer(t.id)
      const timer: Timer = { id: t.id, at: t.fireAt, seq: ++seq, heapIndex: -1, message: keptMessage(t.message) }
      timers.set(t.id, timer)
      timerHeap.push(timer)
    }

    const store: MemoryStore = {
      name: "memory",
      visibilityTimeoutMs: visibilityMs,
      lanes,
      now: Clock.currentTimeMillis,

      load: (key) =>
        Effect.sync(() => {
          const r = records.get(key)
          if (r === undefined) return Option.none()
          const holder = r.holder
          return Option.some<ExecutionRecord>(holder === undefined
            ? { key, version: r.version, token: r.token, state: r.text }
            : attachEncodedValue<ExecutionRecord>({ key, version: r.version, token: r.token, get state() { return holder.encoded } }, holder))
        }),

      loadJournal: (key, journalId) => Effect.sync(() => (journals.get(key + "\u0000" + journalId) ?? []).slice()),

      commit,

      indexPartitions: 1,
      scanIndex: (_partition, term, { direction, after, limit }) =>
        Effect.sync(() => scanOrdered(index.get(term)?.ordered() ?? [], direction, after, limit)),
      countIndex: (_partition, terms) => Effect.sync(() => terms.map((term) => index.get(term)?.scores.size ?? 0)),
      readSettings: (prefix) => Effect.sync(() => [...settings].filter(([name]) => name.startsWith(prefix))),
      defineSetting: (name, value) =>
        Effect.sync(() => {
          const held = settings.get(name)
          if (held !== undefined) return held
          settings.set(name, value)
          return value
        }),

      ...makeMemoryLimits(),

      append: (messages) =>
        Clock.clockWith((clock) =>
          Effect.sync(() => {
            for (const m of messages) appendOne(m, clock.currentTimeMillisUnsafe())
            flush()
          })
        ),

      read,

      // Decision: completing a message that is no longer pending (acknowledged by
      // another consumer, or dead-lettered) succeeds as a no-op and appends
      // nothing. Its result is a duplicate of work already recorded (or of a
      // task operators parked), and failing with `StoreError` would make the
      // caller retry an operation that can never succeed.
      complete: (ack, messages, claim) =>
        Clock.clockWith((clock) =>
          Effect.sync(() => {
            const m = findPending(ack)
            if (m === undefined) return NOTHING
            acknowledge(ack, m)
            for (const msg of messages) appendOne(msg, clock.currentTimeMillisUnsafe())
            const claimed = claimFresh(claim, messages, clock.currentTimeMillisUnsafe())
            flush()
            return claimed
          })
        ),

      // `release` and `touch` act only on the *current* delivery (same delivery
      // count), so a zombie consumer cannot disturb the consumer that reclaimed it.
      release: (deliveries, options) =>
        Effect.sync(() => {
          for (const d of deliveries) {
            const m = findPending(d)
            if (m === undefined || m.status !== PENDING || m.deliveries !== d.deliveries) continue
            const s = streamOf(d.stream)
            s.inFlight.remove(m)
            if (options?.uncounted === true) m.deliveries--
            m.status = RELEASED
            s.released.push(m)
            markReadable(s)
          }
          flush()
        }),

      touch: (d) =>
        Clock.clockWith((clock) =>
          Effect.sync(() => {
            const m = findPending(d)
            if (m === undefined || m.status !== PENDING || m.deliveries !== d.deliveries) return
            m.at = clock.currentTimeMillisUnsafe() + visibilityMs
            m.seq = ++seq
            streamOf(d.stream).inFlight.update(m)
          })
        ),

      deadLetter: (d, reason) =>
        Clock.clockWith((clock) =>
          Effect.sync(() => {
            const m = findPending(d)
            if (m === undefined) return false
            const s = streamOf(d.stream)
            free(s, m)
            park(s, m, reason, clock.currentTimeMillisUnsafe())
            flush()
            return true
          })
        ),

      deadLetters: (address) => Effect.sync(() => streamOf(address).deadLetters.slice()),

      retryDeadLetter: (address, id) =>
        Clock.clockWith((clock) =>
          Effect.sync(() => {
            const s = streamOf(address)
            const index = s.deadLetters.findIndex((letter) => letter.id === id)
            if (index < 0) return false
            const [letter] = s.deadLetters.splice(index, 1)
            const lane = s.deadLanes.get(id) ?? 0
            s.deadLanes.delete(id)
            appendOne({ stream: s.address, key: letter!.delivery.key, body: letter!.delivery.body }, clock.currentTimeMillisUnsafe(), lane)
            flush()
            return true
          })
        ),

      purgeDeadLetters: (address, ids) =>
        Effect.sync(() => {
          const s = streamOf(address)
          const before = s.deadLetters.length
          if (ids === undefined) {
            s.deadLetters.length = 0
            s.deadLanes.clear()
          } else {
            const drop = new Set(ids)
            for (const id of ids) s.deadLanes.delete(id)
            const kept = s.deadLetters.filter((letter) => !drop.has(letter.id))
            s.deadLetters.length = 0
            s.deadLetters.push(...kept)
          }
          return before - s.deadLetters.length
        }),

      fireDueTimers: (limit) =>
        Clock.clockWith((clock) =>
          Effect.sync(() => {
            const now = clock.currentTimeMillisUnsafe()
            let expired: Expiration | undefined
            while ((expired = expirations.peek()) !== undefined && expired.at <= now) {
              expirations.remove(expired)
              journals.delete(expired.key + "\u0000" + expired.journalId)
              if (expired.recordToken !== undefined && records.get(expired.key)?.token === expired.recordToken) {
                records.delete(expired.key)
                for (const term of expired.terms) index.get(term)?.delete(expired.key)
              }
            }
            let fired = 0
            let top: Timer | undefined
            while (fired < limit && (top = timerHeap.peek()) !== undefined && top.at <= now) {
              timerHeap.remove(top)
              timers.delete(top.id)
              appendOne(top.message, now)
              fired++
            }
            flush()
            return fired
          })
        ),

      describeStream: (address) =>
        Clock.clockWith((clock) =>
          Effect.sync((): StreamDescription => {
            const now = clock.currentTimeMillisUnsafe()
            const s = streamOf(address)
            const held = new Map<string, number>()
            let pending = 0
            let oldest = Infinity
            for (const m of s.live.values()) {
              // Given back (released) is still delivered and not acknowledged, but no consumer holds it.
              if (m.status !== PENDING && m.status !== RELEASED) continue
              pending++
              oldest = Math.min(oldest, m.appendedAt)
              if (m.status === PENDING) held.set(m.consumer, (held.get(m.consumer) ?? 0) + 1)
            }
            return {
              length: s.live.size,
              pending,
              ...(oldest === Infinity ? {} : { oldestPendingMs: Math.max(0, now - oldest) }),
              consumers: [...s.consumers].map(([name, lastRead]) => ({ name, pending: held.get(name) ?? 0, idleMs: Math.max(0, now - lastRead) })),
              deadLetters: s.deadLetters.length,
            }
          })
        ),

      dueTimers: Clock.clockWith((clock) =>
        Effect.sync(() => {
          const now = clock.currentTimeMillisUnsafe()
          let due = 0
          for (const t of timers.values()) if (t.at <= now) due++
          return due
        })
      ),

      nextTimerAt: Effect.sync(() => Option.map(Option.fromUndefinedOr(timerHeap.peek()), (t) => t.at)),
      nextTimer: Effect.sync(() => Option.map(Option.fromUndefinedOr(timerHeap.peek()), (t): TimerEntry => ({ id: t.id, fireAt: t.at, message: t.message }))),

      takeReply: (id, timeoutMs) =>
        Clock.clockWith((clock) => {
          const deadline = clock.currentTimeMillisUnsafe() + Math.max(0, timeoutMs)
          const loop: Effect.Effect<Option.Option<string>> = Effect.suspend(() => {
            const body = replies.get(id)
            if (body !== undefined) {
              replies.delete(id)
              return Effect.succeed(Option.some(body))
            }
            const now = clock.currentTimeMillisUnsafe()
            if (now >= deadline) return Effect.succeed(Option.none())
            return Effect.andThen(replyWaiters.wait(id, () => replies.has(id), deadline - now), loop)
          })
          return loop
        }),

      awaitUpdate: (key, afterVersion, timeoutMs) =>
        Effect.suspend(() => {
          // Past the record's last notifying commit: a step that notifies no one wakes no one.
          const moved = () => (records.get(key)?.notified ?? 0) > afterVersion
          if (moved() || timeoutMs <= 0) return Effect.void
          return updateWaiters.wait(key, moved, timeoutMs)
        }),

      pendingMessages: Effect.sync(() => pendingCount),
      progress: Effect.sync(() => {
        let runnable = 0
        let running = 0
        let stranded = 0
        for (const s of streams.values()) {
          const delivered = s.inFlight.size
          const unread = s.live.size - delivered
          if (readers.has(s.name)) runnable += unread
          else stranded += unread
          if (s.address.kind === "workflow") runnable += delivered
          else running += delivered
        }
        return { runnable, running, stranded, operations }
      }),

      awaitIdle: Effect.suspend(() => idleWaiters.wait("", () => pendingCount === 0, Infinity)),
    }
    return store
  })

/** A `Store` layer backed by a fresh in-memory store. */
export const layerMemory = (options?: MemoryStoreOptions): Layer.Layer<Store> =>
  Layer.effect(Store, makeMemoryStore(options))

/** Provides `Store` and `MemoryStoreControl`, both backed by the same fresh in-memory store. */
export const layerMemoryWithControl = (options?: MemoryStoreOptions): Layer.Layer<Store | MemoryStoreControl> =>
  Layer.effectContext(
    Effect.map(makeMemoryStore(options), (store) =>
      Context.make(Store, store).pipe(Context.add(MemoryStoreControl, store))),
  )
