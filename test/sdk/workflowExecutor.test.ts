/**
 * The worker's executor: live runs cached by state version, replay on a miss,
 * and a clear request for the journal when a run was evicted between the
 * interpreter's `needsJournal` check and the activation.
 */
import { describe, expect, it } from "vitest"
import { completeTask, reduce } from "../../src/core/reduce.ts"
import { initialState } from "../../src/core/state.ts"
import { JOURNAL_REQUIRED } from "../../src/effects/executors.ts"
import { makeWorkflowExecutor } from "../../src/sdk/internal/workflowExecutor.ts"
import { condition } from "hotmesh/workflow"

async function waits(): Promise<void> {
  await condition(() => false)
}

const run = { workflowId: "w", runId: "r", workflowType: "waits", taskQueue: "q", args: [] }

describe("workflow executor", () => {
  it("uses the cached run for the version it committed, and asks for the journal once it is evicted", async () => {
    const executor = makeWorkflowExecutor({ workflows: { waits }, maxCachedWorkflows: 10 })
    const started = reduce(initialState(run, 0), { type: "Start", ...run }, 1).state!
    const first = await executor.activate(started, 1, [])
    expect(first).toEqual({ ok: true, commands: [] })
    const afterFirst = completeTask(started, [], 1).state!
    executor.committed(afterFirst, 1, 2)
    // A signal arrives: the cached run serves version 2 without the journal.
    const signalled = reduce(afterFirst, { type: "Signal", signalId: "s1", name: "x", args: [] }, 2).state!
    expect(executor.needsJournal(signalled, 2)).toBe(false)
    // ... but is evicted before the activation (another workflow's commit, LRU).
    executor.evict("w")
    const outcome = await executor.activate(signalled, 2, undefined)
    expect(outcome).toMatchObject({ ok: false, failure: { type: JOURNAL_REQUIRED } })
    // With the journal it replays and goes on.
    const journal = completeTask(started, [], 1).journal
    expect(await executor.activate(signalled, 2, journal)).toEqual({ ok: true, commands: [] })
  })

  it("does not use a cached run for another version (another worker moved the workflow on)", async () => {
    const executor = makeWorkflowExecutor({ workflows: { waits }, maxCachedWorkflows: 10 })
    const started = reduce(initialState(run, 0), { type: "Start", ...run }, 1).state!
    await executor.activate(started, 1, [])
    const committed = completeTask(started, [], 1).state!
    executor.committed(committed, 1, 2)
    expect(executor.needsJournal(committed, 2)).toBe(false)
    expect(executor.needsJournal(committed, 3)).toBe(true)
  })
})
