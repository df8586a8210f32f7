import { proxyActivities } from "hotmesh/workflow"
import type * as activities from "../activities/activity-info.ts"

const { describeSelf } = proxyActivities<typeof activities>({
  startToCloseTimeout: "1 minute",
  scheduleToCloseTimeout: "5 minutes",
  heartbeatTimeout: "30 seconds",
  retry: { initialInterval: "10 ms", maximumAttempts: 3 },
})

const { describeSelf: describeSelfWithoutTimeouts } = proxyActivities<typeof activities>({
  scheduleToCloseTimeout: "1 minute",
})

/** The info of an activity whose first attempt fails. */
export async function infoAfterRetry(): Promise<activities.SeenInfo> {
  return await describeSelf(true)
}

/** The info of an activity with only a schedule-to-close timeout. */
export async function infoWithoutTimeouts(): Promise<activities.SeenInfo> {
  return await describeSelfWithoutTimeouts(false)
}
