/** Workflows of the cron tests, written as Temporal code is. */
import { proxyActivities, sleep, workflowInfo } from "hotmesh/workflow"
import type * as activities from "../activities/cron.ts"

const { reportRun } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

/** One cron run: reports when it ran. */
export async function cronJob(): Promise<string> {
  const info = workflowInfo()
  await reportRun({ runId: info.runId, at: Date.now(), cronSchedule: info.cronSchedule })
  return info.runId
}

/** One cron run that outlasts its run timeout: reports, then sleeps an hour. */
export async function slowCronJob(): Promise<string> {
  const info = workflowInfo()
  await reportRun({ runId: info.runId, at: Date.now(), cronSchedule: info.cronSchedule })
  await sleep("1 hour")
  return info.runId
}
