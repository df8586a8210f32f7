/** Workflows of the child-workflow options compat test, written as for Temporal. */
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  condition,
  defineSignal,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  workflowInfo,
} from "hotmesh/workflow"
import type * as activities from "../activities/child-workflows.ts"

const { reportRun } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

export const release = defineSignal("release")

/** One run of a cron child: reports itself (run id, cron schedule, parent). */
export async function cronChild(): Promise<string> {
  const info = workflowInfo()
  await reportRun({ workflowId: info.workflowId, runId: info.runId, cronSchedule: info.cronSchedule, parentWorkflowId: info.parent?.workflowId })
  return info.runId
}

/** Runs a cron child and says how its call ended. */
export async function cronParent(childId: string, cronSchedule: string): Promise<string> {
  try {
    return `completed: ${await executeChild(cronChild, { workflowId: childId, cronSchedule })}`
  } catch (error) {
    if (error instanceof ChildWorkflowFailure) return `child ended: ${error.cause?.name}`
    throw error
  }
}

/** Completes, or fails, at once. */
export async function quickChild(outcome: "complete" | "fail"): Promise<string> {
  if (outcome === "fail") throw ApplicationFailure.nonRetryable("failed on purpose")
  return "done"
}

/** Runs child `childId` once (completing or failing), then again with `policy`: its result, or "rejected". */
export async function reuseParent(childId: string, policy: WorkflowIdReusePolicy | undefined, first: "complete" | "fail" | "none"): Promise<string> {
  if (first !== "none") await executeChild(quickChild, { workflowId: childId, args: [first] }).catch(() => undefined)
  try {
    return await executeChild(quickChild, { workflowId: childId, args: ["complete"], ...(policy === undefined ? {} : { workflowIdReusePolicy: policy }) })
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return "rejected"
    throw error
  }
}

/** Waits for `release`; cancelled first, it cleans up (waiting for `release` all the same) and says so. */
export async function cancellableChild(): Promise<string> {
  let released = false
  setHandler(release, () => void (released = true))
  try {
    await condition(() => released)
    return "not cancelled"
  } catch (error) {
    if (!isCancellation(error)) throw error
    await CancellationScope.nonCancellable(() => condition(() => released))
    return "cleaned up"
  }
}

/** Starts `cancellableChild`, cancels its scope, and says how the child's call settled. */
export async function cancellingParent(childId: string, cancellationType: ChildWorkflowCancellationType | undefined): Promise<string> {
  const scope = new CancellationScope()
  const child = await scope.run(() =>
    startChild(cancellableChild, { workflowId: childId, parentClosePolicy: ParentClosePolicy.ABANDON, ...(cancellationType === undefined ? {} : { cancellationType }) })
  )
  scope.cancel()
  try {
    return `completed: ${await child.result()}`
  } catch (error) {
    if (error instanceof ChildWorkflowFailure) return `rejected: ${error.cause?.name}`
    throw error
  }
}

/** Passes a child option straight from the test (to check what is refused). */
export async function optionParent(options: Record<string, unknown>): Promise<string> {
  return executeChild(quickChild, { args: ["complete"], ...options })
}

export { ChildWorkflowCancellationType, WorkflowIdReusePolicy }
