/**
 * The hand-off's parts (src/effects/handoff.ts): reservations settle once
 * and never hand over more than was reserved; an inbox starts what is
 * offered, in order, and gives back what has not started — the part of a
 * loop's shutdown that releases claimed work for another worker.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Scope } from "effect"
import { Handoff, makeInbox, type Taker } from "../../src/effects/handoff.ts"
import type { Delivery } from "../../src/stores/Store.ts"

const delivery = (id: string): Delivery => ({ stream: { kind: "activity", taskQueue: "q" }, id, key: `w-${id}`, body: "{}", deliveries: 1 })

const recordingTaker = (room: number) => {
  const accepted: Array<{ reserved: number; ids: Array<string> }> = []
  const taker: Taker = {
    consumer: "c1",
    reserve: (want) => Math.min(want, room),
    accept: (reserved, claimed) => void accepted.push({ reserved, ids: claimed.map((d) => d.id) }),
  }
  return { taker, accepted }
}

describe("Handoff", () => {
  it("reserves what the loop has room for, names its consumer, and hands over at most that many, once", () => {
    const handoff = new Handoff()
    const { taker, accepted } = recordingTaker(2)
    handoff.register("activity", "q", taker)
    const reservation = handoff.reserve("activity", "q", 5)
    expect(reservation?.claim).toEqual({ stream: { kind: "activity", taskQueue: "q" }, consumer: "c1", count: 2 })
    reservation!.settle([delivery("1"), delivery("2"), delivery("3")])
    reservation!.settle([delivery("4")])
    expect(accepted).toEqual([{ reserved: 2, ids: ["1", "2"] }])
  })

  it("a failed write settles with nothing; an unregistered or full loop reserves nothing", () => {
    const handoff = new Handoff()
    const { taker, accepted } = recordingTaker(1)
    const unregister = handoff.register("workflow", "q", taker)
    handoff.reserve("workflow", "q", 1)!.settle(undefined)
    expect(accepted).toEqual([{ reserved: 1, ids: [] }])
    expect(handoff.reserve("activity", "q", 1)).toBeUndefined()
    handoff.register("activity", "q", recordingTaker(0).taker)
    expect(handoff.reserve("activity", "q", 1)).toBeUndefined()
    unregister()
    expect(handoff.reserve("workflow", "q", 1)).toBeUndefined()
  })
})

describe("makeInbox", () => {
  it.effect("starts what is offered, in order, and is idle once all of it has finished", () =>
    Effect.gen(function* () {
      const started: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const inbox = yield* makeInbox((id: string) => Effect.andThen(Effect.sync(() => started.push(id)), Deferred.await(gate))).pipe(Scope.provide(scope))
      inbox.offer(["a", "b"])
      inbox.offer(["c"])
      const idle = yield* Effect.forkChild(inbox.idle)
      yield* Effect.yieldNow
      yield* Effect.yieldNow
      expect(started).toEqual(["a", "b", "c"])
      expect(idle.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(idle)
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("gives back what was offered but has not started, and never starts it", () =>
    Effect.gen(function* () {
      const started: Array<string> = []
      const scope = yield* Scope.make()
      const inbox = yield* makeInbox((id: string) => Effect.sync(() => void started.push(id))).pipe(Scope.provide(scope))
      // Offered and taken back in one synchronous stretch: the inbox's fiber has not run in between.
      inbox.offer(["a", "b", "c"])
      const unstarted = yield* inbox.unstarted
      yield* Effect.yieldNow
      yield* Effect.yieldNow
      expect(unstarted).toEqual(["a", "b", "c"])
      expect(started).toEqual([])
      yield* Scope.close(scope, Exit.void)
    }))

  it.effect("closing its scope interrupts what is running", () =>
    Effect.gen(function* () {
      let interrupted = 0
      const scope = yield* Scope.make()
      const inbox = yield* makeInbox(() => Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => void interrupted++)))).pipe(Scope.provide(scope))
      inbox.offer([1, 2])
      yield* Effect.yieldNow
      yield* Effect.yieldNow
      yield* Scope.close(scope, Exit.void)
      expect(interrupted).toBe(2)
    }))
})
