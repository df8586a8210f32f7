/**
 * Retention: a closed execution (record and journal) is deleted once the
 * connection's retention has passed; running and recently closed ones stay.
 */
import { Worker, WorkflowNotFoundError } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { sleep } from "hotmesh/workflow"
import { afterEach, beforeEach, describe, expect, it } from "vitest"

async function nap(duration: string): Promise<string> {
  await sleep(duration)
  return `slept ${duration}`
}

let env: TestWorkflowEnvironment
beforeEach(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({ retention: "1 day" })
})
afterEach(async () => {
  await env.teardown()
})

describe("retention", () => {
  it("deletes closed executions after the retention period, not before", async () => {
    const worker = await Worker.create({ connection: env.connection, taskQueue: "ret", workflows: { nap } })
    await worker.runUntil(async () => {
      expect(await env.client.workflow.execute(nap, { taskQueue: "ret", workflowId: "old", args: ["1 hour"] })).toBe("slept 1 hour")
      const old = env.client.workflow.getHandle("old")
      expect((await old.fetchHistory()).events.length).toBeGreaterThan(0)
      // Two days pass while another workflow sleeps; the first one's retention (1 day) runs out.
      expect(await env.client.workflow.execute(nap, { taskQueue: "ret", workflowId: "new", args: ["2 days"] })).toBe("slept 2 days")
      await expect(old.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError)
      const fresh = await env.client.workflow.getHandle("new").describe()
      expect(fresh.status).toBe("COMPLETED")
    })
  })

  it("keeps everything by default in the test environment", async () => {
    const keeper = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const worker = await Worker.create({ connection: keeper.connection, taskQueue: "ret", workflows: { nap } })
      await worker.runUntil(async () => {
        await keeper.client.workflow.execute(nap, { taskQueue: "ret", workflowId: "a", args: ["1 hour"] })
        await keeper.client.workflow.execute(nap, { taskQueue: "ret", workflowId: "b", args: ["30 days"] })
        expect((await keeper.client.workflow.getHandle("a").describe()).status).toBe("COMPLETED")
      })
    } finally {
      await keeper.teardown()
    }
  })
})
