/** Activities using `hotmesh/activity`'s free functions, as a Temporal user writes them. */
import { activityInfo, CancelledFailure, cancellationSignal, heartbeat, log, sleep } from "hotmesh/activity"

/** Heartbeats its progress until cancelled. */
export async function processItems(count: number): Promise<string> {
  const { activityType, attempt } = activityInfo()
  log.info("processing", { count })
  for (let i = 0; i < count; i++) {
    heartbeat(i)
    if (cancellationSignal().aborted) throw new CancelledFailure("stopped")
    await sleep(1)
  }
  return `${activityType} done in attempt ${attempt}`
}

/** Waits for its cancellation. */
export async function waitForCancel(): Promise<string> {
  await new Promise<void>((_, reject) => cancellationSignal().addEventListener("abort", () => reject(new CancelledFailure("cancelled by test"))))
  return "never"
}
