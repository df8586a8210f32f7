/**
 * Replay tests as the README recommends: histories of real executions are
 * committed as fixtures and replayed against the current code on every run,
 * so a change that would break in-flight orders fails CI, not production.
 */
import { readFileSync } from "node:fs"
import { DeterminismViolationError, Worker, type WorkflowHistory } from "hotmesh"
import { proxyActivities } from "hotmesh/workflow"
import { describe, expect, it } from "vitest"
import * as workflows from "../../examples/order/workflows.ts"

const fixture = (name: string): WorkflowHistory => JSON.parse(readFileSync(new URL(`../histories/${name}.json`, import.meta.url), "utf8"))

describe("committed histories replay against the current code", () => {
  it.each(["order", "shipping"])("%s", async (name) => {
    await expect(Worker.runReplayHistory({ workflows }, fixture(name))).resolves.toBeUndefined()
  })

  it("a change that reorders the order's calls is caught", async () => {
    const { refund } = proxyActivities<{ refund(id: string): Promise<string> }>({ startToCloseTimeout: "10s" })
    async function order(): Promise<string> {
      return refund("first") // the recorded history charges first
    }
    const error = await Worker.runReplayHistory({ workflows: { order } }, fixture("order")).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeterminismViolationError)
    expect((error as Error).message).toContain("the journal records activity charge (seq 1) but the code made activity refund (seq 1)")
  })
})
