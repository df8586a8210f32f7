/** Workflows of the interceptors compat test, written as for Temporal. */
import { condition, continueAsNew, defineSignal, executeChild, log, proxyActivities, setHandler, workflowInfo } from "hotmesh/workflow"
import type * as activities from "../activities/interceptors.ts"

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: "10 seconds" })

/** The `handleSignal` interceptor replaces the argument with the signal's `signaller` header. */
export const ping = defineSignal<[string]>("ping")

/** Continues as new once, then greets through an activity and a child, and waits for a ping. */
export async function tenantGreeting(name: string, round = 0): Promise<{ greeting: string; child: unknown; signalledBy: string }> {
  if (round === 0) await continueAsNew<typeof tenantGreeting>(name, 1)
  let signalledBy: string | undefined
  setHandler(ping, (who) => void (signalledBy = who))
  const greeting = await greet(name)
  log.info("greeted", { name })
  const child = await executeChild(tenantChild, { workflowId: `${workflowInfo().workflowId}-child` })
  await condition(() => signalledBy !== undefined)
  return { greeting, child, signalledBy: signalledBy! }
}

export async function tenantChild(): Promise<string> {
  return "child"
}
