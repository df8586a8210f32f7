/**
 * assertDeterministic replays every prefix of saved histories (an array or a
 * folder of JSON files) against the current code, with the detector on.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Worker, type WorkflowHistory } from "hotmesh"
import { assertDeterministic, TestWorkflowEnvironment } from "hotmesh/testing"
import { describe, expect, it } from "vitest"
import * as order from "../../examples/order/workflows.ts"
import * as p from "./fixtures/planted.ts"

/** Record one execution of `workflow` (v1 of the shipping fixture) and return its history. */
const record = async (workflow: () => Promise<unknown>): Promise<WorkflowHistory> => {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ logLevel: "Error" })
  try {
    const worker = await Worker.create({ connection: env.connection, taskQueue: "t", workflows: { [workflow.name]: workflow }, activities: p.activities })
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(workflow, { taskQueue: "t", workflowId: `${workflow.name}-1` })
      await handle.result()
      return handle.fetchHistory()
    })
  } finally {
    await env.teardown()
  }
}

describe("assertDeterministic", () => {
  it("passes the committed order histories (a folder) and counts the prefixes it replayed", async () => {
    const summary = await assertDeterministic(order, new URL("../histories", import.meta.url).pathname)
    expect(summary.histories).toBe(2)
    expect(summary.prefixes).toBeGreaterThan(2)
  })

  it("rejects a new version that reorders its calls without patched(), and accepts it behind patched()", async () => {
    const history = await record(p.shipV1)
    const renamed = { ...history, workflowType: "shipV2" }
    const error = await assertDeterministic(p.shipV2, [renamed]).then(() => undefined, (e: unknown) => e as Error)
    expect(error).toBeInstanceOf(Error)
    expect(error!.message).toContain("1 of 1 histories do not replay")
    expect(error!.message).toContain("DeterminismViolationError")
    expect(error!.message).toContain("the journal records activity pack (seq 1) but the code made activity label (seq 1)")
    await expect(assertDeterministic({ shipV2: p.shipV2Patched }, [renamed])).resolves.toMatchObject({ histories: 1 })
  })

  it("reads a folder of JSON files, names the file, and names a trapped call", async () => {
    const folder = await mkdtemp(join(tmpdir(), "hotmesh-histories-"))
    try {
      const history = await record(p.shipV1)
      await writeFile(join(folder, "ship.json"), JSON.stringify(history))
      await expect(assertDeterministic([p.shipV1], folder)).resolves.toMatchObject({ histories: 1 })
      // The same history replayed by code that reads the real clock.
      async function shipV1(): Promise<string> {
        performance.now()
        return p.shipV1()
      }
      const error = await assertDeterministic(shipV1, folder).then(() => undefined, (e: unknown) => e as Error)
      expect(error!.message).toContain(join(folder, "ship.json"))
      expect(error!.message).toContain("workflow code called performance.now()")
    } finally {
      await rm(folder, { recursive: true })
    }
  })

  it("rejects histories of a type it was not given", async () => {
    const history = await record(p.shipV1)
    await expect(assertDeterministic(p.shipV2, [history])).rejects.toThrow('workflow type "shipV1" is not among the workflows given')
  })
})
