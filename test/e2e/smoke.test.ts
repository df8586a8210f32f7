import { WorkflowFailedError } from "hotmesh"
import { describe, expect, it } from "vitest"
import * as activities from "../fixtures/activities.ts"
import { useWorkerEnvironment } from "../fixtures/e2e-support.ts"
import * as workflows from "../fixtures/workflows.ts"

describe("smoke", () => {
  const setup = useWorkerEnvironment({ taskQueue: "smoke", workflows, activities })

  it("runs an activity", async () => {
    const result = await setup.env.client.workflow.execute(workflows.hello, { taskQueue: "smoke", workflowId: "h-1", args: ["Ada"] })
    expect(result).toBe("Hello, Ada!")
  })

  it("skips a 30 day sleep", async () => {
    const before = await setup.env.currentTimeMs()
    const result = await setup.env.client.workflow.execute(workflows.sleeper, { taskQueue: "smoke", workflowId: "s-1", args: ["30 days"] })
    expect(result).toBe("woke")
    expect((await setup.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(30 * 86_400_000)
  })

  it("signals and queries", async () => {
    const handle = await setup.env.client.workflow.start(workflows.approval, { taskQueue: "smoke", workflowId: "a-1" })
    expect(await handle.query(workflows.status)).toBe("waiting")
    await handle.signal(workflows.approve, "Grace")
    expect(await handle.result()).toBe("approved by Grace")
    expect(await handle.query(workflows.status)).toBe("approved")
  })

  it("times out a condition", async () => {
    expect(await setup.env.client.workflow.execute(workflows.approval, { taskQueue: "smoke", workflowId: "a-2" })).toBe("timed out")
  })

  it("runs a child", async () => {
    expect(await setup.env.client.workflow.execute(workflows.parent, { taskQueue: "smoke", workflowId: "p-1", args: ["Bo"] })).toBe("parent got: Hello, Bo!")
  })

  it("retries", async () => {
    expect(await setup.env.client.workflow.execute(workflows.retrying, { taskQueue: "smoke", workflowId: "r-1", args: [3] })).toBe(4)
  })

  it("fails", async () => {
    const error = await setup.env.client.workflow.execute(workflows.failing, { taskQueue: "smoke", workflowId: "f-1" }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).cause?.message).toBe("nope")
  })
})
