/**
 * Cancellation end to end: handle.cancel() surfaces inside the workflow as a
 * CancelledFailure it may catch; cancellation scopes (cancellable,
 * nonCancellable, withTimeout) cancel timers, activities and children; and
 * terminate ends a workflow without running its code.
 */
import { CancelledFailure, isCancellation, WorkflowFailedError, type WorkflowHandle } from "hotmesh"
import { Context } from "hotmesh/activity"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { afterEach, describe, expect, it } from "vitest"
import type { CancelActivities } from "../fixtures/cancellation-workflows.ts"
import * as workflows from "../fixtures/cancellation-workflows.ts"
import { type Deferred, deferred, entriesOf, eventually, historyOf, rejectionOf, unique, useWorkerEnvironment, within } from "../fixtures/e2e-support.ts"

const taskQueue = unique("cancellation")

const cleaned: Array<string> = []
interface Blocked {
  readonly started: Deferred<void>
  readonly release: Deferred<string>
  readonly aborted: Deferred<string>
}
const blocked = new Map<string, Blocked>()
const blockedFor = (workflowId: string): Blocked => {
  let entry = blocked.get(workflowId)
  if (entry === undefined) blocked.set(workflowId, (entry = { started: deferred(), release: deferred(), aborted: deferred() }))
  return entry
}

const activities: CancelActivities = {
  async cleanup(label) {
    cleaned.push(label)
    return `cleaned ${label}`
  },
  async block() {
    const context = Context.current()
    const entry = blockedFor(context.info.workflowId)
    context.cancellationSignal.addEventListener("abort", () => entry.aborted.resolve(String((context.cancellationSignal.reason as Error | undefined)?.message)))
    // Heartbeat while blocked, the way Temporal activities learn about cancellation.
    const beat = setInterval(() => context.heartbeat("waiting"), 10)
    entry.started.resolve()
    try {
      return await Promise.race([entry.release.promise, context.cancelled])
    } finally {
      clearInterval(beat)
    }
  },
}

const setup = useWorkerEnvironment({ taskQueue, workflows, activities })
afterEach(() => {
  // Let every blocked activity finish so that no task stays in flight.
  for (const entry of blocked.values()) entry.release.resolve("released by the test")
  cleaned.length = 0
})

const waitFor = (handle: WorkflowHandle, type: string) =>
  eventually(async () => ((await historyOf(handle)).some((entry) => entry.type === type) ? true : undefined), `a ${type} journal entry`)

