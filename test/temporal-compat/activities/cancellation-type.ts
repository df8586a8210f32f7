import { ApplicationFailure, CancelledFailure, CompleteAsyncError, Context, heartbeat, sleep } from "hotmesh/activity"

/** What the activities tell the test. */
export interface Hooks {
  /** An async-completing activity handed out its task token. */
  readonly onToken: (taskToken: Uint8Array) => void
  /** The heartbeating activity started. */
  readonly onStarted: () => void
  /** The heartbeating activity saw its cancellation; its promise decides how the activity ends. */
  readonly onCancelled: () => Promise<"complete" | "fail" | "cancel">
  /** The workflow reported how its call ended. */
  readonly onReport: (outcome: string) => void
}

export const createActivities = (hooks: Hooks) => ({
  async chargeLater(_amount: number): Promise<string> {
    hooks.onToken(Context.current().info.taskToken)
    throw new CompleteAsyncError()
  },

  /** Heartbeats until it is cancelled, then ends as the test says. */
  async chargeWithHeartbeats(_amount: number): Promise<string> {
    hooks.onStarted()
    try {
      for (;;) {
        heartbeat()
        await sleep(50)
      }
    } catch (err) {
      if (!(err instanceof CancelledFailure)) throw err
      const how = await hooks.onCancelled()
      if (how === "complete") return "cleaned up"
      if (how === "fail") throw ApplicationFailure.nonRetryable("cleanup failed", "CleanupError")
      throw err
    }
  },

  async report(outcome: string): Promise<void> {
    hooks.onReport(outcome)
  },
})
