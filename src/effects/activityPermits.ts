/**
 * Permits for an activity-task loop: before it reads, the loop asks how many
 * tasks it may start — the queue's limits in the store (rate, concurrency,
 * pause; `Store.acquirePermits`, shared by every process of the namespace)
 * and this worker's own rate (`maxActivitiesPerSecond`, a token bucket in
 * memory) — and reads at most that many. What it was granted but did not
 * read is given back at once; a concurrency lease goes with each task read,
 * renewed while it runs and released when it is done (or taken back by the
 * store after `leaseMs` when its worker dies).
 *
 * Permits are used at once: a loop holding them reads without blocking (a
 * blocked read would hold them unused, and on Redis it sees only new
 * messages, not those another reader gave back), so a pause stops every
 * limited loop within one read. A loop that found nothing gives its permits
 * back and waits before asking again, 10 ms doubling up to 100 ms while the
 * queue stays empty: the price of a limited queue is a few scans a second
 * per idle worker, and up to 100 ms before the first task after a quiet spell.
 *
 * The unlimited path stays as fast as before: a queue with no limits answers
 * `limited: false`, and the loop then reads (blocking, as before) without
 * asking for a second (one store call per second per loop), with reads
 * bounded to that second, so a limit set or a pause takes effect within
 * about two seconds on a loop that last saw the queue unlimited.
 */
import { Clock, Effect } from "effect"
import { type Bucket, defaultBurst, msUntilToken, refill } from "../core/limits.ts"
import type { StoreShape } from "../stores/Store.ts"
import { retryStoreErrors } from "./storeRetry.ts"

/** How long a loop trusts "this queue has no limits" before asking again. */
export const UNLIMITED_RECHECK_MS = 1000
/**
 * The longest read: permits are held, unused, while a read blocks, and a
 * loop reading without asking must come back to ask within about a second.
 * (An idle Redis reader re-issues its blocking read every second anyway.)
 */
const BLOCK_MS = 900
/** How long before "unlimited" expires a loop asks again. */
const RECHECK_LEAD_MS = UNLIMITED_RECHECK_MS - BLOCK_MS
/** The first and the longest wait of a limited loop that found the queue empty. */
const IDLE_FIRST_MS = 10
const IDLE_MAX_MS = 100

/** What the loop may read now. */
export interface Grant {
  readonly count: number
  readonly blockMs: number
  /** Tokens taken from the store's bucket or leases granted (returned when unused). */
  readonly remote: boolean
  readonly leases: ReadonlyArray<string>
  /** Tokens taken from this worker's own bucket. */
  readonly local: number
}

/** Configuration of a loop's permits. */
export interface PermitsConfig {
  readonly taskQueue: string
  /** Names the leases: the loop's consumer name. */
  readonly holder: string
  /** This worker's own limit, tasks per second (Temporal's `maxActivitiesPerSecond`). */
  readonly localRate?: number
}

/** A loop's permits (see the module comment). */
export interface ActivityPermits {
  /** Wait until at least one task may start (at most `free`), and say how many. */
  readonly take: (free: number) => Effect.Effect<Grant>
  /** `used` tasks were read: give back the rest; resolves to the leases of the used ones (one each, or none). */
  readonly settle: (grant: Grant, used: number) => Effect.Effect<ReadonlyArray<string | undefined>>
  /** A task is done: release its lease. */
  readonly release: (lease: string) => Effect.Effect<void>
  /** Tasks are still running: extend their leases. */
  readonly renew: (leases: ReadonlyArray<string>) => Effect.Effect<void>
  /**
   * Whether a task may start now without asking: the queue was seen
   * unlimited within the last `UNLIMITED_RECHECK_MS` and this worker has no
   * rate of its own (a hand-off claims tasks only then).
   */
  readonly unlimited: () => boolean
}

