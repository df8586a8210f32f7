/**
 * The timer loop: fire due durable timers (the store pops them and appends
 * their messages atomically, by the store's clock), then sleep until the next
 * one is due — or until this process sets an earlier timer (`TimerAlarm.nudge`).
 * Sleeping uses Effect's `Clock`, so a virtual clock skips it.
 */
import { Effect, Option, Queue } from "effect"
import { Store } from "../stores/Store.ts"
import { retryStoreErrors } from "./storeRetry.ts"

const BATCH = 256
/** Upper bound of one sleep: timers set by other processes are seen at least this often. */
const MAX_SLEEP_MS = 1000

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
    const step = Effect.gen(function* () {
      sleepingUntil = -Infinity // awake: a nudge now is redundant but harmless
      const fired = yield* store.fireDueTimers(BATCH)
      if (fired >= BATCH) return
      const next = yield* store.nextTimerAt
      const now = yield* store.now
      const delay = Option.match(next, { onNone: () => MAX_SLEEP_MS, onSome: (at) => Math.min(Math.max(at - now, 1), MAX_SLEEP_MS) })
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
