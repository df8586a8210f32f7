/** Workflows of the external-handle tests, written as Temporal code is. */
import { condition, defineSignal, getExternalWorkflowHandle, setHandler } from "hotmesh/workflow"

export const pingSignal = defineSignal<[string]>("ping")

/** Waits for a `ping`, returns its value. */
export async function receiver(): Promise<string> {
  let value: string | undefined
  setHandler(pingSignal, (v) => void (value = v))
  await condition(() => value !== undefined)
  return value!
}

/** Signals `ping(value)` to `targetId` (its run `runId` only, if given). */
export async function signaller(targetId: string, value: string, runId?: string): Promise<string> {
  const handle = getExternalWorkflowHandle(targetId, runId)
  await handle.signal(pingSignal, value)
  return `signalled ${handle.workflowId}`
}

/** Asks `targetId` to cancel. */
export async function canceller(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).cancel()
  return "cancel requested"
}

/** `signaller` as changed code would have it: it cancels instead of signalling (not replay-compatible). */
export async function signallerThatCancels(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).cancel()
  return `signalled ${targetId}`
}
