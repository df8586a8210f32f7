/**
 * Temporal's child-workflow options, as a Temporal user writes them:
 * `cronSchedule` (each run a new run of the child id; the parent's call
 * holds until the chain ends), `workflowIdReusePolicy`, and
 * `ChildWorkflowCancellationType` (`ABANDON`, `TRY_CANCEL`,
 * `WAIT_CANCELLATION_REQUESTED`, `WAIT_CANCELLATION_COMPLETED`); the
 * options Temporal refuses on children are refused. Both stores.
 */
import { afterAll, describe, expect, it } from "vitest"
import { BACKENDS, eventually, notStartedYet, recordRuns, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as activities from "./activities/child-workflows.ts"
import {
  cancellableChild,
  cancellingParent,
  ChildWorkflowCancellationType,
  cronChild,
  cronParent,
  optionParent,
  quickChild,
  release,
  reuseParent,
  WorkflowIdReusePolicy,
} from "./workflows/child-workflows.ts"

const redis = await useRedis()

const workflows = { cronChild, cronParent, quickChild, reuseParent, cancellableChild, cancellingParent, optionParent }

describe.each(BACKENDS)("child workflow options (%s)", (backend) => {
  const taskQueue = "children"
  const mesh = useMesh({ backend, redis, prefix: "child", workers: { taskQueue, workflows, activities } })
  afterAll(() => {
    activities.listener.onRun = () => undefined
  })

  const hasCancelRequest = (events: ReadonlyArray<{ readonly type: string }>) => events.some((event) => event.type === "CancelRequested")
  const historyOf = (workflowId: string) => mesh.client.workflow.getHandle(workflowId).fetchHistory().then((history) => history.events)
  /** Resolves once the child's history records the cancel request (a child not started yet is looked at again). */
  const cancelRequested = (workflowId: string) =>
    eventually(() => historyOf(workflowId).then((events) => hasCancelRequest(events) || undefined, notStartedYet), `the cancel request to reach ${workflowId}`)

  describe("cronSchedule", () => {
    it("runs the child at each schedule time, a new run of the child id each time; the parent's call holds until the chain is terminated", async () => {
      const childId = `cron-child-${mesh.namespace}`
      const { reports, reached: twoRuns } = recordRuns(activities.listener, 2, (report) => report.workflowId === childId)
      const parent = await mesh.client.workflow.start(cronParent, { taskQueue, workflowId: `cron-parent-${mesh.namespace}`, args: [childId, "* * * * * *"] })
      await twoRuns
      // Two child runs have completed, and the parent still waits (as in Temporal, a cron child does not complete).
      expect((await parent.describe()).status).toBe("RUNNING")
      expect(new Set(reports.map((report) => report.runId)).size).toBe(2)
      expect(reports.every((report) => report.cronSchedule === "* * * * * *" && report.parentWorkflowId === parent.workflowId)).toBe(true)
      const child = mesh.client.workflow.getHandle(childId)
      expect((await child.describe()).parent?.workflowId).toBe(parent.workflowId)

      await child.terminate("enough")
      expect(await parent.result()).toBe("child ended: TerminatedFailure")
    })

    it("refuses an invalid cron schedule in the child's options (the parent's task fails, naming it)", async () => {
      const handle = await mesh.client.workflow.start(optionParent, { taskQueue, workflowId: `cron-bad-${mesh.namespace}`, args: [{ cronSchedule: "every tuesday" }] })
      const taskFailure = await eventually(async () => (await handle.describe()).taskFailure, "the parent's task failure")
      expect(taskFailure.message).toContain('cronSchedule "every tuesday" is not a cron expression')
      await handle.terminate("done")
    })
  })

  describe("workflowIdReusePolicy", () => {
    const twice = (name: string, policy: WorkflowIdReusePolicy | undefined, first: "complete" | "fail") =>
      mesh.client.workflow.execute(reuseParent, { taskQueue, workflowId: `reuse-${name}-${mesh.namespace}`, args: [`reuse-child-${name}-${mesh.namespace}`, policy, first] })

    it("ALLOW_DUPLICATE (the default) starts a closed child id again", async () => {
      expect(await twice("default", undefined, "complete")).toBe("done")
      expect(await twice("allow", WorkflowIdReusePolicy.ALLOW_DUPLICATE, "complete")).toBe("done")
    })

    it("REJECT_DUPLICATE refuses a closed child id with WorkflowExecutionAlreadyStartedError", async () => {
      expect(await twice("reject", WorkflowIdReusePolicy.REJECT_DUPLICATE, "fail")).toBe("rejected")
    })

    it("ALLOW_DUPLICATE_FAILED_ONLY starts the id again after a failure, not after a completion", async () => {
      expect(await twice("failed-only-failed", WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY, "fail")).toBe("done")
      expect(await twice("failed-only-completed", WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY, "complete")).toBe("rejected")
    })

    it("TERMINATE_IF_RUNNING terminates a running workflow of the id and starts the child; without it the start is refused", async () => {
      for (const policy of [undefined, WorkflowIdReusePolicy.TERMINATE_IF_RUNNING]) {
        const childId = `reuse-running-${policy ?? "default"}-${mesh.namespace}`
        const squatter = await mesh.client.workflow.start(cancellableChild, { taskQueue, workflowId: childId })
        const outcome = await mesh.client.workflow.execute(reuseParent, { taskQueue, workflowId: `reuse-running-parent-${policy ?? "default"}-${mesh.namespace}`, args: [childId, policy, "none"] })
        const latest = await mesh.client.workflow.getHandle(childId).describe()
        if (policy === undefined) {
          expect(outcome).toBe("rejected")
          expect(latest).toMatchObject({ runId: squatter.firstExecutionRunId, status: "RUNNING" })
          await squatter.terminate("done")
        } else {
          expect(outcome).toBe("done")
          expect(latest.runId).not.toBe(squatter.firstExecutionRunId)
          expect(latest.status).toBe("COMPLETED")
        }
      }
    })

    it("refuses workflowIdConflictPolicy, as Temporal's ChildWorkflowOptions does, and an unknown reuse policy", async () => {
      for (const [name, options, expected] of [
        ["conflict", { workflowIdConflictPolicy: "USE_EXISTING" }, '"workflowIdConflictPolicy" is not a child option in Temporal'],
        ["bad-reuse", { workflowIdReusePolicy: "SOMETIMES" }, "workflowIdReusePolicy must be one of"],
      ] as const) {
        const handle = await mesh.client.workflow.start(optionParent, { taskQueue, workflowId: `option-${name}-${mesh.namespace}`, args: [options] })
        const taskFailure = await eventually(async () => (await handle.describe()).taskFailure, "the parent's task failure")
        expect(taskFailure.message).toContain(expected)
        await handle.terminate("done")
      }
    })
  })

  describe("cancellationType", () => {
    const cancelChild = async (name: string, type: ChildWorkflowCancellationType | undefined) => {
      const childId = `cancel-${name}-${mesh.namespace}`
      const parent = await mesh.client.workflow.start(cancellingParent, { taskQueue, workflowId: `cancel-parent-${name}-${mesh.namespace}`, args: [childId, type] })
      return { parent, child: mesh.client.workflow.getHandle(childId) }
    }

    it("ABANDON: the call rejects at once and the child is never told", async () => {
      const { parent, child } = await cancelChild("abandon", ChildWorkflowCancellationType.ABANDON)
      expect(await parent.result()).toBe("rejected: CancelledFailure")
      expect(hasCancelRequest(await historyOf(child.workflowId))).toBe(false)
      await child.signal(release)
      expect(await child.result()).toBe("not cancelled")
    })

    it("TRY_CANCEL: the call rejects at once, and the child is asked to cancel", async () => {
      const { parent, child } = await cancelChild("try", ChildWorkflowCancellationType.TRY_CANCEL)
      expect(await parent.result()).toBe("rejected: CancelledFailure")
      // The parent does not wait for the request to reach the child (that is TRY_CANCEL): wait for it here,
      // so the release signal cannot overtake it.
      await cancelRequested(child.workflowId)
      await child.signal(release)
      expect(await child.result()).toBe("cleaned up")
    })

    it("WAIT_CANCELLATION_REQUESTED: the call rejects once the child has recorded the request, while the child still runs", async () => {
      const { parent, child } = await cancelChild("requested", ChildWorkflowCancellationType.WAIT_CANCELLATION_REQUESTED)
      expect(await parent.result()).toBe("rejected: CancelledFailure")
      expect(hasCancelRequest(await historyOf(child.workflowId))).toBe(true)
      expect((await child.describe()).status).toBe("RUNNING")
      await child.signal(release)
      expect(await child.result()).toBe("cleaned up")
    })

    it("WAIT_CANCELLATION_COMPLETED (the default): the call waits for the child to close and takes its outcome", async () => {
      for (const type of [undefined, ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED]) {
        const { parent, child } = await cancelChild(`completed-${type ?? "default"}`, type)
        await cancelRequested(child.workflowId)
        expect((await parent.describe()).status).toBe("RUNNING")
        await child.signal(release)
        // The child caught the cancellation and completed: the parent's call resolves with its result.
        expect(await parent.result()).toBe("completed: cleaned up")
      }
    })

    it("refuses an unknown cancellation type", async () => {
      const handle = await mesh.client.workflow.start(optionParent, { taskQueue, workflowId: `cancel-bad-${mesh.namespace}`, args: [{ cancellationType: "NEVER" }] })
      const taskFailure = await eventually(async () => (await handle.describe()).taskFailure, "the parent's task failure")
      expect(taskFailure.message).toContain("cancellationType must be one of")
      await handle.terminate("done")
    })
  })
})
