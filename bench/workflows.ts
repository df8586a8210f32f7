/** Benchmark workflows. */
import { proxyActivities, proxyLocalActivities, sleep, workflowInfo } from "hotmesh/workflow"
import type * as activities from "./activities.ts"

const { step, recordWake } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

/** Ten sequential activities (21 durable steps). */
export async function tenSteps(input: number): Promise<number> {
  let value = input
  for (let i = 0; i < 10; i++) value = await step(value)
  return value
}

/** One activity (3 durable steps: start, the activity, its result). */
export async function oneStep(input: number): Promise<number> {
  return await step(input)
}

/** `n` sequential activities (2n + 1 durable steps). */
export async function longChain(n: number): Promise<number> {
  let value = 0
  for (let i = 0; i < n; i++) value = await step(value)
  return value
}

/**
 * Sleep `durationMs`, then record the real time in an activity. The timer is
 * due at this activation's time (`workflowInfo().currentTime`, the store clock
 * the timer is computed from) plus `durationMs`.
 */
export async function sleepThenRecord(durationMs: number): Promise<number> {
  const scheduledAt = workflowInfo().currentTime.getTime() + durationMs
  await sleep(durationMs)
  return await recordWake(workflowInfo().workflowId, scheduledAt)
}

/** Sleep `durationMs` (long) and return: a cached running workflow for the memory bench. */
export async function sleepLong(durationMs: number): Promise<void> {
  await sleep(durationMs)
}

const { step: localStep } = proxyLocalActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

/** Ten sequential local activities: all run in the one step that takes the `Start` (one commit). */
export async function tenLocalSteps(input: number): Promise<number> {
  let value = input
  for (let i = 0; i < 10; i++) value = await localStep(value)
  return value
}
