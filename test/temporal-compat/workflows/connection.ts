/** Workflows of the connection and bundle compat tests, written as for Temporal. */
import { proxyActivities } from "hotmesh/workflow"
import type * as activities from "../activities/connection.ts"

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

export async function example(name: string): Promise<string> {
  return await greet(name)
}
