/** Workflows of the signal-with-start compat test, written as for Temporal. */
import { condition, defineSignal, proxyActivities, setHandler, workflowInfo } from "hotmesh/workflow"
import type * as activities from "../activities/signal-with-start.ts"

export const addItem = defineSignal<[string]>("addItem")
export const close = defineSignal("close")

/** Collects items until closed. */
export async function cart(): Promise<Array<string>> {
  const items: Array<string> = []
  let closed = false
  setHandler(addItem, (item) => void items.push(item))
  setHandler(close, () => void (closed = true))
  await condition(() => closed)
  return items
}

const { reportItems } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

/** A cron cart: each run reports the items it was signalled (the first run gets signalWithStart's). */
export async function cronCart(): Promise<void> {
  const items: Array<string> = []
  setHandler(addItem, (item) => void items.push(item))
  // The first run's signal comes with its start; the others get none.
  await condition(() => items.length > 0, "200ms")
  await reportItems({ runId: workflowInfo().runId, cronSchedule: workflowInfo().cronSchedule, items })
}
