/**
 * The timer loop: fire due durable timers (the store pops them and appends
 * their messages atomically, by the store's clock), then sleep until the next
 * one is due — or until this process sets an earlier timer (`TimerAlarm.nudge`).
 * Sleeping uses Effect's `Clock`, so a virtual clock skips it.
 *
 * One pass costs `fireDueTimers` and `nextTimerAt` (one round trip each on
 * Redis). The store's clock is not read on every pass: the loop keeps the
 * offset between it and the local clock, measured again at most every 10 s
 * of real time (as the workflow-task loop does). That only shapes how long
 * the loop sleeps — whether a timer is due is decided by the store, so an
 * offset error can make a pass find nothing yet (it sleeps again, at least
 * 1 ms) but can never fire a timer early.
 */
import { Clock, Effect, Option, Queue } from "effect"
import { Store } from "../stores/Store.ts"
import { Metrics } from "./metrics.ts"
import { retryStoreErrors } from "./storeRetry.ts"

/** Timers fired per store call; a pass that fills it goes again at once. */
const BATCH = 256
/** Upper bound of one sleep: timers set by other processes are seen at least this often. */
const MAX_SLEEP_MS = 1000
/** How often the offset between the store's clock and the local clock is measured again (real time). */
const CLOCK_OFFSET_TTL_MS = 10_000

/** Wakes the timer loop early, but only for a timer due before the loop would wake anyway. */
export interface TimerAlarm {
  /** A commit just set a timer due at `fireAt` (store clock). */
  readonly nudge: (fireAt: number) => void
  /** The loop; runs until interrupted. */
  readonly run: Effect.Effect<never, never, Store>
}

/** Build the timer loop of one worker. */
export const makeTimerAlarm: Effect.Effect<TimerAlarm> = Effect.map(Queue.sliding<void>(1), (wake) => {
  let sleepingUntil = -Infinity
  const run = Effect.gen(function* () {
    const store = yield* Store
    const metrics = yield* Metrics
    let offset = 0
    let measuredAt = -Infinity
    /** The store's clock, as the local clock plus the last measured offset. */
    const storeNow = Effect.gen(function* () {
      if (performance.now() - measuredAt >= CLOCK_OFFSET_TTL_MS) {
        const local = yield* Clock.currentTimeMillis
        offset = (yield* store.now) - local
        measuredAt = performance.now()
      }
      return (yield* Clock.currentTimeMillis) + offset
    })
    const step = Effect.gen(function* () {
      sleepingUntil = -Infinity // awake: a nudge now is redundant but harmless
      // Measured: how late the earliest due timer fires (one more store read per pass).
      const due = metrics.enabled ? yield* store.nextTimerAt : Option.none()
      const began = metrics.enabled ? performance.now() : 0
      const fired = yield* store.fireDueTimers(BATCH)
      if (fired > 0 && Option.isSome(due)) {
        // One atomic store operation fired them all: one step (timers are namespace-wide: no task queue).
        metrics.step("timer", "", (performance.now() - began) / 1000)
        metrics.timersFired(fired, Math.max(0, (yield* storeNow) - due.value) / 1000)
      }
      if (fired >= BATCH) return yield* Effect.yieldNow // more may be due: go again, letting other fibers run
      const next = yield* store.nextTimerAt
      const now = yield* storeNow
      const delay = Option.match(next, {
        onNone: () => MAX_SLEEP_MS,
        onSome: (at) => Math.min(Math.max(Math.ceil(at - now), 1), MAX_SLEEP_MS),
      })
      sleepingUntil = now + delay
      yield* Effect.raceFirst(Effect.sleep(delay), Queue.take(wake))
    })
    return yield* Effect.forever(retryStoreErrors("timers", step))
  })
  return {
    nudge: (fireAt) => {
      if (fireAt < sleepingUntil) Queue.offerUnsafe(wake, undefined)
    },
    run,
  }
})
