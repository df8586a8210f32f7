/**
 * The conformance cases of the back-pressure operations (`changeQueueLimits`,
 * `queueLimits`, `acquirePermits`, `releasePermits`, `renewPermits`), run by
 * `storeConformance` on every backend. Live clock, no sleeps: a lease that
 * must expire is taken with a lease time of 0, and a bucket is given a rate
 * of one token per second, so the few milliseconds between two calls never
 * refill a whole token.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect } from "effect"
import { Store } from "../../stores/Store.ts"

let counter = 0
const queueName = (label: string) => `limits-${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`

/** Register the cases on `it` (the suite's layer provides `Store`). */
export const limitsConformance = (it: Vitest.MethodsNonLive<Store>): void => {
  it.effect("limits: a queue with none grants what is asked and counts nothing", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const q = queueName("none")
      expect(yield* store.queueLimits(q)).toEqual({})
      const permits = yield* store.acquirePermits(q, { holder: "w1", want: 7, leaseMs: 60_000 })
      expect(permits).toEqual({ granted: 7, leases: [], limited: false, retryAfterMs: 0 })
    }))

  it.effect("limits: changes apply field by field; null clears; clearing the rate clears its burst", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const q = queueName("change")
      expect(yield* store.changeQueueLimits(q, { rate: 2.5, burst: 4 })).toEqual({ rate: 2.5, burst: 4 })
      expect(yield* store.changeQueueLimits(q, { concurrency: 3 })).toEqual({ rate: 2.5, burst: 4, concurrency: 3 })
      expect(yield* store.changeQueueLimits(q, { paused: true })).toEqual({ rate: 2.5, burst: 4, concurrency: 3, paused: true })
      expect(yield* store.queueLimits(q)).toEqual({ rate: 2.5, burst: 4, concurrency: 3, paused: true })
      expect(yield* store.changeQueueLimits(q, { rate: null, paused: false })).toEqual({ concurrency: 3 })
      expect(yield* store.changeQueueLimits(q, { burst: 9 })).toEqual({ concurrency: 3 }) // a burst without a rate is not kept
      expect(yield* store.changeQueueLimits(q, { concurrency: null })).toEqual({})
      // Limits are per queue.
      expect(yield* store.queueLimits(queueName("other"))).toEqual({})
    }))

  it.effect("limits: a paused queue grants nothing and says when to ask again; resumed, it grants again", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const q = queueName("pause")
      yield* store.changeQueueLimits(q, { paused: true })
      const paused = yield* store.acquirePermits(q, { holder: "w1", want: 5, leaseMs: 60_000 })
      expect(paused.granted).toBe(0)
      expect(paused.limited).toBe(true)
      expect(paused.retryAfterMs).toBeGreaterThan(0)
      yield* store.changeQueueLimits(q, { paused: false })
      expect((yield* store.acquirePermits(q, { holder: "w1", want: 5, leaseMs: 60_000 })).granted).toBe(5)
    }))

  it.effect("limits: concurrency grants one distinct lease per task up to the limit; a release or an expiry frees one", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const q = queueName("conc")
      yield* store.changeQueueLimits(q, { concurrency: 3 })
      const first = yield* store.acquirePermits(q, { holder: "w1", want: 2, leaseMs: 60_000 })
      const second = yield* store.acquirePermits(q, { holder: "w2", want: 5, leaseMs: 60_000 })
      expect([first.granted, second.granted]).toEqual([2, 1])
      const leases = [...first.leases, ...second.leases]
      expect(new Set(leases).size).toBe(3)
      const full = yield* store.acquirePermits(q, { holder: "w3", want: 1, leaseMs: 60_000 })
      expect(full.granted).toBe(0)
      expect(full.retryAfterMs).toBeGreaterThan(0)
      // Renewing live leases keeps them; releasing one frees one slot; unknown leases are ignored.
      yield* store.renewPermits(q, leases, 60_000)
      expect((yield* store.acquirePermits(q, { holder: "w3", want: 1, leaseMs: 60_000 })).granted).toBe(0)
      yield* store.releasePermits(q, [leases[0]!, "nobody:1"], 0)
      const freed = yield* store.acquirePermits(q, { holder: "w3", want: 4, leaseMs: 60_000 })
      expect(freed.granted).toBe(1)
      expect(freed.leases).toHaveLength(1)
      // A holder that never comes back: its leases lapse after leaseMs (0 here), and renewing does not revive them.
      yield* store.releasePermits(q, [...leases.slice(1), ...freed.leases], 0)
      const lapsing = yield* store.acquirePermits(q, { holder: "dead", want: 3, leaseMs: 0 })
      expect(lapsing.granted).toBe(3)
      yield* store.renewPermits(q, lapsing.leases, 60_000)
      expect((yield* store.acquirePermits(q, { holder: "w4", want: 3, leaseMs: 60_000 })).granted).toBe(3)
    }))

  it.effect("limits: the rate is a token bucket: full at first, emptied by grants, refilled by unused tokens up to the burst", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const q = queueName("rate")
      yield* store.changeQueueLimits(q, { rate: 1, burst: 3 })
      const first = yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })
      expect(first).toEqual({ granted: 3, leases: [], limited: true, retryAfterMs: 0 })
      const empty = yield* store.acquirePermits(q, { holder: "w2", want: 1, leaseMs: 60_000 })
      expect(empty.granted).toBe(0)
      // The next token is at most a second away at 1 token/s.
      expect(empty.retryAfterMs).toBeGreaterThan(0)
      expect(empty.retryAfterMs).toBeLessThanOrEqual(1000)
      yield* store.releasePermits(q, [], 2)
      expect((yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })).granted).toBe(2)
      yield* store.releasePermits(q, [], 50)
      expect((yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })).granted).toBe(3)
      // A rate cleared and set again starts with a full bucket; the default burst is a tenth of a second's worth.
      yield* store.changeQueueLimits(q, { rate: null })
      yield* store.changeQueueLimits(q, { rate: 40 })
      expect((yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })).granted).toBe(4)
    }))

  it.effect("limits: rate and concurrency together grant the smaller", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const q = queueName("both")
      yield* store.changeQueueLimits(q, { rate: 1, burst: 5, concurrency: 2 })
      const a = yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })
      expect([a.granted, a.leases.length]).toEqual([2, 2])
      // Concurrency-bound: the 2 tokens taken stay taken; releasing the leases lets the other 3 tokens through, 2 at a time.
      yield* store.releasePermits(q, a.leases, 0)
      const b = yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })
      expect(b.granted).toBe(2)
      yield* store.releasePermits(q, b.leases, 0)
      const c = yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })
      expect(c.granted).toBe(1)
      yield* store.releasePermits(q, c.leases, 0)
      expect((yield* store.acquirePermits(q, { holder: "w1", want: 10, leaseMs: 60_000 })).granted).toBe(0)
    }))
}
