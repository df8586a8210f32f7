/**
 * How often a workflow task failing on a bug is retried under
 * `TestWorkflowEnvironment.createTimeSkipping()` while a caller awaits the
 * workflow's result (issue 7 saw ≈10,000 attempts in 15 s: a hot loop).
 * Prints attempts and virtual time per real second.
 *
 *   npx tsx bench/taskRetryVirtualTime.ts [seconds=15]
 */
import { Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"

async function buggy(): Promise<string> {
  const missing = undefined as unknown as () => string
  return missing()
}

const seconds = Number(process.argv[2] ?? 15)
const env = await TestWorkflowEnvironment.createTimeSkipping({ logLevel: "Error" })
const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: "bug", workflows: { buggy } })
const running = worker.run()
const handle = await env.client.workflow.start(buggy, { taskQueue: "bug", workflowId: "buggy" })
const waiter = handle.result().catch(() => undefined) // the result waiter that used to make virtual time race ahead
const virtualStart = await env.currentTimeMs()
const realStart = performance.now()
await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
const attempts = (await handle.describe()).taskFailure?.attempt ?? 0
const realS = (performance.now() - realStart) / 1000
const virtualS = ((await env.currentTimeMs()) - virtualStart) / 1000
console.log(`${attempts} workflow-task attempts in ${realS.toFixed(1)} s real time (${virtualS.toFixed(0)} s virtual) with a result waiter`)
await handle.terminate("done")
await waiter
await worker.shutdown()
await running
await env.teardown()
