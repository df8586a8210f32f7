/**
 * `getExternalWorkflowHandle` on the embedded store and on a real Redis
 * (separate worker and client connections, target and sender on different
 * task queues, so the request is forwarded, and on Redis crosses partitions
 * through the outbox).
 */
import { ApplicationFailure, Client, Connection, Worker, WorkflowFailedError } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { rejectionOf, unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as workflows from "../temporal-compat/workflows/external.ts"

const redis = await useRedis()

for (const backend of ["memory", "redis"] as const) {
  describe(`external workflow handles (${backend})`, () => {
    const namespace = unique("ext")
    let workerConnection: Connection
    let client: Client
    let workers: Array<Worker>
    let running: Promise<unknown>

    beforeAll(async () => {
      const connect = () => Connection.connect(backend === "memory" ? { namespace } : { redis: redis.url, namespace })
      workerConnection = await connect()
      client = new Client({ connection: backend === "memory" ? workerConnection : await connect() })
      workers = await Promise.all(["senders", "targets"].map((taskQueue) => Worker.create({ connection: workerConnection, taskQueue, workflows })))
      running = Promise.all(workers.map((worker) => worker.run()))
    })

    afterAll(async () => {
      await Promise.all(workers.map((worker) => worker.shutdown()))
      await running
      if (backend === "redis") await client.connection.close()
      await workerConnection.close()
    })

    it("a signal from another workflow is received; the sender resumes after it", async () => {
      const target = await client.workflow.start(workflows.receiver, { taskQueue: "targets", workflowId: unique("receiver") })
      expect(await client.workflow.execute(workflows.signaller, { taskQueue: "senders", workflowId: unique("signaller"), args: [target.workflowId, "hi"] })).toBe(`signalled ${target.workflowId}`)
      expect(await target.result()).toBe("hi")
    })

    it("cancelling a finished workflow fails with ExternalWorkflowExecutionNotFound", async () => {
      const target = await client.workflow.start(workflows.receiver, { taskQueue: "targets", workflowId: unique("receiver") })
      await target.signal(workflows.pingSignal, "bye")
      await target.result()
      const error = await rejectionOf(client.workflow.execute(workflows.canceller, { taskQueue: "senders", workflowId: unique("canceller"), args: [target.workflowId] }))
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure)
      expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).toBe("ExternalWorkflowExecutionNotFound")
    })
  })
}
