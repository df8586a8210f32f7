/**
 * Workflow run and execution timeouts in core: the `Start` arms one durable
 * timer at the run's deadline, its firing closes the run as TIMED_OUT (as a
 * terminate does: timers cancelled, children by policy, the parent told), a
 * run that closes first cancels it, and continue-as-new keeps the
 * execution's deadline while the run timeout starts afresh.
 */
import { describe, expect, it } from "vitest"
import { completeTask, reduce } from "../../src/core/reduce.ts"
import { initialState, runDeadline } from "../../src/core/state.ts"
import { cancelTimer, child, PARENT, RUN, running, setTimer, startMessage, T0, T1, toParent } from "./reduceFixtures.ts"

const TIMED_OUT = { kind: "timeout", message: "Workflow execution timed out", timeoutType: "START_TO_CLOSE" } as const
const fire = { type: "TimerFired", runId: "r1", timer: { kind: "workflowTimeout" } } as const

describe("workflow timeouts", () => {
  it("a Start with a run timeout arms the workflowTimeout timer at start + timeout", () => {
    const t = reduce(undefined, startMessage({ runTimeoutMs: 3000 }), T1)
    expect(t.commands).toStrictEqual([setTimer("workflow-timeout", T1 + 3000, { kind: "workflowTimeout" })])
    expect(t.state?.runTimeoutMs).toBe(3000)
  })

  it("the execution timeout fixes the execution's deadline; the earlier deadline wins", () => {
    const state = initialState({ ...RUN, runTimeoutMs: 10_000, executionTimeoutMs: 4000 }, T0)
    expect(state.executionExpiresAt).toBe(T0 + 4000)
    expect(runDeadline(state)).toBe(T0 + 4000)
    expect(runDeadline(initialState({ ...RUN, runTimeoutMs: 1000, executionTimeoutMs: 4000 }, T0))).toBe(T0 + 1000)
    expect(runDeadline(initialState(RUN, T0))).toBeUndefined()
  })

  it("firing closes the run as TIMED_OUT: its timers cancelled, children by policy, the parent told", () => {
    const state = running({ runTimeoutMs: 3000, parent: PARENT, timers: [2], children: { 3: child() } })
    const t = reduce(state, fire, T1)
    expect(t.state?.status).toBe("TIMED_OUT")
    expect(t.state?.failure).toStrictEqual(TIMED_OUT)
    expect(t.closed).toBe(true)
    expect(t.journal).toStrictEqual([{ type: "WorkflowTimedOut", at: T1 }])
    expect(t.commands).toStrictEqual([
      cancelTimer("sleep:2"),
      { type: "SendWorkflow", taskQueue: "cq", key: "kid", message: { type: "Terminate", reason: "parent workflow closed", fromParent: { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 3 } } },
      toParent({ type: "ChildClosed", runId: "pr", seq: 4, status: "TIMED_OUT", failure: TIMED_OUT }),
    ])
  })

  it("the parent sees its child's timeout as a ChildFailed whose cause is the TimeoutFailure", () => {
    const parent = running({ runId: "pr", children: { 4: child({ workflowId: "wf", workflowType: "order", runId: "r1" }) } })
    const t = reduce(parent, { type: "ChildClosed", runId: "pr", seq: 4, status: "TIMED_OUT", failure: TIMED_OUT }, T1)
    expect(t.state?.pendingJobs).toStrictEqual([
      { type: "ChildFailed", at: T1, seq: 4, failure: { kind: "child", message: "Child Workflow execution failed", workflowType: "order", workflowId: "wf", cause: TIMED_OUT } },
    ])
  })

  it("a run that closes first cancels its timeout timer; a late firing changes nothing", () => {
    const state = running({ runTimeoutMs: 3000 })
    const done = completeTask(state, [{ type: "CompleteWorkflow", result: '"ok"' }], T1)
    expect(done.commands).toStrictEqual([cancelTimer("workflow-timeout")])
    expect(reduce(done.state, fire, T1 + 1).state).toBe(done.state)
  })

  it("continue-as-new keeps the execution's deadline and restarts the run timeout", () => {
    const state = running({ runTimeoutMs: 3000, executionTimeoutMs: 8000, executionExpiresAt: T0 + 8000 })
    const t = completeTask(state, [{ type: "ContinueAsNew", runId: "r2", workflowType: "order", taskQueue: "q", args: [] }], T1)
    const start = t.commands.find((command) => command.type === "SendWorkflow")
    expect(start?.type === "SendWorkflow" && start.message).toMatchObject({ type: "Start", runId: "r2", runTimeoutMs: 3000, executionTimeoutMs: 8000, executionExpiresAt: T0 + 8000 })
    expect(t.state?.executionExpiresAt).toBe(T0 + 8000)
    expect(runDeadline(t.state!)).toBe(T0 + 8000) // T1 + 3000 is later
  })
})
