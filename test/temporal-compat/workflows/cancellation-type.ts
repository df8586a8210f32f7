import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  condition,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
} from "hotmesh/workflow"
import type { createActivities } from "../activities/cancellation-type.ts"

type Activities = ReturnType<typeof createActivities>

export const cancelSignal = defineSignal("cancel")
export const finishSignal = defineSignal("finish")

const activitiesFor = (cancellationType: ActivityCancellationType) =>
  proxyActivities<Activities>({ startToCloseTimeout: "1 minute", heartbeatTimeout: "5s", retry: { maximumAttempts: 1 }, cancellationType })

/** How a call ended: its result, or the failure's cause. */
const outcomeOf = async (call: Promise<string>): Promise<string> => {
  try {
    return `completed: ${await call}`
  } catch (err) {
    if (err instanceof ActivityFailure) return `${isCancellation(err) ? "cancelled" : "failed"}: ${err.cause?.name}: ${err.cause?.message}`
    throw err
  }
}

/**
 * Start `activity` in a cancellable scope, cancel the scope on the `cancel`
 * signal, report that and then how the call ended through the `report` activity, then
 * wait for `finish` (so the run stays open while the test looks at the
 * activity) and return the outcome.
 */
export async function cancelActivity(cancellationType: ActivityCancellationType, activity: "chargeLater" | "chargeWithHeartbeats"): Promise<string> {
  const activities = activitiesFor(cancellationType)
  const { report } = proxyActivities<Activities>({ startToCloseTimeout: "1 minute" })
  let cancel = false
  let finish = false
  setHandler(cancelSignal, () => void (cancel = true))
  setHandler(finishSignal, () => void (finish = true))
  const scope = new CancellationScope()
  const call = scope.run(() => activities[activity](7))
  await condition(() => cancel)
  scope.cancel()
  const outcome = outcomeOf(call)
  // Committed with the cancellation request: once the test hears this, the request is in the store.
  await report("cancellation requested")
  await report(await outcome)
  await condition(() => finish)
  return await outcome
}
