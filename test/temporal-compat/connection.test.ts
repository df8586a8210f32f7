/**
 * A Temporal worker and client setup, unchanged: `NativeConnection.connect`,
 * `Worker.create({ connection, namespace, taskQueue, workflowsPath })`,
 * `new Client()` with no options, and `loadClientConnectConfig()`.
 */
import { fileURLToPath } from "node:url"
import { Client, Connection, InvalidArgumentError, loadClientConnectConfig, NativeConnection, Worker } from "hotmesh"
import { describe, expect, it } from "vitest"
import * as activities from "./activities/connection.ts"
import { example } from "./workflows/connection.ts"

const workflowsPath = fileURLToPath(new URL("./workflows/connection.ts", import.meta.url))

describe("connection", () => {
  it("NativeConnection.connect() and new Client() meet on the embedded store", async () => {
    const connection = await NativeConnection.connect()
    try {
      const worker = await Worker.create({ connection, namespace: "default", taskQueue: "hello-world", workflowsPath, activities })
      const client = new Client()
      const result = await worker.runUntil(client.workflow.execute(example, { taskQueue: "hello-world", workflowId: "hello-1", args: ["Temporal"] }))
      expect(result).toBe("Hello, Temporal!")
    } finally {
      await connection.close()
    }
  })

  it("a Worker namespace that is not the connection's is refused", async () => {
    const connection = await NativeConnection.connect({ namespace: "payments" })
    try {
      await expect(Worker.create({ connection, namespace: "orders", taskQueue: "q", workflowsPath })).rejects.toBeInstanceOf(InvalidArgumentError)
    } finally {
      await connection.close()
    }
  })

  it("loadClientConnectConfig reads HOTMESH_NAMESPACE and feeds Connection.connect", async () => {
    const config = loadClientConnectConfig({ env: { HOTMESH_NAMESPACE: "envconfig" } })
    expect(config.namespace).toBe("envconfig")
    const connection = await Connection.connect(config.connectionOptions)
    try {
      expect(connection.namespace).toBe("envconfig")
    } finally {
      await connection.close()
    }
  })
})
