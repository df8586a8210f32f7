/** Workflows of the parent-close-policy compat test, written as for Temporal. */
import { condition, defineSignal, ParentClosePolicy, setHandler, startChild } from "hotmesh/workflow"

export const finish = defineSignal("finish")

/** Runs until signalled. */
export async function longChild(): Promise<string> {
  let done = false
  setHandler(finish, () => void (done = true))
  await condition(() => done)
  return "finished"
}

/** Starts a child with the given policy and returns at once. */
export async function parent(policy: ParentClosePolicy, childId: string): Promise<string> {
  const child = await startChild(longChild, { workflowId: childId, parentClosePolicy: policy })
  return child.firstExecutionRunId
}

export { ParentClosePolicy }
