/** Activities of the timeout tests: one that runs until its workflow no longer waits for it. */
import { cancellationSignal, heartbeat, sleep } from "hotmesh/activity"

/** Heartbeats until cancelled (its workflow no longer waits for it), for at most ten minutes. */
export async function longRunning(): Promise<string> {
  const signal = cancellationSignal()
  for (let i = 0; i < 6000 && !signal.aborted; i++) {
    heartbeat(i)
    await sleep("100ms").catch(() => undefined)
  }
  return signal.aborted ? "cancelled" : "done"
}
