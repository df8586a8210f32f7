/**
 * Retrying what the store failed to do. A store error (connection lost,
 * failover, script error) says nothing about workflow time, so the backoff
 * runs on real time — never on the runtime's `Clock`, which a test
 * environment may hold still — and each wait can be interrupted (shutdown).
 */
import { Effect } from "effect"
import type { StoreError } from "../stores/Store.ts"
import { Metrics } from "./metrics.ts"
import { ProgressProbe } from "./progressProbe.ts"

/** Report a store error to the metrics (by the store operation that failed: a bounded label). */
const countStoreError = (error: StoreError): Effect.Effect<void> => Effect.map(Effect.service(Metrics), (metrics) => metrics.storeError(error.operation))

/** Backoff before retry `attempt` (0-based): 10 ms doubling to 2 s. */
export const storeBackoff = (attempt: number): number => Math.min(10 * 2 ** attempt, 2000)

/** Sleep `ms` of real time; interruptible. The runtime's probe hears of it (a test environment holds its clock meanwhile). */
export const sleepReal = (ms: number): Effect.Effect<void> =>
  Effect.flatMap(ProgressProbe, (probe) =>
    Effect.interruptible(
      Effect.callback<void>((resume) => {
        probe.storeBackoff(1)
        const timer = setTimeout(() => {
          probe.storeBackoff(-1)
          resume(Effect.void)
        }, ms)
        return Effect.sync(() => {
          probe.storeBackoff(-1)
          clearTimeout(timer)
        })
      }),
    ))

/**
 * Run `effect`, retrying on `StoreError` forever (until interrupted) with
 * real-time backoff; other errors pass through. The first failure of a
 * streak, and every tenth after it, is logged as a warning.
 */
export const retryStoreErrors = <A, E, R>(operation: string, effect: Effect.Effect<A, E | StoreError, R>): Effect.Effect<A, Exclude<E, StoreError>, R> => {
  const loop = (attempt: number): Effect.Effect<A, Exclude<E, StoreError>, R> =>
    effect.pipe(
      Effect.catchIf(
        (error): error is StoreError => (error as { _tag?: string })._tag === "StoreError",
        (error) =>
          (attempt % 10 === 0 ? Effect.logWarning(`${operation}: store error, retrying (attempt ${attempt + 1}): ${error.message}`) : Effect.void).pipe(
            Effect.andThen(countStoreError(error)),
            Effect.andThen(sleepReal(storeBackoff(attempt))),
            Effect.andThen(Effect.suspend(() => loop(attempt + 1))),
          ),
      ),
    ) as Effect.Effect<A, Exclude<E, StoreError>, R>
  return loop(0)
}

/** Store-error retries one message's step may make before it is given back for re-delivery (≈ 2.5 s of backoff). */
export const MESSAGE_STORE_RETRIES = 8

/**
 * Run `effect`, retrying on `StoreError` at most `retries` times with
 * real-time backoff; then the last `StoreError` is the result. For work on
 * one message, which must not hold up the batch or the loop behind it.
 */
export const retryStoreErrorsUpTo = <A, E, R>(operation: string, effect: Effect.Effect<A, E | StoreError, R>, retries: number): Effect.Effect<A, E | StoreError, R> => {
  const loop = (attempt: number): Effect.Effect<A, E | StoreError, R> =>
    effect.pipe(
      Effect.catchIf(
        (error): error is StoreError => (error as { _tag?: string })._tag === "StoreError" && attempt < retries,
        (error) =>
          (attempt === 0 ? Effect.logWarning(`${operation}: store error, retrying (up to ${retries} times): ${error.message}`) : Effect.void).pipe(
            Effect.andThen(countStoreError(error)),
            Effect.andThen(sleepReal(storeBackoff(attempt))),
            Effect.andThen(Effect.suspend(() => loop(attempt + 1))),
          ),
      ),
    )
  return Effect.suspend(() => loop(0))
}

/**
 * Run an idempotent client operation, riding out a brief store outage
 * (failover, restart, a dropped connection): `StoreError`s are retried with
 * real-time backoff for up to `budgetMs`, then the last one is the result.
 */
export const retryBriefOutage = <A, E, R>(effect: Effect.Effect<A, E | StoreError, R>, budgetMs = 10_000): Effect.Effect<A, E | StoreError, R> =>
  Effect.suspend(() => {
    // The budget starts when the operation runs, not when it was built.
    const deadline = performance.now() + budgetMs
    const loop = (attempt: number): Effect.Effect<A, E | StoreError, R> =>
      effect.pipe(
        Effect.catchIf(
          (error): error is StoreError => (error as { _tag?: string })._tag === "StoreError" && performance.now() + storeBackoff(attempt) < deadline,
          () => Effect.andThen(sleepReal(storeBackoff(attempt)), Effect.suspend(() => loop(attempt + 1))),
        ),
      )
    return loop(0)
  })
