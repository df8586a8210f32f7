/**
 * Determinism you can prove: replay checks on a changed workflow, versioning
 * with patched(), continueAsNew, deterministic time and randomness, and
 * history replay without a store.
 */
import { DeterminismViolationError, Worker, type WorkflowHandle } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  deprecatePatch,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from "hotmesh/workflow"
import { afterEach, beforeEach, describe, expect, it } from "vitest"

const calls: Array<string> = []
const activities = {
  async step(name: string): Promise<string> {
    calls.push(name)
    return name
  },
  async other(name: string): Promise<string> {
    calls.push(name)
    return name
  },
}
const { step, other } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })
const go = defineSignal("go")

/** v1: a, wait for "go", c. */
async function v1(): Promise<string> {
  let released = false
  setHandler(go, () => void (released = true))
  const a = await step("a")
  await condition(() => released)
  return `${a}+${await step("c")}`
}
/** v2 (incompatible): calls activity `other` where v1 called `step`. */
async function v2(): Promise<string> {
  let released = false
  setHandler(go, () => void (released = true))
  const b = await other("b")
  await condition(() => released)
  return `${b}+${await step("c")}`
}
/** v3 (compatible): the same change, guarded by patched(). */
async function v3(): Promise<string> {
  let released = false
  setHandler(go, () => void (released = true))
  const first = patched("use-b") ? await other("b") : await step("a")
  await condition(() => released)
  return `${first}+${await step("c")}`
}

let env: TestWorkflowEnvironment
beforeEach(async () => {
  calls.length = 0
  env = await TestWorkflowEnvironment.createTimeSkipping()
})
afterEach(async () => {
  await env.teardown()
})

const withWorker = async <T>(workflows: Record<string, unknown>, fn: () => Promise<T>): Promise<T> => {
  const worker = await Worker.create({ connection: env.connection, taskQueue: "det", workflows, activities })
  return worker.runUntil(fn)
}

/** Start `wf` under `code` and return once it is waiting for the "go" signal. */
const startAndPark = async (code: Record<string, unknown>): Promise<WorkflowHandle> => {
  const handle = await env.client.workflow.start("wf", { taskQueue: "det", workflowId: "wf-1" })
  await withWorker(code, async () => {
    // The journal shows the first activity completed and the code blocked on the condition.
    for (;;) {
      const history = await handle.fetchHistory()
      if (history.events.some((e) => e.type === "ActivityCompleted")) return
      await env.sleep(1)
    }
  })
  return handle
}

describe("replay checks", () => {
  it("a workflow whose code changed incompatibly is held with a DeterminismViolationError, then finishes on fixed code", async () => {
    const handle = await startAndPark({ wf: v1 })
    await handle.signal(go)
    // A new worker with incompatible code: its cache is empty, so it replays the journal and sees "b" where "a" was recorded.
    await withWorker({ wf: v2 }, async () => {
      for (;;) {
        const description = await handle.describe()
        if (description.taskFailure !== undefined) {
          expect(description.status).toBe("RUNNING")
          expect(description.taskFailure.type).toBe("DeterminismViolationError")
          expect(description.taskFailure.message).toContain(
            "the journal records activity step (seq 1) but the code made activity other (seq 1)",
          )
          return
        }
        await env.sleep(1)
      }
    })
    expect(calls).toEqual(["a"]) // v2 never ran an activity
    // Deploying code that agrees with the journal lets the same execution finish.
    const result = await withWorker({ wf: v1 }, () => handle.result())
    expect(result).toBe("a+c")
  })

  it("patched() keeps old executions on the old path and sends new ones down the new path", async () => {
    const old = await startAndPark({ wf: v1 })
    await old.signal(go)
    const fresh = await withWorker({ wf: v3 }, async () => {
      expect(await old.result()).toBe("a+c")
      const handle = await env.client.workflow.start("wf", { taskQueue: "det", workflowId: "wf-2" })
      await handle.signal(go)
      return handle.result()
    })
    expect(fresh).toBe("b+c")
    expect(calls).toEqual(["a", "c", "b", "c"])
  })

  it("runReplayHistory accepts the code that made a history and rejects a reordering", async () => {
    const handle = await startAndPark({ wf: v1 })
    await handle.signal(go)
    await withWorker({ wf: v1 }, () => handle.result())
    const history = JSON.parse(JSON.stringify(await handle.fetchHistory()))
    await expect(Worker.runReplayHistory({ workflows: { wf: v1 } }, history)).resolves.toBeUndefined()
    await expect(Worker.runReplayHistory({ workflows: { wf: v3 } }, history)).resolves.toBeUndefined()
    const error = await Worker.runReplayHistory({ workflows: { wf: v2 } }, history).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeterminismViolationError)
    expect((error as Error).message).toContain("seq 1")
    const results = await Worker.runReplayHistories({ workflows: { wf: v2 } }, [history, history])
    expect(results.map((r) => r.error?.name)).toEqual(["DeterminismViolationError", "DeterminismViolationError"])
  })
})

