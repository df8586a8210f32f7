/**
 * Child workflows end to end: executeChild, startChild + result(), failure
 * wrapping, duplicate ids, default ids, parallel children, task queues, and
 * the parent-close policies (terminate, request cancel, abandon).
 */
import { ParentClosePolicy, Worker, WorkflowFailedError } from "hotmesh"
import { describe, expect, it } from "vitest"
import * as workflows from "../fixtures/child-workflows.ts"
import { causeChain, entriesOf, eventually, historyOf, rejectionOf, unique, useWorkerEnvironment } from "../fixtures/e2e-support.ts"

const taskQueue = unique("children")
const setup = useWorkerEnvironment({ taskQueue, workflows })

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Wait until the workflow `workflowId` exists and runs. */
const runningWorkflow = (workflowId: string) =>
  eventually(async () => {
    const description = await setup.env.client.workflow.getHandle(workflowId).describe().catch(() => undefined)
    return description?.status === "RUNNING" ? description : undefined
  }, `workflow ${workflowId} to be running`)

describe("starting children", () => {
  it("executeChild returns the child's result; the child knows its parent", async () => {
    const parentId = unique("parent")
    const childId = unique("child")
    const handle = await setup.env.client.workflow.start(workflows.parentExecutes, { taskQueue, workflowId: parentId, args: ["v", childId] })
    const result = await handle.result()
    const { runId } = await handle.describe()
    expect(result).toEqual({ value: "v", workflowId: childId, parent: { workflowId: parentId, runId } })
    const child = await setup.env.client.workflow.getHandle(childId).describe()
    expect(child.status).toBe("COMPLETED")
    expect(child.type).toBe("echoChild")
    expect(child.taskQueue).toBe(taskQueue)
    expect(child.parent).toEqual({ workflowId: parentId, runId })
    const started = entriesOf(await historyOf(handle), "ChildStartInitiated")
    expect(started.map((entry) => [entry.workflowType, entry.workflowId])).toEqual([["echoChild", childId]])
  })

  it("startChild returns a handle once the child started; result() waits for it", async () => {
    const childId = unique("child")
    const handle = await setup.env.client.workflow.start(workflows.parentStarts, { taskQueue, workflowId: unique("parent"), args: ["w", childId] })
    const result = await handle.result()
    expect(result.workflowId).toBe(childId)
    expect(result.firstExecutionRunId).toBe((await setup.env.client.workflow.getHandle(childId).describe()).runId)
    expect(result.result).toMatchObject({ value: "w", workflowId: childId })
    const kinds = (await historyOf(handle)).map((entry) => entry.type)
    // started, then the parent's own timer, then the child's completion
    expect(kinds.indexOf("ChildStarted")).toBeGreaterThan(kinds.indexOf("ChildStartInitiated"))
    expect(kinds).toContain("TimerStarted")
  })

  it("starts a child by its type name", async () => {
    expect(await setup.env.client.workflow.execute(workflows.parentByName, { taskQueue, workflowId: unique("parent"), args: ["by-name"] })).toMatchObject({ value: "by-name" })
  })

  it("gives a child without workflowId a UUID as its id", async () => {
    const handle = await setup.env.client.workflow.start(workflows.parentDefaultId, { taskQueue, workflowId: unique("parent") })
    const { childId, result } = await handle.result()
    expect(childId).toMatch(UUID4)
    expect(result).toMatchObject({ value: "anonymous", workflowId: childId })
    expect(entriesOf(await historyOf(handle), "ChildStartInitiated")[0]!.workflowId).toBe(childId)
    expect((await setup.env.client.workflow.getHandle(childId).describe()).status).toBe("COMPLETED")
  })

  it("starts children awaited with Promise.all together", async () => {
    const prefix = unique("many")
    const handle = await setup.env.client.workflow.start(workflows.parentOfMany, { taskQueue, workflowId: unique("parent"), args: [prefix, 3] })
    // All three children exist while none has finished: they were started together.
    await eventually(async () => ((await handle.query(workflows.childIds)).length === 3 ? true : undefined), "all children started")
    for (let i = 0; i < 3; i++) expect((await setup.env.client.workflow.getHandle(`${prefix}-${i}`).describe()).status).toBe("RUNNING")
    const history = await historyOf(handle)
    const kinds = history.map((entry) => entry.type)
    expect(entriesOf(history, "ChildStartInitiated")).toHaveLength(3)
    expect(kinds.lastIndexOf("ChildStartInitiated")).toBeLessThan(kinds.indexOf("ChildStarted"))
    for (let i = 2; i >= 0; i--) await setup.env.client.workflow.getHandle(`${prefix}-${i}`).signal(workflows.release, `t${i}`)
    expect(await handle.result()).toEqual(["released by t0", "released by t1", "released by t2"])
  })

  it("runs a child on another task queue", async () => {
    const otherQueue = unique("children-other")
    const other = await Worker.create({ connection: setup.env.connection, taskQueue: otherQueue, workflows: { echoChild: workflows.echoChild } })
    await other.runUntil(async () => {
      const handle = await setup.env.client.workflow.start(workflows.parentOnOtherQueue, { taskQueue, workflowId: unique("parent"), args: ["q", otherQueue] })
      const result = (await handle.result()) as { workflowId: string }
      expect(result).toMatchObject({ value: "q" })
      expect((await setup.env.client.workflow.getHandle(result.workflowId).describe()).taskQueue).toBe(otherQueue)
    })
  })
})

