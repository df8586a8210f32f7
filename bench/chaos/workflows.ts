/**
 * The workflow every chaos scenario runs: two activities around a durable
 * timer, so each run crosses the workflow stream, the activity stream and
 * the timer set several times (7 durable steps).
 */
import { proxyActivities, sleep } from "hotmesh/workflow"

/** The activities of `chaosOrder`. */
export interface ChaosActivities {
  /** Returns `${id}.${n}` after a few ms (long enough for a kill to land mid-activity). */
  step(id: string, n: number): Promise<string>
}

const acts = proxyActivities<ChaosActivities>({
  startToCloseTimeout: "20s",
  retry: { initialInterval: 100, backoffCoefficient: 2, maximumInterval: 1000 },
})

/** step 1, a 50 ms durable timer, step 2. */
export async function chaosOrder(id: string): Promise<string> {
  const first = await acts.step(id, 1)
  await sleep(50)
  const second = await acts.step(id, 2)
  return `${first}+${second}`
}
