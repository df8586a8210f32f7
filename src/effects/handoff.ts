/**
 * Eager dispatch between the loops of one worker ("append and claim").
 *
 * A durable step that schedules an activity this worker runs, and an
 * activity whose report wakes a workflow this worker runs, both write the
 * next piece of work themselves. With a hand-off the write also claims it
 * (`Claim` in Store.ts: in the same round trip, pending on the receiving
 * loop's consumer as if that loop had read it), and the claimed deliveries go
 * straight to the loop that runs them: no read, no wake-up of a blocked
 * reader. On a worker that runs both sides, a 10-activity workflow reads only
 * its start: its 10 activity tasks and 10 reports are claimed.
 *
 * A loop registers a `Taker`; a writer asks `reserve` for room before the
 * write (nothing is claimed that the loop could not start at once) and
 * calls `settle` exactly once after it, with what was claimed (nothing when
 * the write failed). A loop that is shutting down, limited, or full reserves
 * nothing, and the work waits on its stream for an ordinary read.
 *
 * An activity's report goes further: it is not written at all. The
 * workflow loop runs it as its step at once (`Taker.step`), and that step's
 * commit acknowledges the activity's task instead of a workflow message —
 * the report and the transition it causes are one write, one round trip
 * per activity instead of two. The loop then owns the report: a step that
 * does not commit (it gave up, the store failed, the worker is stopping)
 * writes it the ordinary way, acknowledging the same task. The task's
 * acknowledgement decides which write lands: whichever acknowledges it
 * first wins, the other finds it not pending and changes nothing.
 */
import { Effect, FiberSet, Queue, type Scope } from "effect"
import type { Claim, Claimed, Delivery, Store, StreamKind } from "../stores/Store.ts"

/**
 * A loop hands off only while it has fewer than this many steps (or
 * activities) in flight: past it, work is at hand anyway, and reading it in
 * batches costs less per step than a hand-off each (measured: with 2,000
 * concurrent workflows on the embedded store, handing off everything cost
 * ~15% of the steps per second; one at a time it saves a read per hop).
 */
export const HANDOFF_BELOW = 16

/** One loop's side of the hand-off. */
export interface Taker {
  /** The loop's consumer name: claimed deliveries are pending on it. */
  readonly consumer: string
  /** Room for up to `want` deliveries now (reserved until `accept`); 0: do not claim. */
  readonly reserve: (want: number) => number
  /** What was claimed for a reservation of `reserved` (at most that many; none when the write failed). */
  readonly accept: (reserved: number, claimed: ReadonlyArray<Delivery>) => void
  /**
   * Run `report` as a step of this loop now (a workflow loop: see `Report`),
   * or decline it (false: the loop is stopping, or its workflow has a step
   * in progress). A loop that takes it owns it: when the step does not
   * commit, the loop runs `write`, which reports it the ordinary way.
   */
  readonly step?: (report: Report, write: Effect.Effect<void, never, Store>) => boolean
}

/**
 * An activity's report handed to its workflow's loop as a step, unwritten:
 * the activity task's own delivery (id, stream, key: what the step's commit
 * acknowledges and, while it runs, touches) carrying the report as its body.
 */
export type Report = Delivery

/** A reservation: the claim to put on the write, and how to settle it afterwards (exactly once). */
export interface Reservation {
  readonly claim: Claim
  readonly settle: (claimed: Claimed) => void
}

/** The takers of one worker's loops, by stream. */
export class Handoff {
  readonly #takers = new Map<string, Taker>()

  /** Register the loop that runs `kind` messages of `taskQueue`; returns its unregistration. */
  register(kind: StreamKind, taskQueue: string, taker: Taker): () => void {
    const name = `${kind}:${taskQueue}`
    this.#takers.set(name, taker)
    return () => {
      if (this.#takers.get(name) === taker) this.#takers.delete(name)
    }
  }

  /** Reserve room for up to `want` messages of the stream, or undefined when its loop takes none now. */
  reserve(kind: StreamKind, taskQueue: string, want: number): Reservation | undefined {
    const taker = this.#takers.get(`${kind}:${taskQueue}`)
    if (taker === undefined || want < 1) return undefined
    const reserved = taker.reserve(want)
    if (reserved < 1) return undefined
    let settled = false
    return {
      claim: { stream: { kind, taskQueue }, consumer: taker.consumer, count: reserved },
      settle: (claimed) => {
        if (settled) return
        settled = true
        taker.accept(reserved, claimed === undefined ? [] : claimed.slice(0, reserved))
      },
    }
  }

  /**
   * Hand `report` to the loop of `taskQueue`'s workflow stream as its step
   * (true); false when no loop takes it now, and the caller writes it.
   * `write` is that ordinary write: the loop runs it if the step does not commit.
   */
  step(taskQueue: string, report: Report, write: Effect.Effect<void, never, Store>): boolean {
    return this.#takers.get(`workflow:${taskQueue}`)?.step?.(report, write) ?? false
  }
}

/**
 * Where a loop's claimed work waits to start: a queue, and one fiber of the
 * loop that starts each item in the loop's scope (interrupting the loop
 * interrupts them). Cheaper than a root fiber per item: the offer is
 * synchronous, and what arrives together starts in one turn.
 */
export interface Inbox<T> {
  /** Start these, in order. */
  readonly offer: (items: ReadonlyArray<T>) => void
  /** Waits until everything offered so far has finished. */
  readonly idle: Effect.Effect<void>
  /** Take back what was offered but has not started (on shutdown: to give it back). */
  readonly unstarted: Effect.Effect<ReadonlyArray<T>>
}

/** An inbox whose items `start` runs; its fiber and theirs live as long as the scope. */
export const makeInbox = <T, R>(start: (item: T) => Effect.Effect<void, never, R>): Effect.Effect<Inbox<T>, never, R | Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<T>()
    const running = yield* FiberSet.make<void>()
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.takeAll(queue), (items) =>
      Effect.forEach(items, (item) => FiberSet.run(running, start(item)), { discard: true }))))
    return {
      offer: (items) => {
        for (const item of items) Queue.offerUnsafe(queue, item)
      },
      idle: Effect.andThen(Effect.yieldNow, FiberSet.awaitEmpty(running)),
      unstarted: Queue.clear(queue),
    }
  })
