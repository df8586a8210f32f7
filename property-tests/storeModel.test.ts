/**
 * The `Store` contract, model-checked: generated sequences of store
 * operations against the in-memory backend, on virtual time and on its real
 * clock (`STORE_STATS=1` prints how often each case came up). Another backend
 * plugs in with one more `storeModelSuite(...)` call
 * (a Redis layer: `virtualTime: false`, a long visibility timeout, and a
 * `settle` hook if its commits relay messages asynchronously).
 */
import { layerMemory } from "../src/stores/memory.ts"
import { storeModelSuite } from "./support/storeModel.ts"

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
