/**
 * `hotmesh/activity`'s free functions (Temporal's): `activityInfo()`,
 * `heartbeat()`, `sleep(duration)`, `cancellationSignal()`, `cancelled()`,
 * each the running activity's `Context.current()` member; and `Info`'s
 * Temporal fields.
 */
import { Worker } from "hotmesh"
import { activityInfo, cancellationSignal, cancelled, Context, heartbeat, sleep } from "hotmesh/activity"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { proxyActivities } from "hotmesh/workflow"
import { expect, it } from "vitest"
import { unique } from "../fixtures/e2e-support.ts"

const seen: Array<unknown> = []
const activities = {
  async inspect(): Promise<string> {
    const info = activityInfo()
    seen.push(info === Context.current().info, cancellationSignal() === Context.current().cancellationSignal, cancellationSignal().aborted)
    seen.push(info.workflowExecution, info.heartbeatTimeoutMs)
    heartbeat({ step: 1 })
    seen.push(Context.current().lastHeartbeatDetails)
    cancelled().catch(() => undefined)
    const before = Date.now()
    await sleep("20ms")
    seen.push(Date.now() - before >= 19)
    return info.activityType
  },
}
const { inspect } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute", heartbeatTimeout: "30s" })

async function inspector(): Promise<string> {
  return inspect()
}

it("the free functions are the running activity's context; Info has workflowExecution and heartbeatTimeoutMs", async () => {
  const env = await TestWorkflowEnvironment.createLocal()
  try {
    const worker = await Worker.create({ connection: env.connection, taskQueue: "fns", workflows: { inspector }, activities })
    const workflowId = unique("inspector")
    const handle = await env.client.workflow.start(inspector, { taskQueue: "fns", workflowId })
    expect(await worker.runUntil(handle.result())).toBe("inspect")
    const { runId } = await handle.describe()
    expect(seen).toEqual([true, true, false, { workflowId, runId }, 30_000, { step: 1 }, true])
  } finally {
    await env.teardown()
  }
  expect(() => activityInfo()).toThrow(/can only be called from activity code/)
})

it("a Context given a function builds its Info on the first read, once", () => {
  let built = 0
  const context = new Context(() => {
    built++
    return { activityType: "lazy" } as ReturnType<typeof activityInfo>
  }, { signal: new AbortController().signal }, () => undefined)
  expect(built).toBe(0)
  expect(context.info.activityType).toBe("lazy")
  expect(context.info).toBe(context.info)
  expect(built).toBe(1)
})
