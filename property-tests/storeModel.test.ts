/**
 * The `Store` contract, model-checked: generated sequences of store
 * operations against the in-memory backend, on virtual time and on its real
 * clock. Another backend plugs in with one more `storeModelSuite(...)` call
 * (a Redis layer: `virtualTime: false`, a long visibility timeout, and a
 * `settle` hook if its commits relay messages asynchronously).
 */
import fc from "fast-check"
import { describe, it } from "vitest"
import { layerMemory } from "../src/stores/memory.ts"
import { assertProperty, numRuns, timeoutFor } from "./support/check.ts"
import { runStoreModel, storeCommands, type StoreModelTarget, storeModelStats } from "./support/storeModel.ts"

const RUNS = numRuns(50)

/** Register the model test of one backend. */
export const storeModelSuite = (name: string, target: StoreModelTarget): void => {
  describe(`Store model: ${name}`, () => {
    it(`agrees with the model (${RUNS} command sequences)`, async () => {
      for (const key of Object.keys(storeModelStats)) delete storeModelStats[key]
      await assertProperty(
        { file: "storeModel.test.ts", test: `Store model: ${name}` },
        fc.asyncProperty(storeCommands(target), (commands) => runStoreModel(target, commands)),
        RUNS,
      )
      if (process.env.STORE_STATS !== undefined) console.log(name, storeModelStats)
    }, timeoutFor(RUNS, 500))
  })
}

storeModelSuite("memory (virtual time)", {
  layer: () => layerMemory({ maxDeliveries: 2, visibilityTimeoutMs: 1000 }),
  maxDeliveries: 2,
  visibilityTimeoutMs: 1000,
  virtualTime: true,
})

storeModelSuite("memory (real clock)", {
  layer: () => layerMemory({ maxDeliveries: 3, visibilityTimeoutMs: 3_600_000 }),
  maxDeliveries: 3,
  visibilityTimeoutMs: 3_600_000,
  virtualTime: false,
})
