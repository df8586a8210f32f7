/** Workflows of the signal-with-start compat test, written as for Temporal. */
import { condition, defineSignal, setHandler } from "hotmesh/workflow"

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
