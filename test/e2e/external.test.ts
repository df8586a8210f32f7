/**
 * `getExternalWorkflowHandle` on the embedded store and on a real Redis
 * (separate worker and client connections, target and sender on different
 * task queues, so the request is forwarded, and on Redis crosses partitions
 * through the outbox).
 */
import { ApplicationFailure, WorkflowFailedError } from "hotmesh"
import { describe, expect, it } from "vitest"
import { BACKENDS, rejectionOf, unique, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as workflows from "../temporal-compat/workflows/external.ts"

const redis = await useRedis()

for (const backend of BACKENDS) {
  describe(`external workflow handles (${backend})`, () => {
    const mesh = useMesh({ backend, redis, prefix: "ext", workers: ["senders", "targets"].map((taskQueue) => ({ taskQueue, workflows })) })

    it("a signal from another workflow is received; the sender resumes after it", async () => {
      const target = await mesh.client.workflow.start(workflows.receiver, { taskQueue: "targets", workflowId: unique("receiver") })
      expect(await mesh.client.workflow.execute(workflows.signaller, { taskQueue: "senders", workflowId: unique("signaller"), args: [target.workflowId, "hi"] })).toBe(`signalled ${target.workflowId}`)
      expect(await target.result()).toBe("hi")
    })

    it("cancelling a finished workflow fails with ExternalWorkflowExecutionNotFound", async () => {
      const target = await mesh.client.workflow.start(workflows.receiver, { taskQueue: "targets", workflowId: unique("receiver") })
      await target.signal(workflows.pingSignal, "bye")
      await target.result()
      const error = await rejectionOf(mesh.client.workflow.execute(workflows.canceller, { taskQueue: "senders", workflowId: unique("canceller"), args: [target.workflowId] }))
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure)
      expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).toBe("ExternalWorkflowExecutionNotFound")
    })
  })
}
