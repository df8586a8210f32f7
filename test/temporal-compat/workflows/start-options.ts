/** Workflows of the start-options compat test, written as for Temporal. */
import { condition, defineSignal, executeChild, setHandler, workflowInfo } from "hotmesh/workflow"

export const ping = defineSignal("ping")

/** Returns when its code ran. */
export async function whenDidIRun(): Promise<number> {
  return workflowInfo().currentTime.getTime()
}

/** Waits for `ping`. */
export async function waitForPing(): Promise<string> {
  let pinged = false
  setHandler(ping, () => void (pinged = true))
  await condition(() => pinged)
  return "pinged"
}

/** Starts `waitForPing` as a child with the given options (to see what the child keeps, or what is refused). */
export async function parentWithChildOptions(childId: string, options: Record<string, unknown>): Promise<string> {
  return executeChild(waitForPing, { workflowId: childId, ...options })
}
