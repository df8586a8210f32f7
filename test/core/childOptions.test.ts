/**
 * Child-workflow options in the reducer: a child `Start`'s reuse policy
 * (one admission decision with client starts), a cron child's chain that
 * tells its parent only of its end, and the acknowledgement a parent asks
 * for when it cancels a child as `WAIT_CANCELLATION_REQUESTED`.
 */
import { describe, expect, it } from "vitest"
import type { WorkflowMessage } from "../../src/core/messages.ts"
import { completeTask, reduce } from "../../src/core/reduce.ts"
import { child, closed, expectUnchanged, PARENT, running, startMessage, T0, T1, toParent } from "./reduceFixtures.ts"

const alreadyStarted = toParent({
  type: "ChildStartFailed",
  runId: PARENT.runId,
  seq: PARENT.seq,
  failure: { kind: "application", type: "WorkflowExecutionAlreadyStartedError", message: "Workflow execution already started: wf", nonRetryable: true },
})
const childStart = (patch: Partial<Extract<WorkflowMessage, { type: "Start" }>> = {}) => startMessage({ runId: "r2", parent: PARENT, ...patch })

describe("a child Start meets another run of its workflow id", () => {
  it("an open run: refused (conflict FAIL, as in Temporal), whatever the reuse policy but TERMINATE_IF_RUNNING", () => {
    const open = running()
    for (const workflowIdReusePolicy of [undefined, "ALLOW_DUPLICATE", "REJECT_DUPLICATE"] as const) {
      const t = reduce(open, childStart(workflowIdReusePolicy === undefined ? {} : { workflowIdReusePolicy }), T1)
      expect(t.state).toBe(open)
      expect(t.commands).toEqual([alreadyStarted])
    }
  })

  it("TERMINATE_IF_RUNNING: this step terminates the open run and sends the Start again behind it, which then starts the child", () => {
    const message = childStart({ workflowIdReusePolicy: "TERMINATE_IF_RUNNING" })
    const t = reduce(running(), message, T1)
    expect(t.state).toMatchObject({ runId: "r1", status: "TERMINATED" })
    expect(t.journal).toEqual([{ type: "WorkflowTerminated", at: T1, reason: expect.stringContaining("TERMINATE_EXISTING") }])
    expect(t.commands.at(-1)).toEqual({ type: "SendWorkflow", taskQueue: "q", key: "wf", message })
    const again = reduce(t.state, message, T1 + 1)
    expect(again.state).toMatchObject({ runId: "r2", status: "RUNNING", started: true, parent: PARENT })
    expect(again.commands).toContainEqual(toParent({ type: "ChildStarted", runId: PARENT.runId, seq: PARENT.seq, childRunId: "r2" }))
  })

  it("a closed run: REJECT_DUPLICATE refuses, FAILED_ONLY refuses after a completion only, the default starts", () => {
    const completed = closed()
    const failed = closed({ status: "FAILED", failure: { kind: "application", message: "x" } })
    expect(reduce(completed, childStart({ workflowIdReusePolicy: "REJECT_DUPLICATE" }), T1).commands).toEqual([alreadyStarted])
    expect(reduce(completed, childStart({ workflowIdReusePolicy: "ALLOW_DUPLICATE_FAILED_ONLY" }), T1).commands).toEqual([alreadyStarted])
    expect(reduce(failed, childStart({ workflowIdReusePolicy: "ALLOW_DUPLICATE_FAILED_ONLY" }), T1).state).toMatchObject({ runId: "r2", status: "RUNNING" })
    expect(reduce(completed, childStart(), T1).state).toMatchObject({ runId: "r2", status: "RUNNING" })
  })
})

describe("a cron child", () => {
  const cronChild = (patch = {}) => running({ parent: PARENT, cronSchedule: "*/10 * * * *", ...patch })

  it("a run that completes starts the next run (same parent) and does not tell the parent", () => {
    const t = completeTask(cronChild(), [{ type: "CompleteWorkflow", result: '"ok"' }], T1)
    expect(t.commands.some((command) => command.type === "SendWorkflow" && command.message.type === "ChildClosed")).toBe(false)
    expect(t.state).toMatchObject({ status: "RUNNING", started: false, parent: PARENT, cronSchedule: "*/10 * * * *" })
    expect(t.state!.runId).not.toBe("r1")
  })

  it("cancelled or terminated, the chain ends and the parent hears of it", () => {
    const t = reduce(cronChild(), { type: "Terminate", reason: "enough", fromParent: PARENT }, T1)
    expect(t.state).toMatchObject({ runId: "r1", status: "TERMINATED" })
    expect(t.commands).toContainEqual(toParent({ type: "ChildClosed", runId: PARENT.runId, seq: PARENT.seq, status: "TERMINATED", failure: { kind: "terminated", message: "enough" } }))
  })

  it("its execution timing out ends the chain (the timeout spans the runs) and the parent hears of it", () => {
    const expiring = cronChild({ executionTimeoutMs: 5000, executionExpiresAt: T1 })
    const t = reduce(expiring, { type: "TimerFired", runId: "r1", timer: { kind: "workflowTimeout" } }, T1)
    expect(t.state).toMatchObject({ runId: "r1", status: "TIMED_OUT" })
    expect(t.commands).toContainEqual(expect.objectContaining({ message: expect.objectContaining({ type: "ChildClosed", status: "TIMED_OUT" }) }))
  })

  it("a run waiting for its schedule time is cancelled at once, its deadline armed while it waits", () => {
    const waiting = reduce(undefined, startMessage({ parent: PARENT, cronSchedule: "*/10 * * * *", executionTimeoutMs: 60_000 }), T0)
    expect(waiting.commands).toContainEqual(expect.objectContaining({ type: "SetTimer", id: "wf:r1:workflow-timeout", fireAt: T0 + 60_000 }))
    const t = reduce(waiting.state, { type: "CancelRequested", reason: "stop", fromParent: PARENT }, T1)
    expect(t.state).toMatchObject({ status: "CANCELLED" })
    expect(t.commands).toContainEqual(expect.objectContaining({ message: expect.objectContaining({ type: "ChildClosed", status: "CANCELLED" }) }))
  })
})

