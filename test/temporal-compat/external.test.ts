/**
 * Temporal's `getExternalWorkflowHandle(workflowId, runId?)` in workflow code:
 * `.signal` and `.cancel` are durable commands that resolve once the target
 * has the request, and fail with `ExternalWorkflowExecutionNotFound` when no
 * open run matches (Temporal's `SignalExternalWorkflowExecutionFailed` /
 * `RequestCancelExternalWorkflowExecutionFailed`).
 */
import { ApplicationFailure, CancelledFailure, DeterminismViolationError, Worker, WorkflowFailedError } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as workflows from "./workflows/external.ts"

describe("getExternalWorkflowHandle", () => {
  let env: TestWorkflowEnvironment
  let workers: Array<Worker>
  let running: Promise<unknown>
  const taskQueue = "external"
  const otherQueue = "external-other"
  let n = 0
  const id = (name: string) => `${name}-${++n}`

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping()
    workers = await Promise.all([taskQueue, otherQueue].map((queue) => Worker.create({ connection: env.nativeConnection, taskQueue: queue, workflows })))
    running = Promise.all(workers.map((worker) => worker.run()))
  })

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.shutdown()))
    await running
    await env.teardown()
  })

  const notFound = async (promise: Promise<unknown>): Promise<void> => {
    const error = await promise.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    const cause = (error as WorkflowFailedError).cause
    expect(cause).toBeInstanceOf(ApplicationFailure)
    expect((cause as ApplicationFailure).type).toBe("ExternalWorkflowExecutionNotFound")
  }

  it("a signal to a running workflow is received, and the sender's call resolves", async () => {
    const target = await env.client.workflow.start(workflows.receiver, { taskQueue, workflowId: id("receiver") })
    const sent = await env.client.workflow.execute(workflows.signaller, { taskQueue, workflowId: id("signaller"), args: [target.workflowId, "hello"] })
    expect(sent).toBe(`signalled ${target.workflowId}`)
    expect(await target.result()).toBe("hello")
  })

  it("reaches a workflow on another task queue", async () => {
    const target = await env.client.workflow.start(workflows.receiver, { taskQueue: otherQueue, workflowId: id("receiver") })
    await env.client.workflow.execute(workflows.signaller, { taskQueue, workflowId: id("signaller"), args: [target.workflowId, "across"] })
    expect(await target.result()).toBe("across")
  })

  it("a cancel reaches the target, which sees a CancelledFailure", async () => {
    const target = await env.client.workflow.start(workflows.receiver, { taskQueue, workflowId: id("receiver") })
    expect(await env.client.workflow.execute(workflows.canceller, { taskQueue, workflowId: id("canceller"), args: [target.workflowId] })).toBe("cancel requested")
    const error = await target.result().then(() => undefined, (e: unknown) => e)
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure)
  })

  it("cancelling a workflow that has finished fails with ExternalWorkflowExecutionNotFound", async () => {
    const target = await env.client.workflow.start(workflows.receiver, { taskQueue, workflowId: id("receiver") })
    await target.signal(workflows.pingSignal, "done")
    await target.result()
    await notFound(env.client.workflow.execute(workflows.canceller, { taskQueue, workflowId: id("canceller"), args: [target.workflowId] }))
  })

  it("signalling a workflow that never existed, or another run of it, fails the same way", async () => {
    await notFound(env.client.workflow.execute(workflows.signaller, { taskQueue, workflowId: id("signaller"), args: ["nobody", "x"] }))
    const target = await env.client.workflow.start(workflows.receiver, { taskQueue, workflowId: id("receiver") })
    await notFound(env.client.workflow.execute(workflows.signaller, { taskQueue, workflowId: id("signaller"), args: [target.workflowId, "x", "not-its-run"] }))
    await target.terminate()
  })

  it("the sender's history replays deterministically", async () => {
    const target = await env.client.workflow.start(workflows.receiver, { taskQueue, workflowId: id("receiver") })
    const sender = await env.client.workflow.start(workflows.signaller, { taskQueue, workflowId: id("signaller"), args: [target.workflowId, "replayed"] })
    await sender.result()
    const history = await sender.fetchHistory()
    expect(history.events.map((event) => event.type)).toEqual(["WorkflowStarted", "ExternalSignalInitiated", "ExternalRequestResolved", "WorkflowCompleted"])
    await Worker.runReplayHistory({ workflows }, history)
    const changed = await Worker.runReplayHistory({ workflows: { signaller: workflows.signallerThatCancels } }, history).then(() => undefined, (e: unknown) => e)
    expect(changed).toBeInstanceOf(DeterminismViolationError)
  })
})
