/**
 * Durations as users write them (`"30 days"`, `"10s"`, `1500`), parsed to
 * milliseconds. Pure; the formats follow the `ms` package Temporal uses.
 */
import { InvalidArgumentError } from "./errors.ts"

/** A duration: milliseconds, or a string such as `"10s"`, `"1.5 hours"`, `"30 days"`. */
export type Duration = number | string

const UNITS: Record<string, number> = {
  ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
}

const PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i

/**
 * Milliseconds in `input`. Throws `InvalidArgumentError` naming `label` for a
 * negative, non-finite or unparseable duration; a bare number string is ms.
 */
export const toMillis = (input: Duration, label = "duration"): number => {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) {
      throw new InvalidArgumentError({ message: `${label} must be a finite, non-negative number of milliseconds; got ${input}` })
    }
    return Math.round(input)
  }
  if (typeof input !== "string") {
    throw new InvalidArgumentError({ message: `${label} must be a number of milliseconds or a string like "10s"; got ${typeof input}` })
  }
  const match = PATTERN.exec(input)
  const unit = match?.[2]?.toLowerCase() ?? ""
  const factor = unit === "" ? 1 : UNITS[unit]
  if (match === null || factor === undefined) {
    throw new InvalidArgumentError({
      message: `${label}: cannot parse duration ${JSON.stringify(input)}; use milliseconds or e.g. "500ms", "10s", "5m", "2h", "30 days"`,
    })
  }
  return Math.round(Number(match[1]) * factor)
}

/** Like `toMillis` but `undefined` stays `undefined`. */
export const optionalMillis = (input: Duration | undefined, label: string): number | undefined =>
  input === undefined ? undefined : toMillis(input, label)

/** A short human form of `ms` for timelines and messages: `1.5s`, `30d`. */
export const formatMillis = (ms: number): string => {
  if (ms < 1000) return `${ms}ms`
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size) return `${Number((ms / size).toFixed(2))}${unit}`
  }
  return `${ms}ms`
}
