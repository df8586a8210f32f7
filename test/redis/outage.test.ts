/**
 * A client rides out a brief Redis outage: `start()` and `signal()` retry
 * store errors for a while (they are idempotent by run id and signal id),
 * and so do the reads (`describe`, `fetchHistory`, and each poll of a
 * `result()` waiter), so a Redis that stops answering for a second costs
 * latency, not errors.
 */
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as workflows from "./fixtures/workflows.ts"

// A server of its own: freezing it must not disturb other tests.
const redis = await useRedis({ extraArgs: ["--save", ""] })
const admin = new Redis(redis.url)
afterAll(() => admin.quit().then(() => undefined))

/** Freeze the redis-server process (connections stay open, nothing is answered) for `ms`. */
const freeze = async (ms: number): Promise<void> => {
  const pid = Number(/process_id:(\d+)/.exec(await admin.info("server"))?.[1])
  process.kill(pid, "SIGSTOP")
  setTimeout(() => {
    try {
      process.kill(pid, "SIGCONT")
    } catch {
      // already gone
    }
  }, ms)
}

describe("a brief Redis outage", () => {
  it("start(), signal(), fetchHistory() and result() wait it out instead of failing", async () => {
    const namespace = unique("outage")
    // Commands time out after 200 ms: without retries the outage would surface as a StoreError.
    const connection = await Connection.connect({ redis: redis.url, namespace, commandTimeoutMs: 200 })
    const client = new Client({ connection })
    const taskQueue = unique("q")
    try {
      await freeze(1000)
      const handle = await client.workflow.start(workflows.approval, { taskQueue, workflowId: unique("wf"), args: [{ timeout: "1 minute" }] })
      expect((await handle.describe()).status).toBe("RUNNING")
      await freeze(1000)
      await handle.signal(workflows.approve, "ada")
      await freeze(1000)
      expect((await handle.fetchHistory()).runId).toBe(handle.firstExecutionRunId)
      // A result waiter rides out an outage while it waits.
      const result = handle.result()
      await freeze(1000)
      const worker = await Worker.create({ connection, taskQueue, workflows })
      expect(await worker.runUntil(result)).toBe("approved by ada")
    } finally {
      await connection.close()
    }
  })
})