describe("handle.cancel()", () => {
  it("cancels the workflow (CANCELLED) when the CancelledFailure propagates", async () => {
    const handle = await setup.env.client.workflow.start(workflows.sleepUntilCancelled, { taskQueue, workflowId: unique("cancel") })
    await waitFor(handle, "TimerStarted")
    await handle.cancel()
    const error = await rejectionOf(handle.result())
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect(error.status).toBe("CANCELLED")
    expect(error.cause).toBeInstanceOf(CancelledFailure)
    expect(isCancellation(error.cause)).toBe(true)
    const description = await handle.describe()
    expect(description.status).toBe("CANCELLED")
    expect(description.closeTime).toBeInstanceOf(Date)
    const kinds = (await historyOf(handle)).map((entry) => entry.type)
    expect(kinds).toEqual(expect.arrayContaining(["CancelRequested", "TimerCancelled", "WorkflowCancelled"]))
    expect(kinds).not.toContain("TimerFired")
  })

  it("lets the workflow catch the cancellation and complete (COMPLETED)", async () => {
    const handle = await setup.env.client.workflow.start(workflows.catchCancellation, { taskQueue, workflowId: unique("catch") })
    await waitFor(handle, "TimerStarted")
    await handle.cancel()
    expect(await handle.result()).toEqual({ caught: true, name: "CancelledFailure", isCancellation: true, causeName: undefined })
    expect((await handle.describe()).status).toBe("COMPLETED")
  })

  it("fails new calls in the cancelled scope at once; runs them in a nonCancellable scope", async () => {
    const handle = await setup.env.client.workflow.start(workflows.cleanupAfterCancel, { taskQueue, workflowId: unique("cleanup"), args: [false] })
    await waitFor(handle, "TimerStarted")
    await handle.cancel()
    expect(await handle.result()).toEqual({
      inRoot: { name: "ActivityFailure", isCancellation: true, causeName: "CancelledFailure" },
      inNonCancellable: "cleaned non-cancellable",
    })
    expect(cleaned).toEqual(["non-cancellable"])
    expect((await handle.describe()).status).toBe("COMPLETED")
  })

  it("ends CANCELLED when the workflow rethrows after its cleanup", async () => {
    const handle = await setup.env.client.workflow.start(workflows.cleanupAfterCancel, { taskQueue, workflowId: unique("cleanup-rethrow"), args: [true] })
    await waitFor(handle, "TimerStarted")
    await handle.cancel()
    const error = await rejectionOf(handle.result())
    expect(error.status).toBe("CANCELLED")
    expect(cleaned).toEqual(["non-cancellable"])
  })

  it("does not reach a nonCancellable scope: its timer still fires", async () => {
    const before = await setup.env.currentTimeMs()
    const handle = await setup.env.client.workflow.start(workflows.nonCancellableSleep, { taskQueue, workflowId: unique("non-cancellable") })
    await waitFor(handle, "TimerStarted")
    await handle.cancel()
    expect(await handle.result()).toBe("finished")
    expect((await handle.describe()).status).toBe("COMPLETED")
    expect((await setup.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(3_600_000)
    expect(entriesOf(await historyOf(handle), "TimerFired")).toHaveLength(1)
  })

  it("fails a pending activity with ActivityFailure(CancelledFailure) and cancels the workflow", async () => {
    const workflowId = unique("cancel-activity")
    const handle = await setup.env.client.workflow.start(workflows.awaitBlockedActivity, { taskQueue, workflowId })
    await within(blockedFor(workflowId).started.promise, 5000, "the activity to start")
    await handle.cancel()
    const error = await rejectionOf(handle.result())
    expect(error.status).toBe("CANCELLED")
    expect(entriesOf(await historyOf(handle), "ActivityCancelRequested")).toHaveLength(1)
  })

  it("cancels a running child when its parent is cancelled", async () => {
    const childId = unique("child")
    const parent = await setup.env.client.workflow.start(workflows.parentOfForever, { taskQueue, workflowId: unique("parent"), args: [childId] })
    await waitFor(parent, "ChildStarted")
    await parent.cancel()
    expect((await rejectionOf(parent.result())).status).toBe("CANCELLED")
    const childError = await rejectionOf(setup.env.client.workflow.getHandle(childId).result())
    expect(childError.status).toBe("CANCELLED")
    expect(isCancellation(childError.cause)).toBe(true)
    expect(entriesOf(await historyOf(parent), "ChildCancelRequested")).toHaveLength(1)
  })

  it("rejects cancel and terminate of a closed workflow with WorkflowNotFoundError", async () => {
    const handle = await setup.env.client.workflow.start(workflows.withTimeoutInTime, { taskQueue, workflowId: unique("closed") })
    await handle.result()
    expect((await rejectionOf(handle.cancel())).name).toBe("WorkflowNotFoundError")
    expect((await rejectionOf(handle.terminate("late"))).name).toBe("WorkflowNotFoundError")
  })
})

describe("cancellation scopes", () => {
  it("cancelling a scope cancels its pending timer", async () => {
    const before = await setup.env.currentTimeMs()
    const handle = await setup.env.client.workflow.start(workflows.cancelScopeWithTimer, { taskQueue, workflowId: unique("scope-timer") })
    expect(await handle.result()).toEqual({ name: "CancelledFailure", isCancellation: true, causeName: undefined })
    expect((await setup.env.currentTimeMs()) - before).toBeLessThan(86_400_000)
    const history = await historyOf(handle)
    const dayTimer = entriesOf(history, "TimerStarted").find((entry) => entry.durationMs === 86_400_000)
    expect(dayTimer).toBeDefined()
    expect(entriesOf(history, "TimerCancelled").map((entry) => entry.seq)).toEqual([dayTimer!.seq])
  })

  it("cancelling a scope fails its pending activity with ActivityFailure(CancelledFailure)", async () => {
    const workflowId = unique("scope-activity")
    const handle = await setup.env.client.workflow.start(workflows.cancelScopeWithActivity, { taskQueue, workflowId })
    await within(blockedFor(workflowId).started.promise, 5000, "the activity to start")
    await handle.signal(workflows.stop)
    expect(await handle.result()).toEqual({ name: "ActivityFailure", isCancellation: true, causeName: "CancelledFailure" })
    expect(entriesOf(await historyOf(handle), "ActivityCancelRequested")).toHaveLength(1)
    expect((await handle.describe()).status).toBe("COMPLETED")
  })

  it("delivers the cancellation to a heartbeating activity: its cancellationSignal aborts", async () => {
    const workflowId = unique("scope-activity-abort")
    const handle = await setup.env.client.workflow.start(workflows.cancelScopeWithActivity, { taskQueue, workflowId })
    await within(blockedFor(workflowId).started.promise, 5000, "the activity to start")
    await handle.signal(workflows.stop)
    await handle.result()
    await within(blockedFor(workflowId).aborted.promise, 3000, "the cancelled activity's cancellationSignal to abort")
  })

  it("withTimeout cancels the scope when its timeout passes", async () => {
    const before = await setup.env.currentTimeMs()
    expect(await setup.env.client.workflow.execute(workflows.withTimeoutExpires, { taskQueue, workflowId: unique("with-timeout") })).toBe("timed out")
    const elapsed = (await setup.env.currentTimeMs()) - before
    expect(elapsed).toBeGreaterThanOrEqual(3_600_000)
    expect(elapsed).toBeLessThan(86_400_000)
  })

  it("withTimeout returns the result of a scope that finishes in time, and cancels its timer", async () => {
    const handle = await setup.env.client.workflow.start(workflows.withTimeoutInTime, { taskQueue, workflowId: unique("in-time") })
    expect(await handle.result()).toBe("in time")
    const history = await historyOf(handle)
    const hourTimer = entriesOf(history, "TimerStarted").find((entry) => entry.durationMs === 3_600_000)
    expect(hourTimer).toBeDefined()
    expect(entriesOf(history, "TimerCancelled").map((entry) => entry.seq)).toEqual([hourTimer!.seq])
  })
})

describe("terminate", () => {
  it("ends the workflow TERMINATED at once, running none of its code", async () => {
    const handle = await setup.env.client.workflow.start(workflows.terminateMe, { taskQueue, workflowId: unique("terminate") })
    await waitFor(handle, "TimerStarted")
    await handle.terminate("operator said so")
    const error = await rejectionOf(handle.result())
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect(error.status).toBe("TERMINATED")
    expect(error.cause.name).toBe("TerminatedFailure")
    expect(error.cause.message).toBe("operator said so")
    const description = await handle.describe()
    expect(description.status).toBe("TERMINATED")
    expect(description.closeTime).toBeInstanceOf(Date)
    expect(description.closeTime!.getTime()).toBeGreaterThanOrEqual(description.startTime.getTime())
    const notes = entriesOf(await historyOf(handle), "WorkflowTerminated")
    expect(notes.map((note) => note.reason)).toEqual(["operator said so"])
    expect(cleaned).toEqual([]) // the finally block did not run
  })

  it("is done when terminate() resolves: describe() says TERMINATED at once (as in Temporal)", async () => {
    const handle = await setup.env.client.workflow.start(workflows.terminateMe, { taskQueue, workflowId: unique("terminate-sync") })
    await handle.terminate("now")
    const description = await handle.describe()
    expect(description.status).toBe("TERMINATED")
    expect(description.closeTime).toBeInstanceOf(Date)
  })

  it("terminates a workflow whose task queue no worker polls", async () => {
    // In an environment of its own: the workflow's messages stay on a queue nobody polls.
    const lonely = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const handle = await lonely.client.workflow.start(workflows.terminateMe, { taskQueue: unique("no-worker"), workflowId: unique("terminate-orphan") })
      await handle.terminate("nobody runs it")
      const error = await within(rejectionOf(handle.result()), 3000, "the terminated workflow's result")
      expect(error.status).toBe("TERMINATED")
    } finally {
      await lonely.teardown()
    }
  })
})
