/**
 * The chaos harness (bench/chaos/scenarios.ts, `npm run chaos`), small:
 * every acknowledged start completes exactly once through worker SIGKILLs,
 * a redis-server SIGKILL with AOF, connection resets, malformed stream
 * entries and a rollback to an older RDB snapshot. The silent-server and
 * eviction scenarios are test/redis/connect.test.ts's; see the harness's
 * header for which test covers which scenario.
 */
import { describe, expect, it } from "vitest"
import { connectionResets, hostileEntries, hostileStreamEntries, rdbRollback, redisKill, type ScenarioResult, workerKills } from "../../bench/chaos/scenarios.ts"

const small = { workflows: 10, chaosMs: 2500, deadlineMs: 20_000 }

/** Every acknowledged start completed, once, with a replayable history. */
const expectNothingLost = (result: ScenarioResult) => {
  expect(result.workflows, result.notes).toBeGreaterThan(0)
  expect(result.lost, result.notes).toBe(0)
  expect(result.completed, result.notes).toBe(result.workflows)
  expect(result.duplicates, result.notes).toBe(0)
  expect(result.replayFailures, result.notes).toBe(0)
}

const count = (notes: string, what: string): number => Number(new RegExp(`(\\d+) ${what}`).exec(notes)?.[1] ?? 0)

describe.concurrent("chaos, small", () => {
  it("worker processes SIGKILLed under load", { timeout: 60_000 }, async () => {
    const result = await workerKills({ ...small, chaosMs: 3000 })
    expectNothingLost(result)
    expect(result.deadLetters).toBe(0)
    expect(count(result.notes, "kills"), result.notes).toBeGreaterThan(0)
  })

  it("redis-server SIGKILLed and restarted from its AOF (appendfsync always) loses no acknowledged start", { timeout: 60_000 }, async () => {
    const result = await redisKill("always", small)
    expectNothingLost(result)
    expect(result.deadLetters).toBe(0)
  })

  it("connections reset every 0.5–3 s", { timeout: 60_000 }, async () => {
    const result = await connectionResets(small)
    expectNothingLost(result)
    expect(result.deadLetters).toBe(0)
    expect(count(result.notes, "resets"), result.notes).toBeGreaterThan(0)
  })

  it("unreadable and misrouted stream entries are dead-lettered while good workflows complete", { timeout: 60_000 }, async () => {
    const result = await hostileStreamEntries(small)
    expectNothingLost(result)
    // Each malformed kind, on the workflow and on the activity stream.
    expect(result.deadLetters, result.notes).toBe(2 * (hostileEntries.unreadable.length + hostileEntries.misrouted.length))
  })

  it("after a rollback to an older RDB snapshot every workflow it holds reaches a final state with a replayable journal", { timeout: 60_000 }, async () => {
    const result = await rdbRollback(small)
    expect(result.notes).toContain(`0 of ${Math.ceil(small.workflows / 2)} in the snapshot are gone`)
    const goneAfter = count(result.notes, "of \\d+ started after SAVE are gone")
    expect(result.completed, result.notes).toBe(result.workflows - goneAfter)
    expect(result.lost).toBe(goneAfter)
    expect(result.duplicates).toBe(0)
    expect(result.replayFailures).toBe(0)
  })
})
