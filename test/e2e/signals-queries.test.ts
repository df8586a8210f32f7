/**
 * Signals, queries, conditions and the test environment's clock, end to end.
 */
import { Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { describe, expect, it } from "vitest"
import { entriesOf, historyOf, rejectionOf, unique, within, eventually, useWorkerEnvironment } from "../fixtures/e2e-support.ts"
import * as workflows from "../fixtures/signal-workflows.ts"

const taskQueue = unique("signals")
const setup = useWorkerEnvironment({ taskQueue, workflows })

/** Wait until the workflow's journal records that it started a timer. */
const timerStarted = (handle: Parameters<typeof historyOf>[0]) =>
  eventually(async () => ((await historyOf(handle)).some((entry) => entry.type === "TimerStarted") ? true : undefined), "a timer to start")

describe("signals", () => {
  it("keeps a signal sent before any worker runs the workflow", async () => {
    const queue = unique("signals-late-worker")
    const handle = await setup.env.client.workflow.start(workflows.waitForApproval, { taskQueue: queue, workflowId: unique("early") })
    await handle.signal(workflows.approve, "early bird")
    expect((await handle.describe()).historyLength).toBe(0) // nothing has run yet
    const late = await Worker.create({ connection: setup.env.connection, taskQueue: queue, workflows })
    const result = await late.runUntil(handle.result())
    expect(result).toBe("approved by early bird (condition returned undefined)")
  })

  it("keeps signals sent before the workflow sets their handler, in order", async () => {
    const handle = await setup.env.client.workflow.start(workflows.lateHandler, { taskQueue, workflowId: unique("late-handler") })
    await timerStarted(handle) // the workflow is sleeping; its handler is not set yet
    await handle.signal(workflows.approve, "first")
    await handle.signal(workflows.approve, "second")
    expect(await handle.result()).toEqual(["first", "second"])
    const kinds = (await historyOf(handle)).map((entry) => entry.type)
    expect(kinds.indexOf("SignalReceived")).toBeLessThan(kinds.indexOf("TimerFired"))
  })

  it("delivers signal arguments and answers queries with arguments from current state", async () => {
    const handle = await setup.env.client.workflow.start(workflows.collector, { taskQueue, workflowId: unique("collector") })
    await handle.signal(workflows.add, 1, "one")
    await handle.signal(workflows.add, 2, "two")
    expect(await handle.query(workflows.itemsQuery, "#")).toEqual(["#1:one", "#2:two"])
    await handle.signal("add", 3, "three") // by name
    expect(await handle.query<Array<string>, [string]>("items", "")).toEqual(["1:one", "2:two", "3:three"])
    await handle.signal(workflows.finish)
    expect(await handle.result()).toEqual(["1:one", "2:two", "3:three"])
    // queries still work on the closed workflow
    expect(await handle.query(workflows.itemsQuery, ">")).toEqual([">1:one", ">2:two", ">3:three"])
  })

  it("ignores a signal the workflow has no handler for", async () => {
    const handle = await setup.env.client.workflow.start(workflows.collector, { taskQueue, workflowId: unique("collector") })
    await handle.signal("nobody-listens", 42)
    await handle.signal(workflows.add, 1, "one")
    await handle.signal(workflows.finish)
    expect(await handle.result()).toEqual(["1:one"])
    expect((await handle.describe()).status).toBe("COMPLETED")
  })

  it("fails the workflow when a signal handler throws an ApplicationFailure", async () => {
    const handle = await setup.env.client.workflow.start(workflows.failingHandler, { taskQueue, workflowId: unique("bad-handler") })
    await handle.signal(workflows.explode, "on purpose")
    const error = await rejectionOf(handle.result())
    expect(error.status).toBe("FAILED")
    expect(error.cause.name).toBe("ApplicationFailure")
    expect(error.cause.type).toBe("HandlerFailed")
    expect(error.cause.message).toBe("handler failed: on purpose")
  })

  it("rejects a signal to a completed workflow with WorkflowNotFoundError", async () => {
    const handle = await setup.env.client.workflow.start(workflows.waitForApproval, { taskQueue, workflowId: unique("done") })
    await handle.signal(workflows.approve, "x")
    await handle.result()
    const error = await rejectionOf(handle.signal(workflows.approve, "too late"))
    expect(error.name).toBe("WorkflowNotFoundError")
    expect(error.workflowId).toBe(handle.workflowId)
  })

  it("rejects a signal to a workflow that does not exist with WorkflowNotFoundError", async () => {
    const error = await rejectionOf(setup.env.client.workflow.getHandle(unique("nobody")).signal(workflows.approve, "x"))
    expect(error.name).toBe("WorkflowNotFoundError")
  })
})

describe("queries", () => {
  it("answers a query by definition and by name", async () => {
    const handle = await setup.env.client.workflow.start(workflows.waitForApproval, { taskQueue, workflowId: unique("status") })
    expect(await handle.query(workflows.status)).toBe("waiting")
    expect(await handle.query<string>("status")).toBe("waiting")
    await handle.signal(workflows.approve, "q")
    await handle.result()
    expect(await handle.query(workflows.status)).toBe("approved")
  })

  it("rejects an unknown query with QueryNotRegisteredError naming it and the known ones", async () => {
    const handle = await setup.env.client.workflow.start(workflows.waitForApproval, { taskQueue, workflowId: unique("unknown-query") })
    const error = await rejectionOf(handle.query("nope"))
    expect(error.name).toBe("QueryNotRegisteredError")
    expect(error.queryName).toBe("nope")
    expect(error.message).toContain("nope")
    expect(error.message).toContain("status")
    // the workflow is unharmed
    await handle.signal(workflows.approve, "after")
    expect(await handle.result()).toContain("approved by after")
  })

  it("rejects with QueryFailedError when the query handler throws", async () => {
    const handle = await setup.env.client.workflow.start(workflows.collector, { taskQueue, workflowId: unique("broken-query") })
    const error = await rejectionOf(handle.query(workflows.broken))
    expect(error.name).toBe("QueryFailedError")
    expect(error.message).toContain("query handler broke")
    await handle.signal(workflows.finish)
    expect(await handle.result()).toEqual([])
  })

  it("rejects a query to a workflow that does not exist with WorkflowNotFoundError", async () => {
    const error = await rejectionOf(setup.env.client.workflow.getHandle(unique("nobody")).query(workflows.status))
    expect(error.name).toBe("WorkflowNotFoundError")
  })

  it("fails a query that no worker answers with QueryFailedError instead of hanging", { timeout: 20_000 }, async () => {
    // In an environment of its own: the unanswered messages stay on a queue nobody polls.
    const lonely = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const handle = await lonely.client.workflow.start(workflows.waitForApproval, { taskQueue: unique("no-worker"), workflowId: unique("unanswered") })
      const error = await within(rejectionOf(handle.query(workflows.status)), 12_000, "the query to give up (its timeout is 10 s)")
      expect(error.name).toBe("QueryFailedError")
    } finally {
      await lonely.teardown()
    }
  })

  it("a workflow waiting on a queue no worker polls does not stop time for other workflows", { timeout: 10_000 }, async () => {
    const stalled = await setup.env.client.workflow.start(workflows.waitForApproval, { taskQueue: unique("nobody-polls"), workflowId: unique("stalled") })
    try {
      const before = await setup.env.currentTimeMs()
      const result = setup.env.client.workflow.execute(workflows.sleepFor, { taskQueue, workflowId: unique("elsewhere"), args: ["1 day"] })
      expect(await within(result, 5000, "a 1-day sleep on the virtual clock")).toBe("woke")
      expect((await setup.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(86_400_000)
    } finally {
      // Start a worker for the stalled queue so that its messages are consumed and the env is usable again.
      const rescue = await Worker.create({ connection: setup.env.connection, taskQueue: (await stalled.describe()).taskQueue, workflows })
      await rescue.runUntil(async () => {
        await stalled.signal(workflows.approve, "rescue")
        await stalled.result()
      })
    }
  })
})

describe("conditions and time", () => {
  it("condition with a timeout resolves false once the timeout passes on the virtual clock", async () => {
    const before = await setup.env.currentTimeMs()
    expect(await setup.env.client.workflow.execute(workflows.approvalWithTimeout, { taskQueue, workflowId: unique("cond-timeout"), args: ["1 hour"] })).toBe(false)
    expect((await setup.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(3_600_000)
  })

  it("condition with a timeout resolves true when it holds in time, and cancels its timer", async () => {
    const before = await setup.env.currentTimeMs()
    const handle = await setup.env.client.workflow.start(workflows.approvalWithTimeout, { taskQueue, workflowId: unique("cond-ok"), args: ["1 hour"] })
    await timerStarted(handle)
    await handle.signal(workflows.approve, "in time")
    expect(await handle.result()).toBe(true)
    expect((await setup.env.currentTimeMs()) - before).toBeLessThan(3_600_000)
    const history = await historyOf(handle)
    expect(entriesOf(history, "TimerCancelled").map((entry) => entry.seq)).toEqual(entriesOf(history, "TimerStarted").map((entry) => entry.seq))
    expect(entriesOf(history, "TimerFired")).toEqual([])
  })

  it("condition with a timeout whose predicate already holds returns true without a timer", async () => {
    const handle = await setup.env.client.workflow.start(workflows.alreadyTrue, { taskQueue, workflowId: unique("cond-true") })
    expect(await handle.result()).toBe(true)
    expect(entriesOf(await historyOf(handle), "TimerStarted")).toEqual([])
  })

  it("setup.env.sleep moves virtual time and fires the timers it passes, no further", async () => {
    const handle = await setup.env.client.workflow.start(workflows.sleepFor, { taskQueue, workflowId: unique("env-sleep"), args: ["1 day"] })
    await timerStarted(handle)
    const started = await setup.env.currentTimeMs()
    await setup.env.sleep("23 hours")
    expect((await setup.env.currentTimeMs()) - started).toBe(23 * 3_600_000)
    expect((await handle.describe()).status).toBe("RUNNING")
    await setup.env.sleep("1 hour")
    const description = await handle.describe()
    expect(description.status).toBe("COMPLETED")
    expect((await setup.env.currentTimeMs()) - started).toBe(24 * 3_600_000)
    const fired = entriesOf(await historyOf(handle), "TimerFired")
    expect(fired).toHaveLength(1)
    expect(fired[0]!.at - entriesOf(await historyOf(handle), "TimerStarted")[0]!.at).toBe(86_400_000)
    expect(await handle.result()).toBe("woke")
  })
})
