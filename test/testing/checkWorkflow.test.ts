/**
 * checkWorkflow finds each planted bug within its default run count, and the
 * printed counterexample names the cause; the fixed versions pass; options
 * are validated; every fault kind is injected.
 */
import fc from "fast-check"
import { InvalidArgumentError } from "hotmesh"
import { checkWorkflow } from "hotmesh/testing"
import { describe, expect, it } from "vitest"
import * as p from "./fixtures/planted.ts"

const { activities } = p

/** The rejection's message (the test fails if the check passes). */
const failure = async (check: Promise<unknown>): Promise<string> => {
  const error = await check.then(() => undefined, (e: unknown) => e)
  expect(error, "the check should have failed").toBeInstanceOf(Error)
  return (error as Error).message
}

/** What every report carries: the timeline, the generated inputs, a one-line reproduction. */
const expectReport = (message: string, workflowType: string) => {
  expect(message).toContain(`checkWorkflow(${workflowType}) failed after`)
  expect(message).toContain("Generated inputs:")
  expect(message).toMatch(new RegExp(`Reproduce: checkWorkflow\\(${workflowType}, \\{ \\.\\.\\.sameOptions, seed: -?\\d+, path: "[\\d:]*" \\}\\)`))
}

describe("planted bugs are found with the default run count, and the report names the cause", () => {
  it("branching on a saved reference to Math.random (outside the shim)", async () => {
    expect(p.randomWasRealAtImport, "precondition: the fixture saved the real Math.random").toBe(true)
    const message = await failure(checkWorkflow(p.coinFlip, { activities }))
    expectReport(message, "coinFlip")
    expect(message).toContain("Math.random")
    expect(message).toContain("Timeline of the failing run")
  })

  it("waiting with setTimeout", async () => {
    const message = await failure(checkWorkflow(p.napper, { activities }))
    expectReport(message, "napper")
    expect(message).toContain("Non-deterministic call in workflow code: napper (napper-1) called setTimeout()")
    expect(message).toContain("use sleep()")
  })

  it("charging twice when a signal arrives during a retry (the user's invariant)", async () => {
    const message = await failure(checkWorkflow(p.checkout, {
      activities,
      args: fc.tuple(fc.constantFrom("o-1", "o-2")),
      signals: { expedite: fc.constant([]) },
      invariant: (_outcome, history) => history.events.filter((e) => e.type === "ActivityCompleted").length <= 1,
    }))
    expectReport(message, "checkout")
    expect(message).toContain("The invariant returned false")
    // The timeline shows the retry, then the signal, then a second charge.
    const timeline = message.slice(message.indexOf("Timeline of the failing run"))
    const retry = timeline.indexOf("↻ activity seq 1 attempt 2")
    const signal = timeline.indexOf("⚑ signal expedite")
    expect(retry).toBeGreaterThan(0)
    expect(signal).toBeGreaterThan(retry)
    expect(timeline.indexOf("→ activity charge (seq 2)")).toBeGreaterThan(signal)
  })

  it("a signal handler that is not idempotent when the client sends the signal twice", async () => {
    const message = await failure(checkWorkflow(p.cart, {
      activities,
      signals: { addItem: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.constant("r-1")), checkoutNow: fc.constant([]) },
    }))
    expectReport(message, "cart")
    expect(message).toContain("Under faults the workflow ended differently than without them")
    expect(message).toContain('⚡ duplicate signal: the client retries "addItem"')
  })

  it("a new version that changes its call order without patched()", async () => {
    const message = await failure(checkWorkflow(p.shipV2, { activities, previousVersion: p.shipV1 }))
    expectReport(message, "shipV2")
    expect(message).toContain("The new code cannot resume an execution of the previous version")
    expect(message).toContain("DeterminismViolationError")
    expect(message).toContain("the journal records activity pack (seq 1) but the code made activity label (seq 1)")
    expect(message).toContain("patched()")
  })

  it("module state that survives between runs", async () => {
    const message = await failure(checkWorkflow(p.counter, { activities }))
    expectReport(message, "counter")
    expect(message).toContain("Two fault-free runs with the same inputs ended differently")
    expect(message).toContain("module-level state")
  })

  it.each([
    ["clockReader", p.clockReader, "performance.now()"],
    ["uuidMaker", p.uuidMaker, "crypto.randomUUID()"],
    ["fileReader", p.fileReader, "fs.promises.readFile()"],
  ] as const)("%s: the detector names the call", async (name, workflow, call) => {
    const message = await failure(checkWorkflow(workflow as () => Promise<unknown>, { activities }))
    expectReport(message, name)
    expect(message).toContain(`called ${call}`)
  })
})

