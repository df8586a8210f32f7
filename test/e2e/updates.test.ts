/**
 * Workflow updates end to end, on the embedded store and on a real Redis
 * (separate worker and client connections): results after an activity,
 * validator rejections that leave no history, dedupe by update id, update
 * handles, failures, closed workflows, and an accepted update that outlives
 * the worker that accepted it; Temporal's workflow-id policies on start, and
 * update-with-start.
 */
import {
  InvalidArgumentError,
  WithStartWorkflowOperation,
  Worker,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowUpdateStage,
} from "hotmesh"
import { describe, expect, it } from "vitest"
import { BACKENDS, historyOf, rejectionOf, unique, useMesh } from "../fixtures/e2e-support.ts"
import * as fixtures from "../fixtures/update-workflows.ts"
import { useRedis } from "../support/redisServer.ts"

const { activities, addItem, addSlowly, asyncValidated, cart, failItem, finish, noHandlers, SLOW_QUEUE, whoAmI } = fixtures
const workflows = { cart, noHandlers }
const redis = await useRedis()
const updateEntries = (events: ReadonlyArray<{ readonly type: string }>) => events.filter((entry) => entry.type.startsWith("Update"))

for (const backend of BACKENDS) {
  describe(`updates (${backend})`, () => {
    const taskQueue = "updates"
    const mesh = useMesh({ backend, redis, prefix: "updates", workers: { taskQueue, workflows, activities } })
    const startCart = () => mesh.client.workflow.start(cart, { taskQueue, workflowId: unique("cart") })

    it("returns the handler's result, computed after an activity, and journals the update", async () => {
      const handle = await startCart()
      expect(await handle.executeUpdate(addItem, { args: ["book"] })).toBe(1)
      expect(await handle.executeUpdate("addItem", { args: ["pen"] })).toBe(2)
      await handle.signal(finish)
      expect(await handle.result()).toEqual(["BOOK", "PEN"])
      const updates = updateEntries(await historyOf(handle))
      expect(updates.map((entry) => entry.type)).toEqual([
        "UpdateRequested", "UpdateAccepted", "UpdateCompleted",
        "UpdateRequested", "UpdateAccepted", "UpdateCompleted",
      ])
    })

    it("rejects an update its validator refuses, without recording anything in the journal", async () => {
      const handle = await startCart()
      expect(await handle.executeUpdate(addItem, { args: ["book"] })).toBe(1)
      const before = await historyOf(handle)
      const error = await rejectionOf(handle.executeUpdate(addItem, { args: [""] }))
      expect(error.name).toBe("WorkflowUpdateFailedError")
      expect(error.cause.name).toBe("ApplicationFailure")
      expect(error.cause.message).toBe("empty item")
      expect(await historyOf(handle)).toEqual(before)
      expect(await handle.executeUpdate(addItem, { args: ["pen"] })).toBe(2) // the workflow goes on
    })

    it("rejects an update whose validator returns a Promise (validators are synchronous)", async () => {
      const handle = await startCart()
      const error = await rejectionOf(handle.executeUpdate(asyncValidated))
      expect(error.name).toBe("WorkflowUpdateFailedError")
      expect(error.cause.message).toMatch(/update validators must be synchronous/)
    })

    it("rejects startUpdate of a refused update at once", async () => {
      const handle = await startCart()
      const error = await rejectionOf(handle.startUpdate(addItem, { args: [""], waitForStage: WorkflowUpdateStage.ACCEPTED }))
      expect(error.name).toBe("WorkflowUpdateFailedError")
      expect(error.cause.message).toBe("empty item")
    })

    it("dedupes by update id: a second update with the same id gets the first outcome, and the handler runs once", async () => {
      const handle = await startCart()
      const updateId = unique("once")
      expect(await handle.executeUpdate(addItem, { args: ["book"], updateId })).toBe(1)
      expect(await handle.executeUpdate(addItem, { args: ["other"], updateId })).toBe(1)
      await handle.signal(finish)
      expect(await handle.result()).toEqual(["BOOK"])
    })

    it("startUpdate returns a handle once accepted; getUpdateHandle reaches the same update by id", async () => {
      const handle = await startCart()
      const started = await handle.startUpdate(addItem, { args: ["book"], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: "u-1" })
      expect(started.updateId).toBe("u-1")
      expect(started.workflowId).toBe(handle.workflowId)
      expect(started.workflowRunId).toBe(handle.firstExecutionRunId)
      expect(await started.result()).toBe(1)
      expect(await mesh.client.workflow.getHandle(handle.workflowId).getUpdateHandle<number>("u-1").result()).toBe(1)
    })

    it("fails the update (not the workflow) when the handler throws an ApplicationFailure", async () => {
      const handle = await startCart()
      const error = await rejectionOf(handle.executeUpdate(failItem, { args: ["book"] }))
      expect(error.name).toBe("WorkflowUpdateFailedError")
      expect(error.cause.type).toBe("OutOfStock")
      expect(error.cause.message).toBe("book is out of stock")
      expect((await handle.describe()).status).toBe("RUNNING")
      expect(updateEntries(await historyOf(handle)).map((entry) => entry.type)).toEqual(["UpdateRequested", "UpdateAccepted", "UpdateCompleted"])
    })

    it("gives the handler its update's id and name (currentUpdateInfo)", async () => {
      const handle = await startCart()
      expect(await handle.executeUpdate(whoAmI, { updateId: "me" })).toEqual({ id: "me", name: "whoAmI" })
    })

    it("rejects an update the workflow has no handler for", async () => {
      const handle = await mesh.client.workflow.start(noHandlers, { taskQueue, workflowId: unique("bare") })
      const error = await rejectionOf(handle.executeUpdate("nobody", { args: [1] }))
      expect(error.name).toBe("WorkflowUpdateFailedError")
      expect(error.cause.message).toMatch(/No registered handler for update: nobody/)
      expect(updateEntries(await historyOf(handle))).toEqual([])
    })

    it("rejects an update to a closed workflow with WorkflowNotFoundError", async () => {
      const handle = await startCart()
      await handle.signal(finish)
      await handle.result()
      const error = await rejectionOf(handle.executeUpdate(addItem, { args: ["late"] }))
      expect(error.name).toBe("WorkflowNotFoundError")
      expect(error.message).toMatch(/workflow execution already completed/)
    })

    it("completes an accepted update after the worker that accepted it is gone", async () => {
      const handle = await startCart()
      const started = await handle.startUpdate(addSlowly, { args: ["lamp"], waitForStage: WorkflowUpdateStage.ACCEPTED })
      // Nobody serves the slow queue yet: the handler waits on its activity. Replace the workflow worker.
      await mesh.restartWorkers()
      const slow = await Worker.create({ connection: mesh.connection, taskQueue: SLOW_QUEUE, activities })
      expect(await slow.runUntil(started.result())).toBe(1)
      await handle.signal(finish)
      expect(await handle.result()).toEqual(["LAMP"])
    })

    it("start with USE_EXISTING gives the open run's handle; TERMINATE_EXISTING terminates it and starts another", async () => {
      const workflowId = unique("policy")
      const first = await mesh.client.workflow.start(cart, { taskQueue, workflowId })
      const again = await mesh.client.workflow.start(cart, { taskQueue, workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING })
      expect(again.firstExecutionRunId).toBe(first.firstExecutionRunId)
      expect(await rejectionOf(mesh.client.workflow.start(cart, { taskQueue, workflowId }))).toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
      const replaced = await mesh.client.workflow.start(cart, { taskQueue, workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING })
      expect(replaced.firstExecutionRunId).not.toBe(first.firstExecutionRunId)
      expect(await replaced.describe()).toMatchObject({ runId: replaced.firstExecutionRunId, status: "RUNNING" })
      expect(await replaced.executeUpdate(addItem, { args: ["new"] })).toBe(1)
    })

    it("reuse policies decide whether a closed workflow id may start again", async () => {
      const workflowId = unique("reuse")
      const first = await mesh.client.workflow.start(noHandlers, { taskQueue, workflowId })
      await first.signal(finish)
      await first.result()
      for (const workflowIdReusePolicy of [WorkflowIdReusePolicy.REJECT_DUPLICATE, WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY]) {
        const refused = await rejectionOf(mesh.client.workflow.start(noHandlers, { taskQueue, workflowId, workflowIdReusePolicy }))
        expect(refused).toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
      }
      const second = await mesh.client.workflow.start(noHandlers, { taskQueue, workflowId, workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE })
      await second.terminate("to fail it")
      const third = await mesh.client.workflow.start(noHandlers, { taskQueue, workflowId, workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY })
      expect(third.firstExecutionRunId).not.toBe(second.firstExecutionRunId)
    })

    it("executeUpdateWithStart starts the workflow with the update, then updates the open run (USE_EXISTING)", async () => {
      const workflowId = unique("uws")
      const operation = () => new WithStartWorkflowOperation(cart, { taskQueue, workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING })
      const first = operation()
      expect(await mesh.client.workflow.executeUpdateWithStart(addItem, { args: ["book"], startWorkflowOperation: first })).toBe(1)
      const handle = await first.workflowHandle()
      const second = operation()
      const update = await mesh.client.workflow.startUpdateWithStart(addItem, { args: ["pen"], waitForStage: WorkflowUpdateStage.ACCEPTED, startWorkflowOperation: second })
      expect(await update.result()).toBe(2)
      expect((await second.workflowHandle()).firstExecutionRunId).toBe(handle.firstExecutionRunId)
      await handle.signal(finish)
      expect(await handle.result()).toEqual(["BOOK", "PEN"])
    })

    it("update-with-start with FAIL on an open workflow is refused and delivers nothing", async () => {
      const handle = await startCart()
      const startWorkflowOperation = new WithStartWorkflowOperation(cart, { taskQueue, workflowId: handle.workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL })
      const error = await rejectionOf(mesh.client.workflow.executeUpdateWithStart(addItem, { args: ["book"], startWorkflowOperation }))
      expect(error).toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
      expect(await rejectionOf(startWorkflowOperation.workflowHandle())).toBe(error)
      await handle.signal(finish)
      expect(await handle.result()).toEqual([])
    })

    it("update-with-start needs a conflict policy, and an operation is used once", async () => {
      const workflowId = unique("uws-once")
      const bare = new WithStartWorkflowOperation(cart, { taskQueue, workflowId } as never)
      expect(await rejectionOf(mesh.client.workflow.executeUpdateWithStart(addItem, { args: ["x"], startWorkflowOperation: bare }))).toBeInstanceOf(InvalidArgumentError)
      const startWorkflowOperation = WithStartWorkflowOperation.create(cart, { taskQueue, workflowId, workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING })
      expect(await mesh.client.workflow.executeUpdateWithStart(addItem, { args: ["x"], startWorkflowOperation })).toBe(1)
      const reused = await rejectionOf(mesh.client.workflow.executeUpdateWithStart(addItem, { args: ["y"], startWorkflowOperation }))
      expect(reused).toBeInstanceOf(InvalidArgumentError)
      expect(reused.message).toMatch(/already been executed/)
    })
  })
}
