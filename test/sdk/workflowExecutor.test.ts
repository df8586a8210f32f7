/**
 * The worker's executor: it drives the live run it is handed, or rebuilds
 * the run from the journal; it returns the run to cache only on success.
 */
import { describe, expect, it } from "vitest"
import { completeTask, reduce } from "../../src/core/reduce.ts"
import { initialState } from "../../src/core/state.ts"
import { makeWorkflowExecutor } from "../../src/sdk/internal/workflowExecutor.ts"
import { condition, setHandler, defineSignal, defineQuery } from "hotmesh/workflow"

const go = defineSignal("go")
const count = defineQuery<number>("count")

async function waits(): Promise<void> {
  let signals = 0
  setHandler(go, () => void signals++)
  setHandler(count, () => signals)
  await condition(() => signals >= 2)
}

async function broken(): Promise<void> {
  throw new TypeError("not a function")
}

const run = { workflowId: "w", runId: "r", workflowType: "waits", taskQueue: "q", args: [] }

describe("workflow executor", () => {
  it("drives the live run it is given, and rebuilds the same run from the journal", async () => {
    const executor = makeWorkflowExecutor({ workflows: { waits } })
    const started = reduce(initialState(run, 0), { type: "Start", ...run }, 1).state!
    const first = await executor.activate(started, { journal: [] })
    expect(first.outcome).toEqual({ ok: true, commands: [] })
    expect(first.run).toBeDefined()
    const firstTask = completeTask(started, [], 1)
    const signalled = reduce(firstTask.state!, { type: "Signal", signalId: "s1", name: "go", args: [] }, 2).state!

    // From the live run: no journal needed.
    const live = await executor.activate(signalled, { live: first.run! })
    expect(live.outcome).toEqual({ ok: true, commands: [] })
    expect(live.run).toBe(first.run)
    const afterLive = await executor.query(completeTask(signalled, [], 2).state!, { live: live.run! }, "count", [])
    expect(afterLive.outcome).toEqual({ ok: true, result: "1" })

    // From the journal: a fresh run that has seen the same history.
    const replayed = await executor.activate(signalled, { journal: firstTask.journal })
    expect(replayed.outcome).toEqual({ ok: true, commands: [] })
    expect(replayed.run).not.toBe(first.run)
    const afterReplay = await executor.query(completeTask(signalled, [], 2).state!, { live: replayed.run! }, "count", [])
    expect(afterReplay.outcome).toEqual({ ok: true, result: "1" })
  })

  it("returns no run to cache when the task fails", async () => {
    const executor = makeWorkflowExecutor({ workflows: { broken, waits } })
    const brokenRun = { ...run, workflowType: "broken" }
    const started = reduce(initialState(brokenRun, 0), { type: "Start", ...brokenRun }, 1).state!
    const failed = await executor.activate(started, { journal: [] })
    expect(failed.outcome).toMatchObject({ ok: false, failure: { type: "TypeError", message: "not a function" } })
    expect(failed.run).toBeUndefined()

    const unknown = { ...run, workflowType: "missing" }
    const unknownStarted = reduce(initialState(unknown, 0), { type: "Start", ...unknown }, 1).state!
    const missing = await executor.activate(unknownStarted, { journal: [] })
    expect(missing.outcome).toMatchObject({ ok: false, failure: { type: "UnknownWorkflowTypeError" } })
    expect(missing.run).toBeUndefined()
  })

  it("keeps the run after a query that names no handler (the run is still good)", async () => {
    const executor = makeWorkflowExecutor({ workflows: { waits } })
    const started = reduce(initialState(run, 0), { type: "Start", ...run }, 1).state!
    const first = await executor.activate(started, { journal: [] })
    const state = completeTask(started, [], 1).state!
    const answer = await executor.query(state, { live: first.run! }, "nope", [])
    expect(answer.outcome).toMatchObject({ ok: false, failure: { type: "QueryNotRegisteredError" } })
    expect(answer.run).toBe(first.run)
  })
})
