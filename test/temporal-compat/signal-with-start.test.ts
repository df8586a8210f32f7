/**
 * `mesh.client.workflow.signalWithStart`, as a Temporal user calls it: on a new
 * workflow id it starts the run with the signal; on a running one it signals
 * that run (`signaledRunId` is the running run); `workflowIdReusePolicy`
 * decides about a closed (or, `TERMINATE_IF_RUNNING`, an open) run; a cron
 * schedule and timeouts come along. Both stores.
 */
import { InvalidArgumentError, TimeoutFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from "hotmesh"
import { afterAll, describe, expect, it } from "vitest"
import { BACKENDS, recordRuns, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as activities from "./activities/signal-with-start.ts"
import { addItem, cart, close, cronCart } from "./workflows/signal-with-start.ts"

const redis = await useRedis()

describe.each(BACKENDS)("signalWithStart (%s)", (backend) => {
  const mesh = useMesh({ backend, redis, prefix: "sws", workers: { taskQueue: "carts", workflows: { cart, cronCart }, activities } })
  afterAll(() => {
    activities.listener.onRun = () => undefined
  })

  it("starts the workflow with the signal, then signals the running run", async () => {
    const workflowId = `cart-${mesh.namespace}`
    const first = await mesh.client.workflow.signalWithStart(cart, { workflowId, taskQueue: "carts", signal: addItem, signalArgs: ["apple"] })
    const second = await mesh.client.workflow.signalWithStart(cart, { workflowId, taskQueue: "carts", signal: addItem, signalArgs: ["pear"] })
    expect(second.signaledRunId).toBe(first.signaledRunId)
    expect((await second.describe()).runId).toBe(first.signaledRunId)
    await first.signal(close)
    expect(await first.result()).toEqual(["apple", "pear"])
  })

  describe("workflowIdReusePolicy", () => {
    const closedCart = async (name: string, how: "completed" | "terminated") => {
      const workflowId = `reuse-${name}-${mesh.namespace}`
      const first = await mesh.client.workflow.signalWithStart(cart, { workflowId, taskQueue: "carts", signal: addItem, signalArgs: ["apple"] })
      if (how === "completed") {
        await first.signal(close)
        await first.result()
      } else {
        await first.terminate("closed for the test")
      }
      return { workflowId, first }
    }
    const again = (workflowId: string, workflowIdReusePolicy?: WorkflowIdReusePolicy) =>
      mesh.client.workflow.signalWithStart(cart, { workflowId, taskQueue: "carts", signal: addItem, signalArgs: ["pear"], ...(workflowIdReusePolicy === undefined ? {} : { workflowIdReusePolicy }) })

    it("ALLOW_DUPLICATE (the default) starts a closed id again, with the signal", async () => {
      const { workflowId, first } = await closedCart("allow", "completed")
      const second = await again(workflowId)
      expect(second.signaledRunId).not.toBe(first.signaledRunId)
      await second.signal(close)
      expect(await second.result()).toEqual(["pear"])
    })

    it("REJECT_DUPLICATE refuses a closed id (WorkflowExecutionAlreadyStartedError) and sends no signal; an open run is signalled all the same", async () => {
      const { workflowId, first } = await closedCart("reject", "completed")
      await expect(again(workflowId, WorkflowIdReusePolicy.REJECT_DUPLICATE)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
      expect(await mesh.client.workflow.getHandle(workflowId).describe()).toMatchObject({ runId: first.signaledRunId, status: "COMPLETED" })

      const open = await mesh.client.workflow.signalWithStart(cart, { workflowId: `reject-open-${mesh.namespace}`, taskQueue: "carts", signal: addItem, signalArgs: ["apple"] })
      const signalled = await again(open.workflowId, WorkflowIdReusePolicy.REJECT_DUPLICATE)
      expect(signalled.signaledRunId).toBe(open.signaledRunId)
      await open.signal(close)
      expect(await open.result()).toEqual(["apple", "pear"])
    })

    it("ALLOW_DUPLICATE_FAILED_ONLY starts the id again after a terminated run, not after a completed one", async () => {
      const completed = await closedCart("failed-only-completed", "completed")
      await expect(again(completed.workflowId, WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
      const terminated = await closedCart("failed-only-terminated", "terminated")
      const second = await again(terminated.workflowId, WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY)
      await second.signal(close)
      expect(await second.result()).toEqual(["pear"])
    })

    it("TERMINATE_IF_RUNNING terminates the open run and starts a new one with the signal", async () => {
      const open = await mesh.client.workflow.signalWithStart(cart, { workflowId: `terminate-open-${mesh.namespace}`, taskQueue: "carts", signal: addItem, signalArgs: ["apple"] })
      const second = await again(open.workflowId, WorkflowIdReusePolicy.TERMINATE_IF_RUNNING)
      expect(second.signaledRunId).not.toBe(open.signaledRunId)
      await second.signal(close)
      expect(await second.result()).toEqual(["pear"])
    })

    it("workflowIdConflictPolicy TERMINATE_EXISTING terminates the open run and starts a new one with the signal; USE_EXISTING signals it", async () => {
      const open = await mesh.client.workflow.signalWithStart(cart, { workflowId: `conflict-${mesh.namespace}`, taskQueue: "carts", signal: addItem, signalArgs: ["apple"] })
      const same = await mesh.client.workflow.signalWithStart(cart, { workflowId: open.workflowId, taskQueue: "carts", signal: addItem, signalArgs: ["fig"], workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING })
      expect(same.signaledRunId).toBe(open.signaledRunId)
      const fresh = await mesh.client.workflow.signalWithStart(cart, {
        workflowId: open.workflowId,
        taskQueue: "carts",
        signal: addItem,
        signalArgs: ["pear"],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
      })
      expect(fresh.signaledRunId).not.toBe(open.signaledRunId)
      await fresh.signal(close)
      expect(await fresh.result()).toEqual(["pear"])
    })

    it("refuses an unknown reuse policy and conflict policy FAIL", async () => {
      await expect(again(`bad-reuse-${mesh.namespace}`, "SOMETIMES" as WorkflowIdReusePolicy)).rejects.toThrow("workflowIdReusePolicy must be one of")
      await expect(mesh.client.workflow.signalWithStart(cart, { workflowId: `bad-conflict-${mesh.namespace}`, taskQueue: "carts", signal: addItem, workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL }))
        .rejects.toThrow("workflowIdConflictPolicy FAIL is not supported by signalWithStart")
    })
  })

  it("with a cron schedule and an execution timeout: the first run gets the signal, the chain runs on each schedule time, and times out as one execution", async () => {
    const workflowId = `cron-cart-${mesh.namespace}`
    const { reports } = recordRuns(activities.listener)
    const handle = await mesh.client.workflow.signalWithStart(cronCart, {
      workflowId,
      taskQueue: "carts",
      cronSchedule: "* * * * * *",
      workflowExecutionTimeout: 2500,
      signal: addItem,
      signalArgs: ["apple"],
    })
    const error = await handle.result().then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure)
    // The execution timed out, and no run followed (a cron chain that goes on has an open latest run).
    expect((await handle.describe()).status).toBe("TIMED_OUT")
    expect(reports.length).toBeGreaterThanOrEqual(1)
    expect(reports[0]).toMatchObject({ runId: handle.signaledRunId, cronSchedule: "* * * * * *", items: ["apple"] })
    expect(reports.slice(1).every((report) => report.items.length === 0)).toBe(true)
    expect(new Set(reports.map((report) => report.runId)).size).toBe(reports.length)
  })

  it("refuses a missing signal", async () => {
    await expect(mesh.client.workflow.signalWithStart(cart, { workflowId: `bad-${mesh.namespace}`, taskQueue: "carts" } as never)).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})
