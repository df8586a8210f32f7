import { describe, expect, it } from "vitest"
import { applyLimitsChange, checkLimitsChange, defaultBurst, isLimited, msUntilToken, refill } from "../../src/core/limits.ts"

describe("token bucket arithmetic", () => {
  it.each([
    // bucket, now, rate, burst -> tokens, at
    [undefined, 1000, 10, 3, 3, 1000],
    [{ tokens: 0, at: 1000 }, 1100, 10, 3, 1, 1100],
    [{ tokens: 0.5, at: 1000 }, 1050, 10, 3, 1, 1050],
    [{ tokens: 2, at: 1000 }, 5000, 10, 3, 3, 5000],
    // A clock that goes back never drains the bucket nor moves its time back.
    [{ tokens: 1, at: 1000 }, 900, 10, 3, 1, 1000],
  ] as const)("refill(%j, %i, rate %i, burst %i) = %d tokens at %i", (bucket, now, rate, burst, tokens, at) => {
    const next = refill(bucket, now, rate, burst)
    expect(next.tokens).toBeCloseTo(tokens, 9)
    expect(next.at).toBe(at)
  })

  it("msUntilToken: 0 with a whole token, else the time the missing fraction takes", () => {
    expect(msUntilToken({ tokens: 1, at: 0 }, 10)).toBe(0)
    expect(msUntilToken({ tokens: 0, at: 0 }, 10)).toBe(100)
    expect(msUntilToken({ tokens: 0.75, at: 0 }, 10)).toBe(25)
    expect(msUntilToken({ tokens: 0, at: 0 }, 3)).toBe(334)
  })

  it("defaultBurst: a tenth of a second's worth, at least 1", () => {
    expect([0.5, 1, 10, 11, 50, 1000].map(defaultBurst)).toEqual([1, 1, 1, 2, 5, 100])
  })
})

describe("queue limits", () => {
  it("a change applies field by field; null clears; the burst goes with the rate", () => {
    expect(applyLimitsChange({}, { rate: 5 })).toEqual({ rate: 5 })
    expect(applyLimitsChange({ rate: 5, burst: 2 }, { concurrency: 3 })).toEqual({ rate: 5, burst: 2, concurrency: 3 })
    expect(applyLimitsChange({ rate: 5, burst: 2, concurrency: 3 }, { rate: null })).toEqual({ concurrency: 3 })
    expect(applyLimitsChange({}, { burst: 4 })).toEqual({})
    expect(applyLimitsChange({ concurrency: 3 }, { paused: true })).toEqual({ concurrency: 3, paused: true })
    expect(applyLimitsChange({ concurrency: 3, paused: true }, { paused: false })).toEqual({ concurrency: 3 })
  })

  it("isLimited: any limit or a pause", () => {
    expect([{}, { rate: 1 }, { concurrency: 1 }, { paused: true }, { paused: false }].map(isLimited)).toEqual([false, true, true, true, false])
  })

  it.each([
    [{ rate: 0 }, "rate must be a positive number"],
    [{ rate: Infinity }, "rate must be a positive number"],
    [{ burst: 1.5 }, "burst must be a positive integer"],
    [{ concurrency: -1 }, "concurrency must be a positive integer"],
    [{ paused: "yes" }, "paused must be a boolean"],
    [{ max: 3 }, 'unknown limit "max"'],
    [null, "limits must be an object"],
  ])("checkLimitsChange rejects %j", (change, message) => {
    expect(() => checkLimitsChange("setLimits", change as never)).toThrow(message)
  })

  it("checkLimitsChange accepts numbers, nulls and booleans", () => {
    const change = { rate: 2.5, burst: 3, concurrency: null, paused: false }
    expect(checkLimitsChange("setLimits", change)).toBe(change)
  })
})
