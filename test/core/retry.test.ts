import { describe, expect, it } from "vitest"
import type { FailureInfo } from "../../src/core/failure.ts"
import { nextDelay, resolveRetryPolicy, type RetryPolicy } from "../../src/core/retry.ts"
import { thrown } from "./thrown.ts"

const failure = (patch: Partial<FailureInfo> = {}): FailureInfo => ({ kind: "application", message: "boom", type: "Error", ...patch })

describe("resolveRetryPolicy", () => {
  it("fills Temporal's defaults: 1 s, ×2, 100 × initial, unlimited", () => {
    expect(resolveRetryPolicy(undefined)).toStrictEqual({
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 100_000,
      maximumAttempts: 0,
      nonRetryableErrorTypes: [],
    })
    expect(resolveRetryPolicy({})).toStrictEqual(resolveRetryPolicy(undefined))
  })

  it("derives the default maximum interval from the initial interval", () => {
    expect(resolveRetryPolicy({ initialInterval: "2s" }).maximumIntervalMs).toBe(200_000)
    expect(resolveRetryPolicy({ initialInterval: 250 }).maximumIntervalMs).toBe(25_000)
  })

  it("parses durations and copies the error types", () => {
    const types = ["CardDeclined"]
    const policy = resolveRetryPolicy({
      initialInterval: "500ms",
      backoffCoefficient: 1.5,
      maximumInterval: "1 minute",
      maximumAttempts: 5,
      nonRetryableErrorTypes: types,
    })
    expect(policy).toStrictEqual({
      initialIntervalMs: 500,
      backoffCoefficient: 1.5,
      maximumIntervalMs: 60_000,
      maximumAttempts: 5,
      nonRetryableErrorTypes: ["CardDeclined"],
    })
    expect(policy.nonRetryableErrorTypes).not.toBe(types)
  })

  it.each<[string, RetryPolicy]>([
    ["backoffCoefficient 1", { backoffCoefficient: 1 }],
    ["maximumInterval = initialInterval", { initialInterval: "3s", maximumInterval: 3000 }],
    ["maximumAttempts 1", { maximumAttempts: 1 }],
  ])("accepts the boundary %s", (_name, policy) => {
    expect(() => resolveRetryPolicy(policy)).not.toThrow()
  })

  it.each<[string, RetryPolicy, string]>([
    ["initialInterval 0", { initialInterval: 0 }, "retry.initialInterval"],
    ["initialInterval negative", { initialInterval: -1 }, "retry.initialInterval"],
    ["initialInterval unparseable", { initialInterval: "soon" }, "retry.initialInterval"],
    ["backoffCoefficient < 1", { backoffCoefficient: 0.5 }, "retry.backoffCoefficient"],
    ["backoffCoefficient NaN", { backoffCoefficient: NaN }, "retry.backoffCoefficient"],
    ["backoffCoefficient Infinity", { backoffCoefficient: Infinity }, "retry.backoffCoefficient"],
    ["maximumInterval < initialInterval", { initialInterval: "1s", maximumInterval: "500ms" }, "retry.maximumInterval"],
    ["maximumInterval unparseable", { maximumInterval: "forever" }, "retry.maximumInterval"],
    ["maximumAttempts negative", { maximumAttempts: -1 }, "retry.maximumAttempts"],
    ["maximumAttempts fractional", { maximumAttempts: 1.5 }, "retry.maximumAttempts"],
    ["maximumAttempts NaN", { maximumAttempts: NaN }, "retry.maximumAttempts"],
  ])("%s → InvalidArgumentError naming %s", (_name, policy, field) => {
    const error = thrown(() => resolveRetryPolicy(policy))
    expect(error._tag).toBe("InvalidArgumentError")
    expect(error.message).toContain(field)
  })
})

describe("nextDelay", () => {
  const defaults = resolveRetryPolicy(undefined)

  it("doubles from 1 s and caps at 100 s, without limit by default", () => {
    const delays = Array.from({ length: 12 }, (_, i) => nextDelay(defaults, i + 1, failure()))
    expect(delays).toStrictEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 100_000, 100_000, 100_000, 100_000, 100_000])
    expect(nextDelay(defaults, 10_000, failure())).toBe(100_000)
  })

  it("rounds fractional backoff and respects a custom cap", () => {
    const policy = resolveRetryPolicy({ initialInterval: 1000, backoffCoefficient: 1.5, maximumInterval: 5000 })
    const delays = [1, 2, 3, 4, 5].map((attempt) => nextDelay(policy, attempt, failure()))
    expect(delays).toStrictEqual([1000, 1500, 2250, 3375, 5000])
    const uncapped = resolveRetryPolicy({ initialInterval: 1000, backoffCoefficient: 1.5, maximumInterval: 6000 })
    expect(nextDelay(uncapped, 5, failure())).toBe(5063)
  })

  it("keeps a constant delay with coefficient 1", () => {
    const policy = resolveRetryPolicy({ initialInterval: "3s", backoffCoefficient: 1 })
    expect([1, 2, 50].map((attempt) => nextDelay(policy, attempt, failure()))).toStrictEqual([3000, 3000, 3000])
  })

  it.each<[string, RetryPolicy, number, FailureInfo, number | undefined]>([
    ["nonRetryable failure", {}, 1, failure({ nonRetryable: true }), undefined],
    ["nonRetryable false retries", {}, 1, failure({ nonRetryable: false }), 1000],
    ["type listed as non-retryable", { nonRetryableErrorTypes: ["CardDeclined"] }, 1, failure({ type: "CardDeclined" }), undefined],
    ["type not listed", { nonRetryableErrorTypes: ["CardDeclined"] }, 1, failure({ type: "Timeout" }), 1000],
    ["no type with a list", { nonRetryableErrorTypes: ["CardDeclined"] }, 1, { kind: "timeout", message: "t" }, 1000],
    ["maximumAttempts 1: never retried", { maximumAttempts: 1 }, 1, failure(), undefined],
    ["attempt 2 of 3 retries", { maximumAttempts: 3 }, 2, failure(), 2000],
    ["attempt 3 of 3 is final", { maximumAttempts: 3 }, 3, failure(), undefined],
    ["beyond maximumAttempts is final", { maximumAttempts: 3 }, 4, failure(), undefined],
    ["maximumAttempts 0 is unlimited", { maximumAttempts: 0 }, 1000, failure(), 100_000],
  ])("%s", (_name, policy, attempt, cause, expected) => {
    expect(nextDelay(resolveRetryPolicy(policy), attempt, cause)).toBe(expected)
  })
})
