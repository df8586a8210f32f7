/**
 * Temporal's bundling step, unchanged: `bundleWorkflowCode({ workflowsPath })`
 * and `Worker.create({ workflowBundle })`. HotMesh does not bundle; the
 * bundle names the module.
 */
import { fileURLToPath } from "node:url"
import { bundleWorkflowCode, Client, Connection, InvalidArgumentError, Worker, type WorkflowBundleWithSourceMap } from "hotmesh"
import { describe, expect, it } from "vitest"
import * as activities from "./activities/connection.ts"
import { example } from "./workflows/connection.ts"

const workflowsPath = fileURLToPath(new URL("./workflows/connection.ts", import.meta.url))

describe("bundleWorkflowCode", () => {
  it("the bundle runs on a worker", async () => {
    const workflowBundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({ workflowsPath })
    const connection = await Connection.connect({ namespace: "bundle" })
    try {
      const worker = await Worker.create({ connection, taskQueue: "bundled", workflowBundle, activities })
      const client = new Client({ connection })
      expect(await worker.runUntil(client.workflow.execute(example, { taskQueue: "bundled", workflowId: "b-1", args: ["bundle"] }))).toBe("Hello, bundle!")
    } finally {
      await connection.close()
    }
  })

  it("the bundle's workflowInterceptorModules are the worker's workflow interceptors", async () => {
    const workflowInterceptorModules = [fileURLToPath(new URL("./workflows/interceptors-module.ts", import.meta.url))]
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules })
    const connection = await Connection.connect({ namespace: "bundle-interceptors" })
    try {
      const worker = await Worker.create({ connection, taskQueue: "bundled", workflowBundle, activities })
      const client = new Client({ connection })
      // The module's inbound execute wraps every result with the tenant header it saw (none here).
      expect(await worker.runUntil(client.workflow.execute(example, { taskQueue: "bundled", workflowId: "b-2", args: ["x"] }))).toEqual({ result: "Hello, x!" })
    } finally {
      await connection.close()
    }
  })

  it("a bundle HotMesh did not make is refused, as are bundler options", async () => {
    await expect(Worker.create({ taskQueue: "x", workflowBundle: { code: "/* webpack */" } as never })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(bundleWorkflowCode({ workflowsPath, webpackConfigHook: (c: unknown) => c } as never)).rejects.toThrow(/webpackConfigHook/)
  })
})
