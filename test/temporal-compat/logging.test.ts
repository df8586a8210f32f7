/**
 * Logging as in Temporal: `Runtime.install({ logger: new DefaultLogger(level, fn) })`
 * receives workflow `log` (tagged with the run, silent while replaying: each
 * line once though every step replays here) and activity `log` (tagged with
 * the activity).
 */
import { Client, Connection, DefaultLogger, InvalidArgumentError, type LogEntry, Runtime, Worker } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as activities from "./activities/logging.ts"
import { checkout } from "./workflows/logging.ts"

describe("logging", () => {
  const entries: Array<LogEntry> = []
  let connection: Connection
  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger("INFO", (entry) => entries.push(entry)) })
    connection = await Connection.connect({ namespace: "logging" })
  })
  afterAll(async () => {
    await connection.close()
    Runtime.install()
  })

  it("workflow and activity log reach the installed logger, tagged, once per line", async () => {
    const worker = await Worker.create({ connection, taskQueue: "shop", workflows: { checkout }, activities, maxCachedWorkflows: 0 })
    const client = new Client({ connection })
    const receipt = await worker.runUntil(client.workflow.execute(checkout, { taskQueue: "shop", workflowId: "order-1", args: ["o1"] }))
    expect(receipt).toBe("receipt-o1")
    const started = entries.filter((entry) => entry.message === "checkout started")
    expect(started).toHaveLength(1)
    expect(started[0]).toMatchObject({ level: "INFO", meta: { orderId: "o1", workflowId: "order-1", workflowType: "checkout", taskQueue: "shop", namespace: "logging" } })
    expect(entries.filter((entry) => entry.message === "checkout finished")).toEqual([expect.objectContaining({ level: "WARN", meta: expect.objectContaining({ receipt: "receipt-o1" }) })])
    expect(entries.find((entry) => entry.message === "charging")).toMatchObject({ meta: { orderId: "o1", activityType: "chargeCard", workflowId: "order-1" } })
  })

  it("DefaultLogger drops entries below its level and refuses an unknown level", () => {
    const seen: Array<string> = []
    const logger = new DefaultLogger("WARN", (entry) => seen.push(entry.message))
    logger.info("quiet")
    logger.error("loud")
    expect(seen).toEqual(["loud"])
    expect(() => new DefaultLogger("LOUD" as never)).toThrow(InvalidArgumentError)
  })
})
