/**
 * Temporal's workflow-id policies on a client's start (`requestStart`) and
 * update-with-start (`requestUpdateWithStart`): which open or closed run a
 * start may use, replace or terminate, each decided in one transition.
 */
import { describe, expect, it } from "vitest"
import { requestStart, requestUpdateWithStart, type StartPolicies } from "../../src/core/reduce.ts"
import type { ExecutionState } from "../../src/core/state.ts"
import { closed, running, T1 } from "./reduceFixtures.ts"

const run = { workflowId: "wf", runId: "r2", workflowType: "order", taskQueue: "q", args: [] }
const record = { version: 3, token: "tk" }
const start = { type: "SendWorkflow", taskQueue: "q", key: "wf", message: { type: "Start", ...run, record: { ...record, startTime: T1 } } }
const update = { updateId: "u1", name: "addItem", args: ['"book"'] }

describe("requestStart with workflow-id policies", () => {
  it("conflict FAIL (the default) refuses while a run is open; USE_EXISTING starts nothing and names the open run", () => {
    const open = running()
    expect(requestStart(open, run, T1, record, { conflict: "FAIL" })).toEqual({ alreadyRunning: open })
    expect(requestStart(open, run, T1, record, { conflict: "USE_EXISTING" })).toEqual({ existing: open })
  })

  it("TERMINATE_EXISTING (and reuse TERMINATE_IF_RUNNING) terminate the open run and start the new one in the same transition", () => {
    const open = running({ timers: [2] })
    for (const policies of [{ conflict: "TERMINATE_EXISTING" }, { reuse: "TERMINATE_IF_RUNNING" }] satisfies Array<StartPolicies>) {
      const t = requestStart(open, run, T1, record, policies)
      if (!("journal" in t)) throw new Error("expected a transition")
      expect(t.state).toMatchObject({ runId: "r2", status: "RUNNING", started: false })
      expect(t.journalRunId).toBe("r1") // the note goes to the terminated run's journal
      expect(t.journal).toEqual([{ type: "WorkflowTerminated", at: T1, reason: expect.stringContaining("TERMINATE_EXISTING") }])
      expect(t.commands).toEqual([{ type: "CancelTimer", id: "wf:r1:sleep:2" }, start])
      expect(t.closed).toBe(true) // wakes the terminated run's result waiters
    }
  })

  it("reuse policies decide over a closed run: ALLOW_DUPLICATE always, FAILED_ONLY unless it completed, REJECT_DUPLICATE never", () => {
    const completed = closed()
    const failed = closed({ status: "FAILED", failure: { kind: "application", message: "x" } })
    const starts = (state: ExecutionState | undefined, policies: StartPolicies) => "journal" in requestStart(state, run, T1, record, policies)
    expect(starts(completed, {})).toBe(true)
    expect(starts(completed, { reuse: "ALLOW_DUPLICATE" })).toBe(true)
    expect(starts(completed, { reuse: "ALLOW_DUPLICATE_FAILED_ONLY" })).toBe(false)
    expect(starts(failed, { reuse: "ALLOW_DUPLICATE_FAILED_ONLY" })).toBe(true)
    expect(requestStart(failed, run, T1, record, { reuse: "REJECT_DUPLICATE" })).toEqual({ reuseRejected: failed })
    expect(starts(undefined, { reuse: "REJECT_DUPLICATE" })).toBe(true) // a new id
  })
})

describe("requestUpdateWithStart", () => {
  it("no run: starts one with the update (fenced to it) right behind its Start", () => {
    const outcome = requestUpdateWithStart(undefined, run, update, T1, record, { conflict: "USE_EXISTING" })
    if (!("transition" in outcome)) throw new Error("expected a transition")
    expect(outcome.updatedRunId).toBe("r2")
    expect(outcome.transition.commands).toEqual([start, { type: "SendWorkflow", taskQueue: "q", key: "wf", message: { type: "Update", runId: "r2", ...update } }])
  })

  it("an open run with USE_EXISTING: the update only, to that run, the state untouched", () => {
    const open = running()
    const outcome = requestUpdateWithStart(open, run, update, T1, record, { conflict: "USE_EXISTING" })
    if (!("transition" in outcome)) throw new Error("expected a transition")
    expect(outcome.updatedRunId).toBe("r1")
    expect(outcome.transition.state).toBe(open)
    expect(outcome.transition.commands).toEqual([{ type: "SendWorkflow", taskQueue: "q", key: "wf", message: { type: "Update", runId: "r1", ...update } }])
  })

  it("an open run with FAIL, or a closed one its reuse policy keeps: refused, nothing sent", () => {
    const open = running()
    expect(requestUpdateWithStart(open, run, update, T1, record, { conflict: "FAIL" })).toEqual({ alreadyRunning: open })
    const done = closed()
    expect(requestUpdateWithStart(done, run, update, T1, record, { conflict: "USE_EXISTING", reuse: "REJECT_DUPLICATE" })).toEqual({ reuseRejected: done })
  })
})
