/** Activities of the logging compat test, as a Temporal user writes them. */
import { log } from "hotmesh/activity"

export async function chargeCard(orderId: string): Promise<string> {
  log.info("charging", { orderId })
  return `receipt-${orderId}`
}
