import { Worker } from "hotmesh"
import { Context } from "hotmesh/activity"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { proxyActivities } from "hotmesh/workflow"
import { it, expect } from "vitest"

export async function hangShort(hb: boolean): Promise<string> {
  const { hang } = proxyActivities<{ hang(): Promise<string> }>(hb ? { startToCloseTimeout: "1500ms", heartbeatTimeout: "200ms", retry: { maximumAttempts: 1 } } : { startToCloseTimeout: "300ms", retry: { maximumAttempts: 1 } })
  return await hang()
}

it("real time", async () => {
  const env = await TestWorkflowEnvironment.createLocal()
  let aborted = ""
  const worker = await Worker.create({ connection: env.connection, taskQueue: "q", workflows: { hangShort }, activities: { async hang() { const c = Context.current(); c.cancellationSignal.addEventListener("abort", () => { aborted = String(c.cancellationSignal.reason) }); await c.cancelled; return "x" } } })
  await worker.runUntil(async () => {
    for (const hb of [false, true]) {
      const t = Date.now()
      const e: any = await env.client.workflow.execute(hangShort, { taskQueue: "q", workflowId: "w" + hb, args: [hb] }).catch((e) => e)
      console.log(hb, Date.now() - t, e.name, e.cause?.name, e.cause?.cause?.name, e.cause?.cause?.timeoutType, "aborted:", aborted)
    }
  })
  await env.teardown()
})

it("skipping: state while hung", async () => {
  const env = await TestWorkflowEnvironment.createTimeSkipping()
  const worker = await Worker.create({ connection: env.connection, taskQueue: "q", workflows: { hangShort }, activities: { async hang() { await Context.current().cancelled; return "x" } } })
  await worker.runUntil(async () => {
    const t0 = await env.currentTimeMs()
    const h = await env.client.workflow.start(hangShort, { taskQueue: "q", workflowId: "w", args: [false] })
    const r = h.result().catch((e) => e)
    await new Promise((r) => setTimeout(r, 500))
    console.log("virtual elapsed", (await env.currentTimeMs()) - t0, await h.describe())
    await h.terminate("x"); await r
  })
  await env.teardown()
})
