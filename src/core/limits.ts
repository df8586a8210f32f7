/**
 * Back-pressure of a task queue, as data: its limits (a rate as a token
 * bucket, a concurrency as a count of leases), their validation, and the
 * token-bucket arithmetic every backend (the memory store, the Redis
 * `acquire` script, a worker's own `maxActivitiesPerSecond`) applies the
 * same way. Pure: the caller passes the time in.
 */
import { InvalidArgumentError } from "./errors.ts"

/**
 * The limits of one task queue's activity tasks, shared by every process of
 * the namespace. An absent field is no limit.
 */
export interface QueueLimits {
  /** Activity tasks started per second, across all workers (a token bucket). */
  readonly rate?: number
  /** Tokens the bucket holds at most: how many may start at once after a quiet spell. Default `defaultBurst(rate)`. */
  readonly burst?: number
  /** Activity tasks running at once, across all workers. */
  readonly concurrency?: number
  /** No activity task starts while set; tasks wait on the queue. */
  readonly paused?: boolean
}

/** A change to a queue's limits: a number sets the limit, `null` clears it, an absent field keeps it. */
export interface QueueLimitsChange {
  readonly rate?: number | null
  readonly burst?: number | null
  readonly concurrency?: number | null
  readonly paused?: boolean
}

/** How long a caller waits before asking for permits again while a queue is paused. */
export const PAUSED_RETRY_MS = 500
/** How long a caller waits before asking again while every concurrency lease is held (a release may come any time). */
export const CONCURRENCY_RETRY_MS = 50

/** The bucket size when none is given: a tenth of a second of tokens, at least one. */
export const defaultBurst = (rate: number): number => Math.max(1, Math.ceil(rate / 10))

/** Does `limits` limit anything? (A queue with none is read as fast as workers can.) */
export const isLimited = (limits: QueueLimits): boolean =>
  limits.rate !== undefined || limits.concurrency !== undefined || limits.paused === true

/** A token bucket's state: `tokens` (fractional) as of `at` (epoch ms). */
export interface Bucket {
  readonly tokens: number
  readonly at: number
}

/** The bucket at `now`: refilled at `rate` per second since `at`, at most `burst` (a bucket never seen is full). */
export const refill = (bucket: Bucket | undefined, now: number, rate: number, burst: number): Bucket =>
  bucket === undefined
    ? { tokens: burst, at: now }
    : { tokens: Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * rate) / 1000), at: Math.max(now, bucket.at) }

/** How long until the bucket holds one whole token (0 when it does). */
export const msUntilToken = (bucket: Bucket, rate: number): number =>
  bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / rate)

const check = (label: string, value: unknown, integer: boolean): void => {
  if (value === undefined || value === null) return
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InvalidArgumentError({ message: `${label} must be ${integer ? "a positive integer" : "a positive number"} (or null to clear it), got ${String(value)}` })
  }
}

/** Validate a change of limits (`InvalidArgumentError` naming the bad field); returns it. */
export const checkLimitsChange = (where: string, change: QueueLimitsChange): QueueLimitsChange => {
  if (typeof change !== "object" || change === null) throw new InvalidArgumentError({ message: `${where}: limits must be an object` })
  const known = new Set(["rate", "burst", "concurrency", "paused"])
  for (const key of Object.keys(change)) {
    if (!known.has(key)) throw new InvalidArgumentError({ message: `${where}: unknown limit "${key}" (rate, burst, concurrency, paused)` })
  }
  check(`${where}: rate`, change.rate, false)
  check(`${where}: burst`, change.burst, true)
  check(`${where}: concurrency`, change.concurrency, true)
  if (change.paused !== undefined && typeof change.paused !== "boolean") throw new InvalidArgumentError({ message: `${where}: paused must be a boolean` })
  return change
}

/** `limits` with `change` applied (the burst goes with the rate: clearing the rate clears it). */
export const applyLimitsChange = (limits: QueueLimits, change: QueueLimitsChange): QueueLimits => {
  const pick = (now: number | undefined, next: number | null | undefined) => (next === null ? undefined : next ?? now)
  const rate = pick(limits.rate, change.rate)
  const burst = rate === undefined ? undefined : pick(limits.burst, change.burst)
  const concurrency = pick(limits.concurrency, change.concurrency)
  const paused = change.paused ?? limits.paused ?? false
  return {
    ...(rate === undefined ? {} : { rate }),
    ...(burst === undefined ? {} : { burst }),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(paused ? { paused } : {}),
  }
}