describe("versioning", () => {
  async function deprecated(): Promise<string> {
    deprecatePatch("use-b")
    return step("b")
  }
  it("deprecatePatch records the marker and replays against histories with or without it", async () => {
    const result = await withWorker({ deprecated }, () =>
      env.client.workflow.execute(deprecated, { taskQueue: "det", workflowId: "dp" }))
    expect(result).toBe("b")
    const history = await env.client.workflow.getHandle("dp").fetchHistory()
    expect(history.events.filter((e) => e.type === "PatchMarker")).toHaveLength(1)
    await expect(Worker.runReplayHistory({ workflows: { deprecated } }, history)).resolves.toBeUndefined()
  })
})

describe("continueAsNew", () => {
  async function counter(n: number): Promise<number> {
    await step(`n${n}`)
    if (n < 3) await continueAsNew<typeof counter>(n + 1)
    return n
  }
  it("closes each run as CONTINUED_AS_NEW and result() follows the chain", async () => {
    const result = await withWorker({ counter }, async () => {
      const handle = await env.client.workflow.start(counter, { taskQueue: "det", workflowId: "can", args: [0] })
      const value = await handle.result()
      const history = await handle.fetchHistory()
      expect(history.events[0]).toMatchObject({ type: "WorkflowStarted", args: ["3"] })
      expect(history.runId).not.toBe(handle.firstExecutionRunId)
      return value
    })
    expect(result).toBe(3)
    expect(calls).toEqual(["n0", "n1", "n2", "n3"])
  })

  async function suggested(): Promise<boolean> {
    for (let i = 0; i < 5; i++) await step(`s${i}`)
    return workflowInfo().continueAsNewSuggested
  }
  it("continueAsNewSuggested turns true past the configured history length", async () => {
    const worker = await Worker.create({ connection: env.connection, taskQueue: "det", workflows: { suggested }, activities, continueAsNewSuggestedAt: 8 })
    const result = await worker.runUntil(env.client.workflow.execute(suggested, { taskQueue: "det", workflowId: "sg" }))
    expect(result).toBe(true)
  })
})

describe("deterministic time and randomness", () => {
  const sample = defineQuery<[number, number, number, string]>("sample")
  async function clocky(): Promise<[number, number, number, string]> {
    const before = Date.now()
    const random = Math.random()
    await sleep("1 hour")
    const after = new Date().getTime()
    const values: [number, number, number, string] = [before, after, random, workflowInfo().currentTime.toISOString()]
    setHandler(sample, () => values)
    return values
  }
  it("Date.now(), new Date() and Math.random() come from the journal and the run's seed, and replay to the same values", async () => {
    const [before, after, random, now] = await withWorker({ clocky }, () =>
      env.client.workflow.execute(clocky, { taskQueue: "det", workflowId: "clk" }))
    expect(after - before).toBe(3_600_000)
    expect(new Date(after).toISOString()).toBe(now)
    expect(random).toBeGreaterThanOrEqual(0)
    // A fresh worker answers the query by replaying the closed run: the same values come back.
    const replayed = await withWorker({ clocky }, () => env.client.workflow.getHandle("clk").query(sample))
    expect(replayed).toEqual([before, after, random, now])
    // Outside workflow code, time is the process's own.
    expect(Math.abs(Date.now() - new Date().getTime())).toBeLessThan(1000)
  })
})
