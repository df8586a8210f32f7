/**
 * `hotmesh/testing/conformance`: the store conformance suite, for authors of
 * custom `Store` backends. Needs vitest and @effect/vitest.
 */
export { storeConformance, type StoreConformanceOptions } from "./storeConformance.ts"
