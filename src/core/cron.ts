/**
 * Cron schedules (Temporal's `cronSchedule`), read in UTC as Temporal does.
 * Pure: the next time is computed from the time given, never the clock
 * (`cron-parser` is a pure parser).
 */
import { CronExpressionParser } from "cron-parser"

const parse = (schedule: string, after: number) => CronExpressionParser.parse(schedule, { currentDate: new Date(after), tz: "UTC" })

/** The first time after `after` (epoch ms) that `schedule` names. */
export const nextCronTime = (schedule: string, after: number): number => parse(schedule, after).next().getTime()

/** Why `schedule` is not a cron expression, or undefined when it is one. */
export const cronProblem = (schedule: unknown): string | undefined => {
  if (typeof schedule !== "string" || schedule.trim().length === 0) return "must be a non-empty string"
  try {
    parse(schedule, 0).next()
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}
