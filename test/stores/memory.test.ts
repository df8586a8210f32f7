import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { storeConformance } from "../../src/sdk/testing/storeConformance.ts"
import { layerMemory, layerMemoryWithControl, makeMemoryStore, MemoryStoreControl } from "../../src/stores/memory.ts"
import { encodedValue, type OutboundMessage, Store, type StreamAddress } from "../../src/stores/Store.ts"

storeConformance("memory (4 lanes)", layerMemory({ maxDeliveries: 3, lanes: 4 }), { maxDeliveries: 3, claims: true })
storeConformance("memory (defaults)", layerMemory(), { maxDeliveries: 10, claims: true })

const wf: StreamAddress = { kind: "workflow", taskQueue: "q" }
const msg = (body: string, stream: StreamAddress = wf): OutboundMessage => ({ stream, key: "k", body })
const readNow = (consumer: string, count = 100) => ({ consumer, count, blockMs: 0 })

/** Let forked fibers run until they park. */
const settle = Effect.repeat(Effect.yieldNow, { times: 10 })

describe("memory store (virtual time)", () => {
  it.effect("now and timers follow the TestClock", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore()
      yield* TestClock.setTime(10_000)
      expect(yield* store.now).toBe(10_000)
      yield* store.commit({ key: "k", expectedVersion: 0, timers: [{ id: "t", fireAt: 11_000, message: msg("fired") }] })
      expect(yield* store.nextTimerAt).toEqual(Option.some(11_000))
      expect(yield* store.fireDueTimers(10)).toBe(0)
      yield* TestClock.adjust(999)
      expect(yield* store.fireDueTimers(10)).toBe(0)
      yield* TestClock.adjust(1)
      expect(yield* store.fireDueTimers(10)).toBe(1)
      expect(yield* store.nextTimerAt).toEqual(Option.none())
      expect((yield* store.read(wf, readNow("c"))).map((d) => d.body)).toEqual(["fired"])
    }))

  it.effect("a message idle for the visibility timeout is reclaimed by another consumer", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore({ visibilityTimeoutMs: 1000 })
      yield* store.append([msg("m")])
      const [first] = yield* store.read(wf, readNow("a"))
      yield* TestClock.adjust(999)
      expect(yield* store.read(wf, readNow("b"))).toEqual([])
      yield* TestClock.adjust(1)
      const [second] = yield* store.read(wf, readNow("b"))
      expect(second).toEqual({ ...first!, deliveries: 2 })
      // The first consumer's late ack still acks (by id); the second then conflicts.
      yield* store.complete(first!, [])
      const e = yield* Effect.flip(store.commit({ key: "k", expectedVersion: 0, ack: second! }))
      expect(e._tag === "CommitConflict" && e.reason).toBe("not-pending")
      expect(yield* store.pendingMessages).toBe(0)
    }))

  it.effect("touch resets the idle time; a stale delivery cannot touch or release", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore({ visibilityTimeoutMs: 1000 })
      yield* store.append([msg("m")])
      const [d] = yield* store.read(wf, readNow("a"))
      yield* TestClock.adjust(800)
      yield* store.touch(d!)
      yield* TestClock.adjust(800)
      expect(yield* store.read(wf, readNow("b"))).toEqual([])
      yield* TestClock.adjust(200)
      const [again] = yield* store.read(wf, readNow("b"))
      expect(again?.deliveries).toBe(2)
      yield* store.release([d!]) // stale (delivery 1): ignored
      expect(yield* store.read(wf, readNow("c"))).toEqual([])
    }))

  it.effect("visibility timeouts dead-letter a message after maxDeliveries", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore({ visibilityTimeoutMs: 100, maxDeliveries: 2 })
      yield* store.append([msg("poison")])
      expect((yield* store.read(wf, readNow("a")))[0]?.deliveries).toBe(1)
      yield* TestClock.adjust(100)
      expect((yield* store.read(wf, readNow("b")))[0]?.deliveries).toBe(2)
      yield* TestClock.adjust(100)
      expect(yield* store.read(wf, readNow("c"))).toEqual([])
      const [dead] = yield* store.deadLetters(wf)
      expect(dead?.delivery.deliveries).toBe(2)
      expect(dead?.at).toBe(200)
      expect(yield* store.pendingMessages).toBe(0)
    }))

  it.effect("a blocking read is woken by append, by release and by reclaim, and ends at blockMs", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore({ visibilityTimeoutMs: 1000 })
      const blocking = (consumer: string) => Effect.forkChild(store.read(wf, { consumer, count: 10, blockMs: 60_000 }))
      const byAppend = yield* blocking("a")
      yield* settle
      yield* store.append([msg("appended")])
      const [d] = yield* Fiber.join(byAppend)
      expect(d?.body).toBe("appended")

      const byRelease = yield* blocking("b")
      yield* settle
      yield* store.release([d!])
      const [released] = yield* Fiber.join(byRelease)
      expect(released?.deliveries).toBe(2)

      const byReclaim = yield* blocking("c")
      yield* settle
      expect(byReclaim.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1000)
      expect((yield* Fiber.join(byReclaim))[0]?.deliveries).toBe(3)

      const empty = yield* Effect.forkChild(store.read({ kind: "activity", taskQueue: "q" }, {
        consumer: "d", count: 1, blockMs: 5000,
      }))
      yield* settle
      yield* TestClock.adjust(4999)
      expect(empty.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      expect(yield* Fiber.join(empty)).toEqual([])
    }))

  it.effect("awaitUpdate and takeReply time out by the TestClock", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore()
      const update = yield* Effect.forkChild(store.awaitUpdate("k", 0, 1000))
      const reply = yield* Effect.forkChild(store.takeReply("r", 1000))
      yield* settle
      expect(update.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1000)
      yield* Fiber.join(update)
      expect(yield* Fiber.join(reply)).toEqual(Option.none())
    }))

  it.effect("pendingMessages counts unread and unacked messages; awaitIdle waits for zero", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore()
      yield* store.awaitIdle // already idle: completes at once
      yield* store.append([msg("1"), msg("2"), msg("3")])
      expect(yield* store.pendingMessages).toBe(3)
      const got = yield* store.read(wf, readNow("a", 2))
      expect(yield* store.pendingMessages).toBe(3)
      const idle = yield* Effect.forkChild(store.awaitIdle)
      yield* store.complete(got[0]!, [])
      yield* store.commit({ key: "k", expectedVersion: 0, ack: got[1]! })
      yield* settle
      expect(yield* store.pendingMessages).toBe(1)
      expect(idle.pollUnsafe()).toBeUndefined()
      const [last] = yield* store.read(wf, readNow("a"))
      yield* store.complete(last!, [])
      yield* Fiber.join(idle)
      expect(yield* store.pendingMessages).toBe(0)
    }))

  it.effect("stores copies: callers mutating their objects do not change stored data", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore()
      const stream = { kind: "workflow" as const, taskQueue: "q" }
      const m = { stream, key: "k", body: "b" }
      yield* store.commit({ key: "k", expectedVersion: 0, timers: [{ id: "t", fireAt: 0, message: m }] })
      yield* store.commit({ key: "k", expectedVersion: 0, state: "s", token: "t1", journal: { id: "r", from: 0, entries: ["e"] } })
      ;(stream as { taskQueue: string }).taskQueue = "mutated"
      const journal = yield* store.loadJournal("k", "r")
      ;(journal as Array<string>).push("x")
      expect(yield* store.loadJournal("k", "r")).toEqual(["e"])
      expect(yield* store.fireDueTimers(1)).toBe(1)
      expect((yield* store.read(wf, readNow("a"))).map((d) => d.body)).toEqual(["b"])
    }))

  it.effect("memory is freed: 100k messages appended and acked leave nothing pending", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore()
      const batch = Array.from({ length: 1000 }, (_, i) => msg(String(i)))
      for (let round = 0; round < 100; round++) {
        yield* store.append(batch)
        const got = yield* store.read(wf, readNow("a", 1000))
        expect(got.length).toBe(1000)
        for (const d of got) yield* store.complete(d, [])
      }
      expect(yield* store.pendingMessages).toBe(0)
      expect(yield* store.read(wf, readNow("a"))).toEqual([])
    }))

  it.effect("layerMemoryWithControl exposes the same instance as Store", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const control = yield* MemoryStoreControl
      expect(store).toBe(control)
      yield* store.append([msg("m")])
      expect(yield* control.pendingMessages).toBe(1)
    }).pipe(Effect.provide(layerMemoryWithControl())))
})

