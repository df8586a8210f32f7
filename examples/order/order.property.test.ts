/**
 * The order workflow, property-tested with `checkWorkflow` (public API only):
 * generated orders, approvals and status queries at generated points,
 * generated activity failures and latencies, and every fault HotMesh injects
 * — the order must end the same way as without faults, and never charge twice.
 *
 *   npx vitest run examples/order                 # 50 runs (kept small for npm test)
 *   NUM_RUNS=1000 npx vitest run examples/order   # more
 */
import fc from "fast-check"
import { activityCalls, checkWorkflow } from "hotmesh/testing"
import { expect, it } from "vitest"
import * as activities from "./activities.ts"
import { order, shipping } from "./workflows.ts"

const numRuns = Number(process.env.NUM_RUNS ?? 50)

it(`the order workflow survives faults and never charges twice (${numRuns} runs)`, async () => {
  const summary = await checkWorkflow(order, {
    activities,
    workflows: { shipping },
    args: fc.tuple(fc.record({
      orderId: fc.constantFrom("o-1", "o-2"),
      amountCents: fc.integer({ min: 0, max: 100_000 }), // 0 is refused: the charge fails, non-retryably
      returnWindow: fc.constantFrom("1s", "30 days"),
    })),
    signals: { approve: fc.tuple(fc.constantFrom("ada@example.com", "grace@example.com")) },
    queries: { status: fc.constant([]) },
    invariant: (outcome, history) => {
      const charges = activityCalls(history).filter((call) => call.activityType === "charge" && call.status === "completed")
      if (charges.length > 1) return false
      if (outcome.status === "completed" && outcome.result.status === "completed") return outcome.result.approvedBy !== undefined
    },
    numRuns,
  })
  if (process.env.NUM_RUNS !== undefined) console.log(summary)
  expect(summary.runs).toBe(numRuns)
}, 60_000 + numRuns * 500)
