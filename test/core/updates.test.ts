/**
 * Workflow updates in core: an `Update` message becomes an `UpdateRequested`
 * job (deduped by update id, fenced by run); `completeTask` journals an
 * accepted update's job and its `UpdateAccepted`/`UpdateCompleted`
 * commands, keeps the outcome in the state for the waiting client, and
 * leaves a rejected update out of the journal altogether.
 */
import { describe, expect, it } from "vitest"
import type { FailureInfo } from "../../src/core/failure.ts"
import type { Job } from "../../src/core/journal.ts"
import type { WorkflowMessage } from "../../src/core/messages.ts"
import { completeTask, reduce, UPDATE_OUTCOME_WINDOW } from "../../src/core/reduce.ts"
import { initialState, type UpdateState } from "../../src/core/state.ts"
import { closed, earlierJob, expectUnchanged, RUN, running, T0, T1 } from "./reduceFixtures.ts"

const update = (patch: Partial<Extract<WorkflowMessage, { type: "Update" }>> = {}): WorkflowMessage => ({
  type: "Update", runId: "r1", updateId: "u1", name: "addItem", args: ['"book"'], ...patch,
})
const requested: Job = { type: "UpdateRequested", at: T1, updateId: "u1", name: "addItem", args: ['"book"'] }
const admitted: UpdateState = { id: "u1", name: "addItem", stage: "ADMITTED" }
const invalid: FailureInfo = { kind: "application", type: "Error", message: "empty item" }

describe("Update", () => {
  it("becomes an UpdateRequested job, admitted in the state, and asks for an activation", () => {
    const t = reduce(running(), update(), T1)
    expect(t.state?.pendingJobs).toStrictEqual([requested])
    expect(t.state?.updates).toStrictEqual([admitted])
    expect(t.activate).toBe(true)
    expect(t.journal).toStrictEqual([]) // journaled by completeTask, once accepted
  })

  it("drops a second update with a known id, whatever its stage (dedupe)", () => {
    for (const stage of ["ADMITTED", "ACCEPTED", "COMPLETED"] as const) {
      const state = running({ updates: [{ ...admitted, stage }] })
      expectUnchanged(reduce(state, update({ args: ['"other"'] }), T1), state)
    }
  })

  it("is ignored by a closed run and by another run of the workflow id", () => {
    const done = closed()
    expectUnchanged(reduce(done, update(), T1), done)
    const open = running()
    expectUnchanged(reduce(open, update({ runId: "r0" }), T1), open)
  })

  it("waits for the Start of a run that has not started", () => {
    const t = reduce(initialState(RUN, T0), update(), T1)
    expect(t.activate).toBe(false)
    expect(t.state?.pendingJobs).toStrictEqual([requested])
  })
})

describe("completeTask with updates", () => {
  it("journals an accepted update's job and UpdateAccepted; the outcome follows in a later task", () => {
    const accepted = completeTask(running({ pendingJobs: [requested], updates: [admitted] }), [{ type: "AcceptUpdate", updateId: "u1", name: "addItem" }], T1)
    expect(accepted.journal).toStrictEqual([
      { ...requested, task: 2 },
      { type: "UpdateAccepted", at: T1, updateId: "u1", name: "addItem" },
    ])
    expect(accepted.state?.updates).toStrictEqual([{ ...admitted, stage: "ACCEPTED" }])
    const activityDone: Job = { type: "ActivityCompleted", at: T1 + 1, seq: 1, result: "1" }
    const completed = completeTask({ ...accepted.state!, pendingJobs: [activityDone] }, [{ type: "CompleteUpdate", updateId: "u1", result: "1" }], T1 + 1)
    expect(completed.journal).toStrictEqual([{ ...activityDone, task: 3 }, { type: "UpdateCompleted", at: T1 + 1, updateId: "u1", result: "1" }])
    expect(completed.state?.updates).toStrictEqual([{ ...admitted, stage: "COMPLETED", result: "1" }])
  })

  it("keeps a handler's failure as the update's outcome", () => {
    const t = completeTask(running({ updates: [{ ...admitted, stage: "ACCEPTED" }], pendingJobs: [earlierJob] }), [{ type: "CompleteUpdate", updateId: "u1", failure: invalid }], T1)
    expect(t.state?.updates).toStrictEqual([{ ...admitted, stage: "COMPLETED", failure: invalid }])
    expect(t.journal.at(-1)).toStrictEqual({ type: "UpdateCompleted", at: T1, updateId: "u1", failure: invalid })
  })

  it("leaves a rejected update out of the journal: neither its job nor the rejection, only the outcome in the state", () => {
    const t = completeTask(running({ pendingJobs: [earlierJob, requested], updates: [admitted] }), [{ type: "RejectUpdate", updateId: "u1", failure: invalid }], T1)
    expect(t.journal).toStrictEqual([{ ...earlierJob, task: 2 }])
    expect(t.state?.journalLength).toBe(2)
    expect(t.state?.updates).toStrictEqual([{ ...admitted, stage: "COMPLETED", rejected: true, failure: invalid }])
    expect(t.state?.pendingJobs).toStrictEqual([])
  })

  it(`keeps open updates and the last ${UPDATE_OUTCOME_WINDOW} completed ones`, () => {
    const done = Array.from({ length: UPDATE_OUTCOME_WINDOW }, (_, i): UpdateState => ({ id: `d${i}`, name: "addItem", stage: "COMPLETED", result: String(i) }))
    const open: UpdateState = { id: "open", name: "addItem", stage: "ACCEPTED" }
    const t = completeTask(running({ updates: [...done, open, admitted], pendingJobs: [earlierJob] }), [{ type: "CompleteUpdate", updateId: "u1", result: "9" }], T1)
    expect(t.state?.updates?.map((u) => u.id)).toStrictEqual([...done.slice(1).map((u) => u.id), "open", "u1"])
  })
})