/** Make the permits of one activity-task loop over `store`. */
export const makeActivityPermits = (store: StoreShape, clock: Clock.Clock, config: PermitsConfig): ActivityPermits => {
  const { taskQueue, holder, localRate } = config
  const leaseMs = store.visibilityTimeoutMs
  let unlimitedUntil = -Infinity
  let localBucket: Bucket | undefined
  let idleMs = IDLE_FIRST_MS
  const localBurst = localRate === undefined ? 0 : defaultBurst(localRate)

  /** This worker's own tokens: how many of `want` it may start now, or how long until one. */
  const takeLocal = (want: number): { readonly count: number; readonly waitMs: number } => {
    if (localRate === undefined) return { count: want, waitMs: 0 }
    localBucket = refill(localBucket, clock.currentTimeMillisUnsafe(), localRate, localBurst)
    const count = Math.min(want, Math.floor(localBucket.tokens))
    if (count === 0) return { count: 0, waitMs: msUntilToken(localBucket, localRate) }
    localBucket = { tokens: localBucket.tokens - count, at: localBucket.at }
    return { count, waitMs: 0 }
  }
  const giveBackLocal = (tokens: number) => {
    if (localRate === undefined || tokens <= 0 || localBucket === undefined) return
    localBucket = { tokens: Math.min(localBurst, localBucket.tokens + tokens), at: localBucket.at }
  }

  const take = (free: number): Effect.Effect<Grant> =>
    Effect.gen(function* () {
      for (;;) {
        const local = takeLocal(free)
        if (local.count === 0) {
          yield* Effect.sleep(Math.max(1, local.waitMs))
          continue
        }
        const localTaken = localRate === undefined ? 0 : local.count
        const now = clock.currentTimeMillisUnsafe()
        // A read ends a little before "unlimited" needs checking again, so the check comes in time and
        // `unlimited()` (hand-offs) stays true throughout on an unlimited queue.
        if (now < unlimitedUntil - RECHECK_LEAD_MS) {
          return { count: local.count, blockMs: Math.min(BLOCK_MS, unlimitedUntil - RECHECK_LEAD_MS - now), remote: false, leases: [], local: localTaken }
        }
        const permits = yield* retryStoreErrors("activity permits", store.acquirePermits(taskQueue, { holder, want: local.count, leaseMs }))
        if (!permits.limited) {
          unlimitedUntil = clock.currentTimeMillisUnsafe() + UNLIMITED_RECHECK_MS
          return { count: local.count, blockMs: BLOCK_MS, remote: false, leases: [], local: localTaken }
        }
        if (permits.granted > 0) {
          giveBackLocal(localTaken - permits.granted)
          return { count: permits.granted, blockMs: 0, remote: true, leases: permits.leases, local: Math.min(localTaken, permits.granted) }
        }
        giveBackLocal(localTaken)
        yield* Effect.sleep(Math.max(1, permits.retryAfterMs))
      }
    })

  const settle = (grant: Grant, used: number): Effect.Effect<ReadonlyArray<string | undefined>> =>
    Effect.gen(function* () {
      giveBackLocal(grant.local - used)
      const unused = grant.count - used
      if (grant.remote && unused > 0) {
        yield* Effect.ignore(retryStoreErrors("activity permits", store.releasePermits(taskQueue, grant.leases.slice(used), unused)))
      }
      if (grant.remote && used === 0) {
        yield* Effect.sleep(idleMs)
        idleMs = Math.min(IDLE_MAX_MS, idleMs * 2)
      } else if (used > 0) {
        idleMs = IDLE_FIRST_MS
      }
      return Array.from({ length: used }, (_, i) => grant.leases[i])
    })

  return {
    take,
    settle,
    release: (lease) => Effect.ignore(Effect.timeout(store.releasePermits(taskQueue, [lease], 0), "5 seconds")),
    renew: (leases) => (leases.length === 0 ? Effect.void : Effect.ignore(store.renewPermits(taskQueue, leases, leaseMs))),
    unlimited: () => localRate === undefined && clock.currentTimeMillisUnsafe() < unlimitedUntil,
  }
}
