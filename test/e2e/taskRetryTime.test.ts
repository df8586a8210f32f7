/**
 * A workflow task that fails on a bug is retried by a durable timer with
 * backoff. Under time skipping, a caller awaiting the result must not turn
 * those retries into a hot loop (the clock jumping to each retry at once):
 * the environment lets a result waiter reach a task-retry timer only after
 * about a second of real time, and fixed code still takes over.
 */
import { Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { expect, it } from "vitest"
import { eventually, unique } from "../fixtures/e2e-support.ts"

let broken = true
async function fragile(): Promise<string> {
  if (broken) throw new TypeError("notAFunction is not a function")
  return "fixed"
}

it("task retries under time skipping are spaced in real time, and fixed code takes over", async () => {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ logLevel: "Error" })
  try {
    const worker = await Worker.create({ connection: env.connection, taskQueue: "fragile", workflows: { fragile } })
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(fragile, { taskQueue: "fragile", workflowId: unique("fragile") })
      const result = handle.result()
      const attempt = async (n: number) => eventually(async () => ((await handle.describe()).taskFailure?.attempt ?? 0) >= n || undefined, `task attempt ${n}`)
      await attempt(1)
      const first = performance.now()
      await attempt(2)
      // The retry waited for real time (a hot loop would have run it at once, and thousands more after it).
      expect(performance.now() - first).toBeGreaterThanOrEqual(900)
      expect((await handle.describe()).taskFailure?.attempt).toBeLessThanOrEqual(3)
      broken = false
      expect(await result).toBe("fixed")
    })
  } finally {
    await env.teardown()
  }
})
