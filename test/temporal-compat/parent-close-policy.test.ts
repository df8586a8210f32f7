/**
 * `ParentClosePolicy` on child workflows, as in Temporal: when the parent
 * closes, `TERMINATE` terminates the child, `REQUEST_CANCEL` cancels it,
 * `ABANDON` leaves it running. Both stores.
 */
import { Client, Connection, Worker } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "../support/redisServer.ts"
import { finish, longChild, parent, ParentClosePolicy } from "./workflows/parent-close-policy.ts"

const redis = await useRedis()

describe.each(["memory", "redis"] as const)("parentClosePolicy (%s)", (backend) => {
  const namespace = `pcp-${Math.random().toString(36).slice(2, 8)}`
  let connection: Connection
  let client: Client
  let worker: Worker
  let running: Promise<void>
  beforeAll(async () => {
    connection = await Connection.connect(backend === "redis" ? { redis: redis.url, namespace } : { namespace })
    client = new Client({ connection })
    worker = await Worker.create({ connection, taskQueue: "pcp", workflows: { parent, longChild } })
    running = worker.run()
  })
  afterAll(async () => {
    await worker.shutdown()
    await running
    await connection.close()
  })

  const childAfterParent = async (policy: ParentClosePolicy) => {
    const childId = `child-${policy}-${namespace}`
    await client.workflow.execute(parent, { taskQueue: "pcp", workflowId: `parent-${policy}-${namespace}`, args: [policy, childId] })
    return client.workflow.getHandle(childId)
  }

  it("TERMINATE (the default in Temporal) terminates the child", async () => {
    const child = await childAfterParent(ParentClosePolicy.TERMINATE)
    await expect(child.result()).rejects.toMatchObject({ name: "WorkflowFailedError" })
    expect((await child.describe()).status).toBe("TERMINATED")
  })

  it("REQUEST_CANCEL cancels the child", async () => {
    const child = await childAfterParent(ParentClosePolicy.REQUEST_CANCEL)
    await expect(child.result()).rejects.toMatchObject({ name: "WorkflowFailedError" })
    expect((await child.describe()).status).toBe("CANCELLED")
  })

  it("ABANDON leaves the child running", async () => {
    const child = await childAfterParent(ParentClosePolicy.ABANDON)
    await child.signal(finish)
    expect(await child.result()).toBe("finished")
  })
})
