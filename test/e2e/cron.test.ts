/**
 * Cron workflows on the embedded store and on a real Redis (separate worker
 * and client connections), in real time on a schedule of every second: two
 * runs of the same workflow id, each at its schedule time, then terminate
 * ends the chain.
 */
import { TerminatedFailure, WorkflowFailedError } from "hotmesh"
import { afterAll, describe, expect, it } from "vitest"
import { BACKENDS, recordRuns, rejectionOf, unique, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as activities from "../temporal-compat/activities/cron.ts"
import * as workflows from "../temporal-compat/workflows/cron.ts"

const redis = await useRedis()

for (const backend of BACKENDS) {
  describe(`cron workflows (${backend})`, () => {
    const mesh = useMesh({ backend, redis, prefix: "cron", workers: { taskQueue: "cron", workflows, activities } })
    afterAll(() => {
      activities.listener.onRun = () => undefined
    })

    it("runs twice on its schedule as two runs of one workflow id; terminate ends the chain", async () => {
      const { reports, reached: twoRuns } = recordRuns(activities.listener, 2)
      const handle = await mesh.client.workflow.start(workflows.cronJob, { taskQueue: "cron", workflowId: unique("cron"), cronSchedule: "* * * * * *" })
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
