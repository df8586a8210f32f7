/**
 * `ParentClosePolicy` on child workflows, as in Temporal: when the parent
 * closes, `TERMINATE` terminates the child, `REQUEST_CANCEL` cancels it,
 * `ABANDON` leaves it running. Both stores.
 */
import { describe, expect, it } from "vitest"
import { BACKENDS, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import { finish, longChild, parent, ParentClosePolicy } from "./workflows/parent-close-policy.ts"

const redis = await useRedis()

describe.each(BACKENDS)("parentClosePolicy (%s)", (backend) => {
  const mesh = useMesh({ backend, redis, prefix: "pcp", workers: { taskQueue: "pcp", workflows: { parent, longChild } } })

  const childAfterParent = async (policy: ParentClosePolicy) => {
    const childId = `child-${policy}-${mesh.namespace}`
    await mesh.client.workflow.execute(parent, { taskQueue: "pcp", workflowId: `parent-${policy}-${mesh.namespace}`, args: [policy, childId] })
    return mesh.client.workflow.getHandle(childId)
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
