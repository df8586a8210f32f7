/** Workflows of the timeout tests, written as Temporal code is. */
import { continueAsNew, executeChild, makeContinueAsNewFunc, proxyActivities, sleep, workflowInfo } from "hotmesh/workflow"
import type * as activities from "../activities/timeouts.ts"

const { longRunning } = proxyActivities<typeof activities>({ startToCloseTimeout: "2 hours" })

/** Waits on an activity that outlives any short run timeout. */
export async function waitsOnActivity(): Promise<string> {
  return await longRunning()
}

/** Sleeps `seconds`, then continues as new with one more run, forever. */
export async function sleepsAndContinues(seconds: number, run = 1): Promise<never> {
  await sleep(seconds * 1000)
  return await continueAsNew<typeof sleepsAndContinues>(seconds, run + 1)
}

/** Runs `runs` times (continuing as new), each sleeping `seconds`; returns the run count. */
export async function boundedRuns(seconds: number, runs: number, run = 1): Promise<number> {
  await sleep(seconds * 1000)
  if (run < runs) return await continueAsNew<typeof boundedRuns>(seconds, runs, run + 1)
  return run
}

/** What `workflowInfo()` says of the timeouts. */
export async function timeoutInfo(): Promise<{ executionTimeoutMs: number | undefined; runTimeoutMs: number | undefined; expiresInMs: number | undefined }> {
  const info = workflowInfo()
  return {
    executionTimeoutMs: info.executionTimeoutMs,
    runTimeoutMs: info.runTimeoutMs,
    expiresInMs: info.executionExpirationTime === undefined ? undefined : info.executionExpirationTime.getTime() - info.startTime.getTime(),
  }
}

/** Sleeps an hour. */
export async function sleepsAnHour(): Promise<string> {
  await sleep("1 hour")
  return "woke"
}

/** Runs `sleepsAnHour` as a child with a one-minute run timeout. */
export async function parentOfSlowChild(childId: string): Promise<string> {
  return await executeChild(sleepsAnHour, { workflowId: childId, workflowRunTimeout: "1 minute" })
}

/** First run: continues as new with a one-minute run timeout; second run: sleeps an hour (and so times out). */
export async function tightensItsRunTimeout(run = 1): Promise<string> {
  if (run === 1) return await makeContinueAsNewFunc<typeof tightensItsRunTimeout>({ workflowRunTimeout: "1 minute" })(2)
  await sleep("1 hour")
  return `run ${run} woke (runTimeoutMs ${workflowInfo().runTimeoutMs})`
}
