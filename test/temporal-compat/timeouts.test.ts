/**
 * Temporal's workflow timeouts: `workflowRunTimeout` (each run) and
 * `workflowExecutionTimeout` (the whole chain of runs), on the
 * time-skipping environment — an hour of workflow time passes in
 * milliseconds, and nothing here sleeps in real time.
 */
import { ChildWorkflowFailure, InvalidArgumentError, TimeoutFailure, Worker, WorkflowFailedError } from "hotmesh"
import { describe, expect, it } from "vitest"
import { useWorkerEnvironment } from "../fixtures/e2e-support.ts"
import * as activities from "./activities/timeouts.ts"
import * as workflows from "./workflows/timeouts.ts"

describe("workflow timeouts", () => {
  const taskQueue = "timeouts"
  const setup = useWorkerEnvironment({ taskQueue, workflows, activities })
  let n = 0
  const workflowId = (name: string) => `${name}-${++n}`

  const failureOf = async (promise: Promise<unknown>): Promise<WorkflowFailedError> => {
    const error = await promise.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    return error as WorkflowFailedError
  }

  it("a run timeout times the workflow out while its activity is still running", async () => {
    const handle = await setup.env.client.workflow.start(workflows.waitsOnActivity, { taskQueue, workflowId: workflowId("run-timeout"), workflowRunTimeout: "30 seconds" })
    const error = await failureOf(handle.result())
    expect(error.cause).toBeInstanceOf(TimeoutFailure)
    const description = await handle.describe()
    expect(description.status).toBe("TIMED_OUT")
    expect(description.pendingActivities).toEqual([])
    const { events } = await handle.fetchHistory()
    expect(events.map((event) => event.type)).toEqual(["WorkflowStarted", "ActivityScheduled", "WorkflowTimedOut"])
  })

  it("the execution timeout spans continue-as-new: the chain times out in a later run", async () => {
    const handle = await setup.env.client.workflow.start(workflows.sleepsAndContinues, {
      taskQueue,
      workflowId: workflowId("execution-timeout"),
      args: [10],
      workflowExecutionTimeout: "35 seconds",
    })
    const error = await failureOf(handle.result())
    expect(error.cause).toBeInstanceOf(TimeoutFailure)
    const description = await handle.describe()
    expect(description.status).toBe("TIMED_OUT")
    expect(description.runId).not.toBe(handle.firstExecutionRunId) // it was the fourth run that timed out
    expect(description.closeTime!.getTime() - description.startTime.getTime()).toBeLessThan(10_000)
  })

  it("the run timeout applies to each run afresh", async () => {
    const result = await setup.env.client.workflow.execute(workflows.boundedRuns, {
      taskQueue,
      workflowId: workflowId("per-run"),
      args: [20, 3],
      workflowRunTimeout: "30 seconds",
    })
    expect(result).toBe(3) // 60 s in all, never 30 s in one run
  })

  it("makeContinueAsNewFunc({ workflowRunTimeout }) gives the next run its own run timeout", async () => {
    const handle = await setup.env.client.workflow.start(workflows.tightensItsRunTimeout, { taskQueue, workflowId: workflowId("can-run-timeout") })
    const error = await failureOf(handle.result())
    expect(error.cause).toBeInstanceOf(TimeoutFailure)
    const description = await handle.describe()
    expect(description.status).toBe("TIMED_OUT")
    expect(description.runId).not.toBe(handle.firstExecutionRunId)
    expect(description.closeTime!.getTime() - description.startTime.getTime()).toBe(60_000)
  })

  it("workflowInfo() carries the timeouts", async () => {
    const info = await setup.env.client.workflow.execute(workflows.timeoutInfo, {
      taskQueue,
      workflowId: workflowId("info"),
      workflowExecutionTimeout: "1 hour",
      workflowRunTimeout: "10 minutes",
    })
    expect(info).toEqual({ executionTimeoutMs: 3_600_000, runTimeoutMs: 600_000, expiresInMs: 3_600_000 })
    expect(await setup.env.client.workflow.execute(workflows.timeoutInfo, { taskQueue, workflowId: workflowId("info") })).toEqual({})
  })

  it("a child that times out fails the parent's call with ChildWorkflowFailure caused by TimeoutFailure", async () => {
    const childId = workflowId("slow-child")
    const handle = await setup.env.client.workflow.start(workflows.parentOfSlowChild, { taskQueue, workflowId: workflowId("parent"), args: [childId] })
    const error = await failureOf(handle.result())
    expect(error.cause).toBeInstanceOf(ChildWorkflowFailure)
    expect(error.cause?.cause).toBeInstanceOf(TimeoutFailure)
    expect((await setup.env.client.workflow.getHandle(childId).describe()).status).toBe("TIMED_OUT")
  })

  it("a workflow that timed out replays deterministically", async () => {
    const handle = await setup.env.client.workflow.start(workflows.waitsOnActivity, { taskQueue, workflowId: workflowId("replay"), workflowRunTimeout: "1 minute" })
    await failureOf(handle.result())
    await Worker.runReplayHistory({ workflows }, await handle.fetchHistory())
  })

  it("rejects a timeout that is not a duration", async () => {
    await expect(setup.env.client.workflow.start(workflows.timeoutInfo, { taskQueue, workflowId: workflowId("bad"), workflowRunTimeout: "soon" })).rejects.toThrow(InvalidArgumentError)
  })
})
