/** `Connection.connect`: options that cannot take effect are refused, never dropped. */
import { describe, expect, it } from "vitest"
import { Connection, InvalidArgumentError, Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { layerMemory } from "../../src/stores/memory.ts"

describe("Connection.connect", () => {
  it("shares one embedded store per namespace, and refuses to reopen it with other store options", async () => {
    const namespace = `conn-${Math.random().toString(36).slice(2)}`
    const first = await Connection.connect({ namespace, visibilityTimeoutMs: 5000 })
    const same = await Connection.connect({ namespace, visibilityTimeoutMs: 5000 })
    const unspecified = await Connection.connect({ namespace })
    const conflict = Connection.connect({ namespace, visibilityTimeoutMs: 1000 })
    await expect(conflict).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(conflict).rejects.toThrow(/visibilityTimeoutMs 5000.*visibilityTimeoutMs 1000/)
    await Promise.all([first.close(), same.close(), unspecified.close()])
  })

  it("refuses partitions without Redis, and store options beside a custom store", async () => {
    await expect(Connection.connect({ partitions: 4 })).rejects.toThrow(/partitions applies to Redis only/)
    await expect(Connection.connect({ store: layerMemory(), maxDeliveries: 3 })).rejects.toThrow(/maxDeliveries cannot be combined with a custom store/)
  })

  it("lanes: an integer in 1..64, the embedded store keeps the count it was opened with, not beside a custom store", async () => {
    for (const lanes of [0, 65, 1.5]) {
      await expect(Connection.connect({ lanes })).rejects.toThrow(new RegExp(`lanes must be an integer in 1\\.\\.64; got ${lanes}`))
    }
    const namespace = `lanes-${Math.random().toString(36).slice(2)}`
    const first = await Connection.connect({ namespace, lanes: 4 })
    await expect(Connection.connect({ namespace, lanes: 2 })).rejects.toThrow(/lanes 4.*lanes 2/)
    await expect(Connection.connect({ store: layerMemory(), lanes: 2 })).rejects.toThrow(/lanes cannot be combined with a custom store/)
    await first.close()
  })

  it("close() shuts down the workers still running on it: their run() resolves, nothing is left rejected", async () => {
    async function quick(): Promise<number> {
      return 1
    }
    const env = await TestWorkflowEnvironment.createTimeSkipping()
    const worker = await Worker.create({ connection: env.connection, taskQueue: "q", workflows: { quick } })
    const running = worker.run()
    expect(await env.client.workflow.execute(quick, { taskQueue: "q", workflowId: "quick" })).toBe(1)
    await env.teardown()
    await expect(running).resolves.toBeUndefined()
    expect(worker.getState()).toBe("STOPPED")
  })
})
