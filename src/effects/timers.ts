/**
 * The timer loop: fire due durable timers (the store pops them and appends
 * their messages atomically, by the store's clock), then sleep until the next
 * one is due — or until this process sets an earlier timer (`wake`).
 * Sleeping uses Effect's `Clock`, so a `TestClock` skips it.
 */
import { Effect, Option, Queue } from "effect"
import { Store } from "../stores/Store.ts"
import { storeRetry } from "./workflowTasks.ts"

const BATCH = 256
/** Upper bound of one sleep: timers set by other processes are seen at least this often. */
const MAX_SLEEP_MS = 1000

/** Run the timer loop; offer to `wake` when a timer earlier than the current sleep may exist. */
export const runTimers = (wake: Queue.Dequeue<void>): Effect.Effect<never, never, Store> =>
  Effect.gen(function* () {
    const store = yield* Store
    const step = Effect.gen(function* () {
      const fired = yield* store.fireDueTimers(BATCH)
      if (fired >= BATCH) return
      const next = yield* store.nextTimerAt
      const now = yield* store.now
      const delay = Option.match(next, { onNone: () => MAX_SLEEP_MS, onSome: (at) => Math.min(Math.max(at - now, 1), MAX_SLEEP_MS) })
      yield* Effect.raceFirst(Effect.sleep(delay), Queue.take(wake))
    })
    return yield* Effect.forever(step.pipe(Effect.retry(storeRetry), Effect.orDie))
  })
