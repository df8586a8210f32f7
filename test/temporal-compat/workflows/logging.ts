/** Workflows of the logging compat test, written as for Temporal. */
import { log, proxyActivities, sleep } from "hotmesh/workflow"
import type * as activities from "../activities/logging.ts"

const { chargeCard } = proxyActivities<typeof activities>({ startToCloseTimeout: "10 seconds" })

export async function checkout(orderId: string): Promise<string> {
  log.info("checkout started", { orderId })
  const receipt = await chargeCard(orderId)
  await sleep(1)
  log.warn("checkout finished", { receipt })
  return receipt
}