describe("child failures", () => {
  it("fails the parent with WorkflowFailedError → ChildWorkflowFailure → ApplicationFailure", async () => {
    const childId = unique("child")
    const error = await rejectionOf(setup.env.client.workflow.execute(workflows.parentOfFailing, { taskQueue, workflowId: unique("parent"), args: [childId] }))
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect(causeChain(error)).toEqual([
      { name: "WorkflowFailedError", message: expect.any(String) },
      { name: "ChildWorkflowFailure", message: expect.any(String) },
      { name: "ApplicationFailure", message: "child broke", type: "ChildBroke" },
    ])
    expect(error.cause.workflowId).toBe(childId)
    expect(error.cause.workflowType).toBe("failingChild")
    expect((await setup.env.client.workflow.getHandle(childId).describe()).status).toBe("FAILED")
  })

  it("lets the parent catch a ChildWorkflowFailure and read its cause", async () => {
    const childId = unique("child")
    expect(await setup.env.client.workflow.execute(workflows.parentCatchesChild, { taskQueue, workflowId: unique("parent"), args: [childId] })).toEqual({
      caught: true,
      isChildWorkflowFailure: true,
      workflowId: childId,
      workflowType: "failingChild",
      causeIsApplicationFailure: true,
      causeType: "ChildBroke",
      causeMessage: "child broke",
    })
  })

  it("rejects a second child with the id of a running child; the first is unaffected", async () => {
    const childId = unique("dup-child")
    const handle = await setup.env.client.workflow.start(workflows.duplicateChildren, { taskQueue, workflowId: unique("parent"), args: [childId] })
    await runningWorkflow(childId)
    // Release the first child only once the parent has seen the second start's outcome.
    await eventually(async () => ((await historyOf(handle)).some((entry) => entry.type === "ChildStartFailed" || entry.type === "ChildStarted" && entry.seq === 2) ? true : undefined), "the second start's outcome")
    await setup.env.client.workflow.getHandle(childId).signal(workflows.release, "test")
    const result = await handle.result()
    expect(result.first).toBe("released by test")
    const second = result.second as Record<string, unknown>
    expect(second.started).toBe(false)
    expect([second.name, second.type]).toContain("WorkflowExecutionAlreadyStartedError")
    expect(String(second.message)).toContain(childId)
  })

  it("rejects a child whose id is used by a running top-level workflow", async () => {
    const busyId = unique("busy")
    const busy = await setup.env.client.workflow.start(workflows.waitingChild, { taskQueue, workflowId: busyId })
    const error = await rejectionOf(setup.env.client.workflow.execute(workflows.parentExecutes, { taskQueue, workflowId: unique("parent"), args: ["x", busyId] }))
    expect(error.name).toBe("WorkflowFailedError")
    expect(causeChain(error).some((link) => link.name === "WorkflowExecutionAlreadyStartedError" || link.type === "WorkflowExecutionAlreadyStartedError")).toBe(true)
    expect((await busy.describe()).status).toBe("RUNNING")
    await busy.signal(workflows.release, "cleanup")
    expect(await busy.result()).toBe("released by cleanup")
  })
})

