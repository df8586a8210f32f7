import { describe, expect, it } from "vitest"
import { type Duration, formatMillis, optionalMillis, toMillis } from "../../src/core/duration.ts"
import { thrown } from "./thrown.ts"

describe("toMillis", () => {
  it.each<[Duration, number]>([
    [0, 0],
    [1500, 1500],
    [1.4, 1],
    [1.5, 2],
    ["5", 5],
    ["500ms", 500],
    ["10s", 10_000],
    ["10S", 10_000],
    [" 10 s ", 10_000],
    [".5s", 500],
    ["1.5s", 1500],
    ["5m", 300_000],
    ["2 minutes", 120_000],
    ["2h", 7_200_000],
    ["1.5 hours", 5_400_000],
    ["1 day", 86_400_000],
    ["30 days", 2_592_000_000],
    ["2w", 1_209_600_000],
    ["3 msecs", 3],
  ])("%j → %i ms", (input, expected) => {
    expect(toMillis(input)).toBe(expected)
  })

  it.each<[string, unknown]>([
    ["negative number", -1],
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["negative string", "-5s"],
    ["unknown unit", "10 parsecs"],
    ["empty string", ""],
    ["only a unit", "s"],
    ["exponent", "1e3"],
    ["trailing dot", "5."],
    ["two numbers", "1s 2s"],
    ["an object", {}],
    ["null", null],
  ])("%s → InvalidArgumentError naming the label", (_name, input) => {
    const error = thrown(() => toMillis(input as Duration, "activity.startToCloseTimeout"))
    expect(error._tag).toBe("InvalidArgumentError")
    expect(error.message).toContain("activity.startToCloseTimeout")
  })

  it("uses the label `duration` by default", () => {
    expect(thrown(() => toMillis("soon")).message).toMatch(/^duration: cannot parse duration "soon"/)
    expect(thrown(() => toMillis(-3)).message).toBe("duration must be a finite, non-negative number of milliseconds; got -3")
  })
})

describe("optionalMillis", () => {
  it("keeps undefined", () => {
    expect(optionalMillis(undefined, "x")).toBeUndefined()
  })
  it("parses a value", () => {
    expect(optionalMillis("2s", "x")).toBe(2000)
  })
  it("names the label on error", () => {
    expect(thrown(() => optionalMillis("2 fortnights", "timer")).message).toContain("timer")
  })
})

describe("formatMillis", () => {
  it.each<[number, string]>([
    [0, "0ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [59_999, "60s"],
    [60_000, "1m"],
    [90_000, "1.5m"],
    [3_600_000, "1h"],
    [5_400_000, "1.5h"],
    [86_400_000, "1d"],
    [2_592_000_000, "30d"],
    [1234, "1.23s"],
  ])("%i → %s", (ms, expected) => {
    expect(formatMillis(ms)).toBe(expected)
  })
})
