/**
 * Temporal's activity `Info` (`Context.current().info`): the calling
 * execution, the call's timeouts, its attempt and when it was scheduled, the
 * heartbeat details of the previous attempt, and an opaque task token — on
 * the memory store and on Redis (the fields travel in the activity task).
 */
import { randomUUID } from "node:crypto"
import { Client, Worker } from "hotmesh"
import { describe, expect, it } from "vitest"
import { BACKENDS, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as activities from "./activities/activity-info.ts"
import * as workflows from "./workflows/activity-info.ts"

const redis = await useRedis()

describe.each(BACKENDS)("activity Info (%s)", (backend) => {
  const mesh = useMesh({ backend, redis, prefix: "compat-info" })

  const run = async <T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> => {
    const taskQueue = `info-${randomUUID()}`
    const worker = await Worker.create({ connection: mesh.connection, taskQueue, workflows, activities })
    return await worker.runUntil(fn(mesh.client, taskQueue))
  }

  it("gives the attempt its execution, timeouts, namespace, attempt times and the last heartbeat", async () => {
    await run(async (client, taskQueue) => {
      const workflowId = `info-${randomUUID()}`
      const handle = await client.workflow.start(workflows.infoAfterRetry, { taskQueue, workflowId })
      const info = await handle.result()
      const { runId } = await handle.describe()
      expect(info).toMatchObject({
        activityType: "describeSelf",
        attempt: 2,
        isLocal: false,
        workflowExecution: { workflowId, runId },
        workflowType: "infoAfterRetry",
        workflowNamespace: mesh.namespace,
        taskQueue,
        startToCloseTimeoutMs: 60_000,
        scheduleToCloseTimeoutMs: 300_000,
        heartbeatTimeoutMs: 30_000,
        heartbeatDetails: "progress of attempt 1",
        taskTokenIsBytes: true,
      })
      // the second attempt was scheduled after the retry interval, the first when the call was made
      expect(info.currentAttemptScheduledTimestampMs).toBeGreaterThan(info.scheduledTimestampMs)
      expect(info.taskToken.length).toBeGreaterThan(0)
    })
  })

  it("leaves out the timeouts a call does not set", async () => {
    await run(async (client, taskQueue) => {
      const info = await client.workflow.execute(workflows.infoWithoutTimeouts, { taskQueue, workflowId: `info-${randomUUID()}` })
      expect(info.startToCloseTimeoutMs).toBeUndefined()
      expect(info.heartbeatTimeoutMs).toBeUndefined()
      expect(info.scheduleToCloseTimeoutMs).toBe(60_000)
      expect(info.attempt).toBe(1)
      expect(info.heartbeatDetails).toBeUndefined()
      expect(info.currentAttemptScheduledTimestampMs).toBe(info.scheduledTimestampMs)
    })
  })

  it("gives two attempts of one call different task tokens", async () => {
    await run(async (client, taskQueue) => {
      const [first, second] = await Promise.all([
        client.workflow.execute(workflows.infoWithoutTimeouts, { taskQueue, workflowId: `info-${randomUUID()}` }),
        client.workflow.execute(workflows.infoAfterRetry, { taskQueue, workflowId: `info-${randomUUID()}` }),
      ])
      expect(first.taskToken).not.toBe(second.taskToken)
    })
  })
})
