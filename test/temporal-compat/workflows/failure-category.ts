/** Workflows of the failure-category compat test, written as for Temporal. */
import { proxyActivities } from "hotmesh/workflow"
import type * as activities from "../activities/failure-category.ts"

const { expectedDecline, realBug } = proxyActivities<typeof activities>({ startToCloseTimeout: "10 seconds" })

export async function pay(which: "decline" | "bug"): Promise<void> {
  if (which === "decline") await expectedDecline()
  else await realBug()
}
