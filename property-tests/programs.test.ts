/**
 * Generated workflow programs, run on the in-memory store with time
 * skipping (by one worker or two competing ones, caching many live runs or
 * one), produce the result the reference evaluator computes without the
 * runtime — and their journals record each fact once, every activity attempt
 * invoked exactly once.
 */
import fc from "fast-check"
import { describe, it } from "vitest"
import { assertProperty, numRuns, timeoutFor } from "./support/check.ts"
import { evaluate, programArb } from "./support/programs.ts"
import { checkJournals, freshId, runProgram, topologyArb } from "./support/run.ts"

const RUNS = numRuns(50)

describe("generated programs", () => {
  it(`run to the reference result (${RUNS} programs)`, async () => {
    await assertProperty(
      { file: "programs.test.ts", test: "run to the reference result" },
      fc.asyncProperty(programArb, topologyArb, async (program, workers) => {
        const rootId = freshId("prog")
        const expected = evaluate(program, rootId)
        const run = await runProgram(program, expected, rootId, { workers })
        checkJournals(expected, run, true)
      }),
      RUNS,
    )
  }, timeoutFor(RUNS, 1000))
})
