/**
 * Workflow run and execution timeouts on the embedded store and on a real
 * Redis (separate worker and client connections), in real time with short
 * timeouts: the durable timer fires by the store's clock and closes the run
 * as TIMED_OUT in the same commit that tells its parent.
 */
import { ChildWorkflowFailure, TimeoutFailure, WorkflowFailedError } from "hotmesh"
import { continueAsNew, executeChild, proxyActivities, sleep } from "hotmesh/workflow"
import { afterAll, describe, expect, it } from "vitest"
import { BACKENDS, deferred, rejectionOf, unique, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"

/** The activities of one backend's worker: `blocked` runs until the test releases it. */
const blockingActivities = () => {
  const gate = deferred<string>()
  const started = deferred()
  const activities = {
    async blocked(): Promise<string> {
      started.resolve()
      return await gate.promise
    },
  }
  return { gate, started, activities }
}
const { blocked } = proxyActivities<ReturnType<typeof blockingActivities>["activities"]>({ startToCloseTimeout: "1 minute" })

async function waitsOnActivity(): Promise<string> {
  return await blocked()
}

async function loops(run = 1): Promise<never> {
  await sleep(50)
  return await continueAsNew<typeof loops>(run + 1)
}

async function sleepsLong(): Promise<string> {
  await sleep("1 minute")
  return "woke"
}

async function parentOfSlowChild(childId: string): Promise<string> {
  return await executeChild(sleepsLong, { workflowId: childId, workflowRunTimeout: 200 })
}

const redis = await useRedis()

for (const backend of BACKENDS) {
  describe(`workflow timeouts (${backend})`, () => {
    const taskQueue = "timeouts"
    const { gate, started, activities } = blockingActivities()
    const mesh = useMesh({ backend, redis, prefix: "tmo", workers: { taskQueue, workflows: { waitsOnActivity, loops, sleepsLong, parentOfSlowChild }, activities } })
    afterAll(() => gate.resolve("released"))

    it("a run timeout closes the run as TIMED_OUT while its activity runs", async () => {
      const handle = await mesh.client.workflow.start(waitsOnActivity, { taskQueue, workflowId: unique("run"), workflowRunTimeout: 300 })
      await started.promise
      const error = await rejectionOf(handle.result())
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure)
      expect((await handle.describe()).status).toBe("TIMED_OUT")
    })

    it("the execution timeout holds across continue-as-new", async () => {
      const handle = await mesh.client.workflow.start(loops, { taskQueue, workflowId: unique("exec"), workflowExecutionTimeout: 400 })
      const error = await rejectionOf(handle.result())
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure)
      const description = await handle.describe()
      expect(description.status).toBe("TIMED_OUT")
      expect(description.runId).not.toBe(handle.firstExecutionRunId)
    })

    it("a child's timeout reaches the parent as ChildWorkflowFailure caused by TimeoutFailure", async () => {
      const childId = unique("child")
      const handle = await mesh.client.workflow.start(parentOfSlowChild, { taskQueue, workflowId: unique("parent"), args: [childId] })
      const error = await rejectionOf(handle.result())
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(ChildWorkflowFailure)
      expect((error as WorkflowFailedError).cause?.cause).toBeInstanceOf(TimeoutFailure)
      expect((await mesh.client.workflow.getHandle(childId).describe()).status).toBe("TIMED_OUT")
    })
  })
}