describe("memory store: values kept next to their encodings", () => {
  /** A holder that counts how often its text is computed. */
  const counted = <T>(value: T) => {
    let encodings = 0
    let text: string | undefined
    const holder = { value, get encoded() { return (text ??= (encodings++, JSON.stringify(value))) } }
    return { holder, encodings: () => encodings }
  }

  it.effect("a message's holder comes back on its delivery; the body is encoded only when read, and is the holder's text", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore()
      const value = { type: "Signal", n: 1 }
      const { holder, encodings } = counted(value)
      const m: OutboundMessage = { stream: wf, key: "k", get body() { return holder.encoded }, [encodedValue]: holder }
      yield* store.commit({ key: "k", expectedVersion: 0, messages: [m] })
      const [d] = yield* store.read(wf, readNow("a"))
      expect(d![encodedValue]?.value).toBe(value)
      expect(encodings()).toBe(0)
      expect(d!.body).toBe(JSON.stringify(value))
      expect(encodings()).toBe(1)
      // A copy made by spreading carries only the text: what the copy says is what is read.
      const copy = { ...d!, body: "changed" }
      expect(copy[encodedValue]).toBeUndefined()
      expect(copy.body).toBe("changed")
    }))

  it.effect("a state kept with its value loads with it, and as the same text; a plain commit after it stores text", () =>
    Effect.gen(function*() {
      const store = yield* makeMemoryStore()
      const state = counted({ status: "RUNNING", n: 2 })
      yield* store.commit({ key: "k", expectedVersion: 0, get state() { return state.holder.encoded }, token: "t1", [encodedValue]: state.holder })
      expect(state.encodings()).toBe(0)
      const record = Option.getOrThrow(yield* store.load("k"))
      expect(record.version).toBe(1)
      expect(record.token).toBe("t1")
      expect(record[encodedValue]?.value).toBe(state.holder.value)
      expect(state.encodings()).toBe(0)
      expect(record.state).toBe(JSON.stringify(state.holder.value))
      expect(state.encodings()).toBe(1)
      // A plain commit after it stores text, and that is what loads.
      yield* store.commit({ key: "k", expectedVersion: 1, expectedToken: "t1", state: "plain", token: "t2" })
      const plain = Option.getOrThrow(yield* store.load("k"))
      expect(plain.state).toBe("plain")
      expect(plain.token).toBe("t2")
      expect(plain[encodedValue]).toBeUndefined()
    }))
})