describe("cancellation a parent waits to see recorded (WAIT_CANCELLATION_REQUESTED)", () => {
  const delivered = toParent({ type: "ChildCancelDelivered", runId: PARENT.runId, seq: PARENT.seq })

  it("the child records the request and answers in the same step, and answers a redelivery again", () => {
    const request: WorkflowMessage = { type: "CancelRequested", reason: "parent cancelled the child", fromParent: PARENT, acknowledge: true }
    const t = reduce(running({ parent: PARENT }), request, T1)
    expect(t.state).toMatchObject({ cancelRequested: true })
    expect(t.commands).toEqual([delivered])
    expect(reduce(t.state, request, T1 + 1).commands).toEqual([delivered])
    // Without `acknowledge` (TRY_CANCEL, WAIT_CANCELLATION_COMPLETED) nothing is sent back.
    expect(reduce(running({ parent: PARENT }), { ...request, acknowledge: false }, T1).commands).toEqual([])
  })

  it("the parent turns the answer into a job once, for a child it asked to cancel", () => {
    const parent = running({ children: { 3: child({ started: true, cancelRequested: true }) } })
    const t = reduce(parent, { type: "ChildCancelDelivered", runId: "r1", seq: 3 }, T1)
    expect(t.state!.pendingJobs).toEqual([{ type: "ChildCancelDelivered", at: T1, seq: 3 }])
    expect(t.activate).toBe(true)
    expectUnchanged(reduce(t.state, { type: "ChildCancelDelivered", runId: "r1", seq: 3 }, T1 + 1), t.state)
    const notAsked = running({ children: { 3: child({ started: true }) } })
    expectUnchanged(reduce(notAsked, { type: "ChildCancelDelivered", runId: "r1", seq: 3 }, T1), notAsked)
  })

  it("the RequestCancelChild command asks for the answer", () => {
    const parent = running({ children: { 3: child({ started: true }) } })
    const t = completeTask(parent, [{ type: "RequestCancelChild", seq: 3, acknowledge: true }], T1)
    expect(t.commands).toContainEqual({
      type: "SendWorkflow",
      taskQueue: "cq",
      key: "kid",
      message: { type: "CancelRequested", reason: "parent cancelled the child", fromParent: { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 }, acknowledge: true },
    })
  })
})

describe("a start delay (startDelay)", () => {
  it("the code starts after the delay, or at the first signal (its run timeout counting from then)", () => {
    const waiting = reduce(undefined, startMessage({ startDelayMs: 60_000, runTimeoutMs: 1000 }), T0)
    expect(waiting.state).toMatchObject({ started: false, cronStartAt: T0 + 60_000 })
    expect(waiting.activate).toBe(false)
    expect(waiting.commands).toContainEqual(expect.objectContaining({ type: "SetTimer", id: "wf:r1:cron-start", fireAt: T0 + 60_000 }))
    const signalled = reduce(waiting.state, { type: "Signal", signalId: "s1", name: "go", args: [] }, T1)
    expect(signalled.state).toMatchObject({ started: true, cronStartAt: T1 })
    expect(signalled.activate).toBe(true)
    expect(signalled.commands).toEqual([
      { type: "CancelTimer", id: "wf:r1:cron-start" },
      expect.objectContaining({ type: "SetTimer", id: "wf:r1:workflow-timeout", fireAt: T1 + 1000 }),
    ])
  })

  it("a cron run's schedule time holds against a signal", () => {
    const waiting = reduce(undefined, startMessage({ cronSchedule: "*/10 * * * *" }), T0)
    const signalled = reduce(waiting.state, { type: "Signal", signalId: "s1", name: "go", args: [] }, T1)
    expect(signalled.state).toMatchObject({ started: false })
    expect(signalled.activate).toBe(false)
  })
})
