/**
 * Wall-clock waiting for the Redis backend. Redis blocks, expires and fires
 * timers in real time, so the backend's own deadlines (blocking-read loops,
 * `awaitUpdate` / `takeReply` fallbacks) use the process clock, not the
 * fiber's `Clock`: a test running under a `TestClock` cannot freeze them.
 */
import { Effect } from "effect"

/** Milliseconds on the process's monotonic clock. */
export const monotonicNow = (): number => performance.now()

/** Sleep `ms` of real time (interruptible). */
export const sleepReal = (ms: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), Math.max(0, ms))
    return Effect.sync(() => clearTimeout(timer))
  })
