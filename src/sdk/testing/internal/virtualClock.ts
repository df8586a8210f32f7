/**
 * A virtual `Clock` for tests that *jumps*: `jumpTo(t)` sets the time to `t`
 * and wakes every sleeper due by then, once. (Effect's `TestClock` instead
 * replays every intermediate sleep in order, so a loop that re-sleeps one
 * second at a time would be stepped 2.6 million times across a 30-day jump.)
 *
 * Provide it as Effect's `Clock` service (`layer`); every store and
 * interpreter fiber on that runtime then runs on virtual time.
 */
import { Clock, Duration, Effect, Layer } from "effect"

interface Sleeper {
  readonly at: number
  readonly wake: () => void
}

/** A clock whose time moves only when told to. */
export class VirtualClock implements Clock.Clock {
  #now: number
  #sleepers: Array<Sleeper> = []

  constructor(start: number) {
    this.#now = start
  }

  currentTimeMillisUnsafe(): number {
    return this.#now
  }
  readonly currentTimeMillis = Effect.sync(() => this.#now)
  currentTimeNanosUnsafe(): bigint {
    return BigInt(this.#now) * 1_000_000n
  }
  readonly currentTimeNanos = Effect.sync(() => this.currentTimeNanosUnsafe())
  monotonicTimeNanosUnsafe(): bigint {
    return this.currentTimeNanosUnsafe()
  }
  readonly monotonicTimeNanos = Effect.sync(() => this.currentTimeNanosUnsafe())

  sleep(duration: Duration.Duration): Effect.Effect<void> {
    const millis = Duration.toMillis(duration)
    if (millis <= 0) return Effect.yieldNow
    return Effect.callback<void>((resume) => {
      const sleeper: Sleeper = { at: this.#now + millis, wake: () => resume(Effect.void) }
      this.#sleepers.push(sleeper)
      return Effect.sync(() => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper)
      })
    })
  }

  /** Move time forward to `time` (never backwards) and wake every sleeper due by then. */
  jumpTo(time: number): void {
    if (time <= this.#now) return
    this.#now = time
    const due = this.#sleepers.filter((s) => s.at <= time)
    if (due.length === 0) return
    this.#sleepers = this.#sleepers.filter((s) => s.at > time)
    for (const sleeper of due.sort((a, b) => a.at - b.at)) sleeper.wake()
  }

  /** Provide this clock as Effect's `Clock`. */
  get layer(): Layer.Layer<never> {
    return Layer.succeed(Clock.Clock, this) as Layer.Layer<never>
  }
}
