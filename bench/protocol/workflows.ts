/** `npm run bench:protocol`'s workflow: one activity, served by whichever worker serves `bench-activities`. */
import { proxyActivities } from "hotmesh/workflow"

export const ACTIVITY_QUEUE = "bench-activities"

const { echo } = proxyActivities<{ echo(value: number): Promise<number> }>({ taskQueue: ACTIVITY_QUEUE, startToCloseTimeout: "1 minute" })

export async function echoOnce(value: number): Promise<number> {
  return await echo(value)
}
