/**
 * Temporal's `TestWorkflowEnvironment`, as a Temporal user's test sets it up:
 * `createTimeSkipping` / `createLocal` with Temporal's `server` options, the
 * environment's `nativeConnection`, `client`, `namespace`, `sleep`,
 * `currentTimeMs()` and `teardown()`.
 */
import { Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { describe, expect, it } from "vitest"
import { buggy, napThenAnswer } from "./workflows/testing-env.ts"

const workflows = { napThenAnswer, buggy }

describe("TestWorkflowEnvironment", () => {
  it("createTimeSkipping accepts Temporal's server options and skips a 30-day sleep", async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: "cached-download" }, extraArgs: ["--log-level", "warn"] } })
    try {
      const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue: "env", workflows })
      const before = await env.currentTimeMs()
      const result = await worker.runUntil(env.client.workflow.execute(napThenAnswer, { taskQueue: "env", workflowId: "nap" }))
      expect(result).toBe("rested")
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000)
    } finally {
      await env.teardown()
    }
  })

  it("env.sleep moves the virtual clock", async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const before = await env.currentTimeMs()
      await env.sleep("1 hour")
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(3600 * 1000)
    } finally {
      await env.teardown()
    }
  })

  it("createLocal accepts Temporal's server options and runs a workflow", async () => {
    const env = await TestWorkflowEnvironment.createLocal({ server: { namespace: "ignored-by-hotmesh" } })
    try {
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: "local", workflows })
      const handle = await env.client.workflow.start(napThenAnswer, { taskQueue: "local", workflowId: "local-nap" })
      await worker.runUntil(async () => {
        await expect(handle.describe()).resolves.toMatchObject({ status: "RUNNING" })
      })
    } finally {
      await env.teardown()
    }
  })

  it("a workflow task failing on a bug under time skipping backs off: few attempts, visible in describe()", async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: "bug", workflows })
      const handle = await env.client.workflow.start(buggy, { taskQueue: "bug", workflowId: "buggy" })
      const failure = await worker.runUntil(async () => {
        for (;;) {
          const { taskFailure } = await handle.describe()
          if (taskFailure !== undefined) return taskFailure
          await new Promise((resolve) => setImmediate(resolve))
        }
      })
      expect(failure.message).toMatch(/not a function/)
      // Time skipping stands still while nothing awaits a result: the retry backoff holds.
      expect((await handle.describe()).taskFailure?.attempt).toBeLessThanOrEqual(3)
    } finally {
      await env.teardown()
    }
  })

  it("with a result waiter, a buggy workflow task is retried by its backoff in virtual time, not in a hot loop", async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ logLevel: "Error" })
    try {
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: "bug-waited", workflows })
      const handle = await env.client.workflow.start(buggy, { taskQueue: "bug-waited", workflowId: "buggy-waited" })
      const before = await env.currentTimeMs()
      await worker.runUntil(async () => {
        const waiter = handle.result().then(() => undefined, (e: unknown) => e) // lets virtual time pass
        for (;;) {
          const attempt = (await handle.describe()).taskFailure?.attempt ?? 0
          if (attempt >= 3) break
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        // Attempt 3 came after the backoffs of attempts 1 and 2 (1 s, 2 s) had passed in virtual time.
        expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(1000 + 2000)
        expect((await handle.describe()).taskFailure?.attempt).toBeLessThanOrEqual(4)
        await handle.terminate("done")
        await waiter
      })
    } finally {
      await env.teardown()
    }
  })

  it("teardown while a worker still runs raises no unhandled rejection", async () => {
    const unhandled: Array<unknown> = []
    const onUnhandled = (reason: unknown) => void unhandled.push(reason)
    process.on("unhandledRejection", onUnhandled)
    try {
      const env = await TestWorkflowEnvironment.createTimeSkipping()
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: "td", workflows })
      const running = worker.run()
      await env.client.workflow.start(napThenAnswer, { taskQueue: "td", workflowId: "td" })
      await env.teardown()
      await running
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
      expect(worker.getState()).toBe("STOPPED")
    } finally {
      process.off("unhandledRejection", onUnhandled)
    }
  })
})
