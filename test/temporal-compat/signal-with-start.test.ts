/**
 * `client.workflow.signalWithStart`, as a Temporal user calls it: on a new
 * workflow id it starts the run with the signal; on a running one it signals
 * that run (`signaledRunId` is the running run). Both stores.
 */
import { Client, Connection, InvalidArgumentError, Worker } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "../support/redisServer.ts"
import { addItem, cart, close } from "./workflows/signal-with-start.ts"

const redis = await useRedis()

describe.each(["memory", "redis"] as const)("signalWithStart (%s)", (backend) => {
  const namespace = `sws-${Math.random().toString(36).slice(2, 8)}`
  let connection: Connection
  let client: Client
  let worker: Worker
  let running: Promise<void>
  beforeAll(async () => {
    connection = await Connection.connect(backend === "redis" ? { redis: redis.url, namespace } : { namespace })
    client = new Client({ connection })
    worker = await Worker.create({ connection, taskQueue: "carts", workflows: { cart } })
    running = worker.run()
  })
  afterAll(async () => {
    await worker.shutdown()
    await running
    await connection.close()
  })

  it("starts the workflow with the signal, then signals the running run", async () => {
    const workflowId = `cart-${namespace}`
    const first = await client.workflow.signalWithStart(cart, { workflowId, taskQueue: "carts", signal: addItem, signalArgs: ["apple"] })
    const second = await client.workflow.signalWithStart(cart, { workflowId, taskQueue: "carts", signal: addItem, signalArgs: ["pear"] })
    expect(second.signaledRunId).toBe(first.signaledRunId)
    expect((await second.describe()).runId).toBe(first.signaledRunId)
    await first.signal(close)
    expect(await first.result()).toEqual(["apple", "pear"])
  })

  it("refuses a missing signal", async () => {
    await expect(client.workflow.signalWithStart(cart, { workflowId: `bad-${namespace}`, taskQueue: "carts" } as never)).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})
