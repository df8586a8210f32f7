/**
 * Hostile stream entries (support/hostile.ts: truncated JSON, non-objects,
 * random fields, huge values, real shapes with missing or mistyped fields),
 * appended to the workflow and activity streams of a running worker while it
 * serves good workflows: the good workflows finish with their results, every
 * hostile entry is dead-lettered on its first delivery with a reason and its
 * body intact, nothing else is dead-lettered, and the worker keeps running.
 * On the memory store (time-skipping environment), and a smaller run on a
 * real redis-server.
 */
import fc from "fast-check"
import { Client, Connection } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { describe, it } from "vitest"
import { useRedis } from "../test/support/redisServer.ts"
import { assertProperty, numRuns, timeoutFor } from "./support/check.ts"
import { hostileEntriesArb, serveUnderAttack } from "./support/hostile.ts"

const redis = await useRedis()
const RUNS = numRuns(50)
const REDIS_RUNS = Math.max(1, Math.floor(RUNS / 5))

let counter = 0
const goodIdsFor = (label: string) => {
  const run = `${label}-${++counter}`
  return [0, 1, 2, 3].map((i) => `good-${run}-${i}`)
}

/** Wait (real time, bounded) until `count` dead letters are listed. */
const deadLettersReach = (client: Client, taskQueue: string) => async (count: number) => {
  const deadline = Date.now() + 20_000
  for (;;) {
    const listed = (await client.deadLetters.list({ taskQueue })).length
    if (listed >= count) return
    if (Date.now() > deadline) throw new Error(`only ${listed} of ${count} hostile entries reached the dead letters within 20 s`)
    await new Promise<void>((resolve) => setTimeout(resolve, 5))
  }
}

// The good workflows' ids, fixed per property so hostile entries can target them.
const MEMORY_IDS = ["good-memory-0", "good-memory-1", "good-memory-2", "good-memory-3"]

describe("hostile messages", () => {
  it(`are dead-lettered at once while good workflows are served: memory (${RUNS} runs)`, async () => {
    await assertProperty(
      { file: "hostile.test.ts", test: "are dead-lettered at once while good workflows are served: memory" },
      fc.asyncProperty(hostileEntriesArb(MEMORY_IDS, 30), async (entries) => {
        const env = await TestWorkflowEnvironment.createTimeSkipping({ logLevel: (process.env.HOSTILE_LOG ?? "None") as "None" })
        try {
          // Fresh ids per run (the store is fresh too, but a workflow id must not be reused in a run).
          const ids = goodIdsFor("memory")
          const rekeyed = entries.map((e) => {
            const index = MEMORY_IDS.indexOf(e.key)
            return index < 0 ? e : { ...e, key: ids[index]! }
          })
          await serveUnderAttack(env.connection, env.client, "hostile", ids, rekeyed, deadLettersReach(env.client, "hostile"))
        } finally {
          await env.teardown()
        }
      }),
      RUNS,
      // A run that hangs is a counterexample, not a test timeout.
      { timeout: 30_000 },
    )
  }, timeoutFor(RUNS, 3000))

  it(`are dead-lettered at once while good workflows are served: redis (${REDIS_RUNS} runs)`, async () => {
    const prefix = `hostile-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
    await assertProperty(
      { file: "hostile.test.ts", test: "are dead-lettered at once while good workflows are served: redis" },
      fc.asyncProperty(hostileEntriesArb(MEMORY_IDS, 15), async (entries) => {
        const connection = await Connection.connect({ redis: redis.url, namespace: `${prefix}-${++counter}`, logLevel: "None" })
        try {
          const client = new Client({ connection })
          const ids = goodIdsFor("redis")
          const rekeyed = entries.map((e) => {
            const index = MEMORY_IDS.indexOf(e.key)
            return index < 0 ? e : { ...e, key: ids[index]! }
          })
          await serveUnderAttack(connection, client, "hostile", ids, rekeyed, deadLettersReach(client, "hostile"))
        } finally {
          await connection.close()
        }
      }),
      REDIS_RUNS,
      { timeout: 30_000 },
    )
  }, timeoutFor(REDIS_RUNS, 10_000))
})
