/**
 * Retry policy as data, and the pure backoff function. Temporal's semantics:
 * 1 s initial interval, coefficient 2, maximum interval 100 × initial,
 * unlimited attempts; no jitter (so schedules are reproducible in tests).
 */
import { type Duration, toMillis } from "./duration.ts"
import { InvalidArgumentError } from "./errors.ts"
import type { FailureInfo } from "./failure.ts"

/** Retry policy as users write it (Temporal's `RetryPolicy`). */
export interface RetryPolicy {
  readonly initialInterval?: Duration
  readonly backoffCoefficient?: number
  readonly maximumInterval?: Duration
  /** Total attempts including the first; 0 or absent means unlimited. */
  readonly maximumAttempts?: number
  readonly nonRetryableErrorTypes?: ReadonlyArray<string>
}

/** A validated policy in milliseconds, as stored in workflow state. */
export interface ResolvedRetryPolicy {
  readonly initialIntervalMs: number
  readonly backoffCoefficient: number
  readonly maximumIntervalMs: number
  /** 0 = unlimited. */
  readonly maximumAttempts: number
  readonly nonRetryableErrorTypes: ReadonlyArray<string>
}

/** Validate and fill defaults. Throws `InvalidArgumentError` naming the bad field. */
export const resolveRetryPolicy = (policy: RetryPolicy | undefined): ResolvedRetryPolicy => {
  const initialIntervalMs = toMillis(policy?.initialInterval ?? 1000, "retry.initialInterval")
  if (initialIntervalMs <= 0) throw new InvalidArgumentError({ message: "retry.initialInterval must be greater than 0" })
  const backoffCoefficient = policy?.backoffCoefficient ?? 2
  if (!Number.isFinite(backoffCoefficient) || backoffCoefficient < 1) {
    throw new InvalidArgumentError({ message: `retry.backoffCoefficient must be >= 1; got ${backoffCoefficient}` })
  }
  const maximumIntervalMs = toMillis(policy?.maximumInterval ?? initialIntervalMs * 100, "retry.maximumInterval")
  if (maximumIntervalMs < initialIntervalMs) {
    throw new InvalidArgumentError({ message: "retry.maximumInterval must be >= retry.initialInterval" })
  }
  const maximumAttempts = policy?.maximumAttempts ?? 0
  if (!Number.isInteger(maximumAttempts) || maximumAttempts < 0) {
    throw new InvalidArgumentError({ message: `retry.maximumAttempts must be a non-negative integer; got ${maximumAttempts}` })
  }
  return {
    initialIntervalMs,
    backoffCoefficient,
    maximumIntervalMs,
    maximumAttempts,
    nonRetryableErrorTypes: [...(policy?.nonRetryableErrorTypes ?? [])],
  }
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed with `failure`,
 * or `undefined` when the failure is final (non-retryable, or attempts spent).
 */
export const nextDelay = (policy: ResolvedRetryPolicy, attempt: number, failure: FailureInfo): number | undefined => {
  if (failure.nonRetryable === true) return undefined
  if (failure.type !== undefined && policy.nonRetryableErrorTypes.includes(failure.type)) return undefined
  if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts) return undefined
  const delay = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, attempt - 1)
  return Math.min(Math.round(delay), policy.maximumIntervalMs)
}
