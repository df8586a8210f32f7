import { ActivityFailure, proxyActivities } from "hotmesh/workflow"
import type { createActivities } from "../activities/async-completion.ts"

type Activities = ReturnType<typeof createActivities>

const { chargeLater } = proxyActivities<Activities>({
  startToCloseTimeout: "1 minute",
  retry: { initialInterval: "10 ms", maximumAttempts: 3 },
})

const { chargeLater: chargeLaterOnce } = proxyActivities<Activities>({
  startToCloseTimeout: "1 minute",
  retry: { maximumAttempts: 1 },
})

const { chargeLater: chargeLaterWithHeartbeats } = proxyActivities<Activities>({
  startToCloseTimeout: "1 minute",
  heartbeatTimeout: "500 ms",
  retry: { maximumAttempts: 1 },
})

const { chargeLater: chargeLaterQuickly } = proxyActivities<Activities>({
  startToCloseTimeout: "200 ms",
  retry: { maximumAttempts: 1 },
})

export async function charge(amount: number): Promise<string> {
  return await chargeLater(amount)
}

export async function chargeWithHeartbeats(amount: number): Promise<string> {
  return await chargeLaterWithHeartbeats(amount)
}

export async function chargeQuickly(amount: number): Promise<string> {
  return await chargeLaterQuickly(amount)
}

/** How the activity ended when it failed: the name of the failure's cause. */
export async function chargeOrExplain(amount: number): Promise<string> {
  try {
    return await chargeLaterOnce(amount)
  } catch (err) {
    if (err instanceof ActivityFailure) return `failed: ${err.cause?.name}: ${err.cause?.message}`
    throw err
  }
}
