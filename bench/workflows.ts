/** Benchmark workflows: ten sequential activities. */
import { proxyActivities } from "hotmesh/workflow"
import type * as activities from "./activities.ts"

const { step } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

export async function tenSteps(input: number): Promise<number> {
  let value = input
  for (let i = 0; i < 10; i++) value = await step(value)
  return value
}
