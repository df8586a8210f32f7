/**
 * Cron workflows on the embedded store and on a real Redis (separate worker
 * and client connections), in real time on a schedule of every second: two
 * runs of the same workflow id, each at its schedule time, then terminate
 * ends the chain.
 */
import { Client, Connection, TerminatedFailure, Worker, WorkflowFailedError } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { rejectionOf, unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as activities from "../temporal-compat/activities/cron.ts"
import type { RunReport } from "../temporal-compat/activities/cron.ts"
import * as workflows from "../temporal-compat/workflows/cron.ts"

const redis = await useRedis()

for (const backend of ["memory", "redis"] as const) {
  describe(`cron workflows (${backend})`, () => {
    const namespace = unique("cron")
    let workerConnection: Connection
    let client: Client
    let worker: Worker
    let running: Promise<void>

    beforeAll(async () => {
      const connect = () => Connection.connect(backend === "memory" ? { namespace } : { redis: redis.url, namespace })
      workerConnection = await connect()
      client = new Client({ connection: backend === "memory" ? workerConnection : await connect() })
      worker = await Worker.create({ connection: workerConnection, taskQueue: "cron", workflows, activities })
      running = worker.run()
    })

    afterAll(async () => {
      activities.listener.onRun = () => undefined
      await worker.shutdown()
      await running
      if (backend === "redis") await client.connection.close()
      await workerConnection.close()
    })

    it("runs twice on its schedule as two runs of one workflow id; terminate ends the chain", async () => {
      const reports: Array<RunReport> = []
      let secondRun!: () => void
      const twoRuns = new Promise<void>((resolve) => (secondRun = resolve))
      activities.listener.onRun = (report) => {
        reports.push(report)
        if (reports.length === 2) secondRun()
      }
      const handle = await client.workflow.start(workflows.cronJob, { taskQueue: "cron", workflowId: unique("cron"), cronSchedule: "* * * * * *" })
      await twoRuns
      await handle.terminate("enough")
      const error = await rejectionOf(handle.result())
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure)
      expect(reports[0]!.runId).not.toBe(reports[1]!.runId)
      expect(reports[1]!.at).toBeGreaterThan(reports[0]!.at)
    })
  })
}