describe("parent-close policy", () => {
  it("terminates a running child when its parent is terminated", async () => {
    const childId = unique("orphan")
    const parent = await setup.env.client.workflow.start(workflows.parentWaitsForever, { taskQueue, workflowId: unique("parent"), args: [childId] })
    await runningWorkflow(childId)
    await eventually(async () => ((await historyOf(parent)).some((entry) => entry.type === "ChildStarted") ? true : undefined), "the parent to see its child start")
    await parent.terminate("test ends the family")
    const error = await rejectionOf(setup.env.client.workflow.getHandle(childId).result())
    expect(error.name).toBe("WorkflowFailedError")
    expect(error.status).toBe("TERMINATED")
    expect(error.cause.name).toBe("TerminatedFailure")
    const child = await setup.env.client.workflow.getHandle(childId).describe()
    expect(child.status).toBe("TERMINATED")
    expect(child.closeTime).toBeInstanceOf(Date)
  })

  it("terminates a running child when its parent completes", async () => {
    const childId = unique("orphan")
    expect(await setup.env.client.workflow.execute(workflows.parentReturnsEarly, { taskQueue, workflowId: unique("parent"), args: [childId] })).toBe("parent done")
    const error = await rejectionOf(setup.env.client.workflow.getHandle(childId).result())
    expect(error.status).toBe("TERMINATED")
    expect((await setup.env.client.workflow.getHandle(childId).describe()).status).toBe("TERMINATED")
  })

  it("ParentClosePolicy.ABANDON leaves the child running after its parent completes", async () => {
    const childId = unique("abandoned")
    const parent = { taskQueue, workflowId: unique("parent"), args: [childId, ParentClosePolicy.ABANDON] as [string, "ABANDON"] }
    expect(await setup.env.client.workflow.execute(workflows.parentLeavesChild, parent)).toBe("parent done")
    await runningWorkflow(childId)
    await setup.env.client.workflow.getHandle(childId).signal(workflows.release, "ops")
    expect(await setup.env.client.workflow.getHandle(childId).result()).toBe("released by ops")
  })

  it("ParentClosePolicy.REQUEST_CANCEL asks the child to cancel when its parent completes", async () => {
    const childId = unique("asked")
    const parent = { taskQueue, workflowId: unique("parent"), args: [childId, ParentClosePolicy.REQUEST_CANCEL] as [string, "REQUEST_CANCEL"] }
    expect(await setup.env.client.workflow.execute(workflows.parentLeavesChild, parent)).toBe("parent done")
    const error = await rejectionOf(setup.env.client.workflow.getHandle(childId).result())
    expect(error.status).toBe("CANCELLED")
  })

  it("refuses an unknown parentClosePolicy (the parent's task fails, naming it)", async () => {
    const handle = await setup.env.client.workflow.start(workflows.parentLeavesChild, { taskQueue, workflowId: unique("parent"), args: [unique("kid"), "ORPHAN" as "ABANDON"] })
    const failure = await eventually(async () => (await handle.describe()).taskFailure, "the task failure")
    expect(failure.message).toContain('parentClosePolicy must be one of TERMINATE, REQUEST_CANCEL, ABANDON; got "ORPHAN"')
    await handle.terminate("done")
  })
})