describe("the fixed versions pass", () => {
  const numRuns = 15
  it("Math.random inside workflow code, cart with request ids, checkout that charges once, a change behind patched(), search-attribute and memo upserts", async () => {
    const fair = await checkWorkflow(p.fairCoinFlip, { activities, numRuns })
    expect(fair.runs).toBe(numRuns)
    const cart = await checkWorkflow(p.idempotentCart, {
      activities,
      numRuns,
      seed: 1,
      signals: { addItem: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.uuid()), checkoutNow: fc.constant([]) },
    })
    expect(cart.events["signal"]).toBeGreaterThan(0)
    expect(cart.faults.duplicateSignals).toBeGreaterThan(0)
    await checkWorkflow(p.checkoutFixed, {
      activities,
      numRuns,
      args: fc.tuple(fc.constantFrom("o-1", "o-2")),
      signals: { expedite: fc.constant([]) },
      invariant: (_outcome, history) => history.events.filter((e) => e.type === "ActivityCompleted").length <= 1,
    })
    await checkWorkflow(p.shipV2Patched, { activities, numRuns, previousVersion: p.shipV1 })
    await checkWorkflow(p.stagedOrder, { activities, numRuns, invariant: (outcome) => outcome.status !== "completed" || outcome.result === "undefined/packed" })
  })

  it("injects every kind of fault, and none when faults are off", async () => {
    const on = await checkWorkflow(p.fairCoinFlip, { activities, numRuns: 30, seed: 42 })
    for (const [kind, n] of Object.entries(on.faults)) if (kind !== "duplicateSignals") expect(n, kind).toBeGreaterThan(0)
    expect(on.activityReexecutions).toBeGreaterThan(0)
    const off = await checkWorkflow(p.fairCoinFlip, { activities, numRuns: 5, faults: false })
    expect(Object.values(off.faults).every((n) => n === 0)).toBe(true)
    const some = await checkWorkflow(p.fairCoinFlip, { activities, numRuns: 10, faults: { storeErrors: false, cacheEviction: false } })
    expect(some.faults.storeErrors).toBe(0)
    expect(some.faults.cacheEviction).toBe(0)
  })

  it("a time budget stops early and says so", async () => {
    const summary = await checkWorkflow(p.fairCoinFlip, { activities, numRuns: 100_000, timeLimit: "500ms" })
    expect(summary.interrupted).toBe(true)
    expect(summary.runs).toBeLessThan(100_000)
  })
})

describe("options", () => {
  it("rejects updates (not in HotMesh yet) and unknown options instead of ignoring them", async () => {
    const updates = await checkWorkflow(p.fairCoinFlip, { activities, updates: {} } as never).catch((e: unknown) => e)
    expect(updates).toBeInstanceOf(InvalidArgumentError)
    expect((updates as Error).message).toContain("`updates`")
    const unknown = await checkWorkflow(p.fairCoinFlip, { activities, numRun: 3 } as never).catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(InvalidArgumentError)
    expect((unknown as Error).message).toContain("`numRun`")
    const fault = await checkWorkflow(p.fairCoinFlip, { activities, faults: { crash: false } as never }).catch((e: unknown) => e)
    expect((fault as Error).message).toContain("unknown fault `crash`")
    const behavior = await checkWorkflow(p.fairCoinFlip, { activities, activityBehavior: { chrage: false } }).catch((e: unknown) => e)
    expect((behavior as Error).message).toContain("`chrage`")
  })

  it("seed and path replay the reported counterexample", async () => {
    const message = await failure(checkWorkflow(p.cart, { activities, signals: { addItem: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.constant("r")), checkoutNow: fc.constant([]) } }))
    const [, seed, path] = /seed: (-?\d+), path: "([\d:]*)"/.exec(message)!
    const again = await failure(checkWorkflow(p.cart, {
      activities,
      signals: { addItem: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.constant("r")), checkoutNow: fc.constant([]) },
      seed: Number(seed),
      path: path!,
    }))
    const inputs = (m: string) => m.slice(m.indexOf("Generated inputs:"), m.indexOf("Timeline"))
    expect(inputs(again)).toBe(inputs(message))
  })
})
