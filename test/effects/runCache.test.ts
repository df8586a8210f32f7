/** The interpreter's live-run cache: take/put ownership, LRU by count and by bytes, counters. */
import { describe, expect, it } from "vitest"
import { initialState } from "../../src/core/state.ts"
import { estimateRunBytes, RUN_BASE_BYTES, RunCache } from "../../src/effects/runCache.ts"

const state = (id: string) => initialState({ workflowId: id, runId: `${id}-r`, workflowType: "t", taskQueue: "q", args: [] }, 0)
const entry = (id: string, bytes = 100) => ({ version: 1, token: "t1", state: state(id), run: `run-${id}`, bytes })

describe("RunCache", () => {
  it("hands an entry to one taker: a second take misses until it is put back", () => {
    const cache = new RunCache<string>({ maxEntries: 10, maxBytes: 10_000 })
    cache.put("a", entry("a"))
    expect(cache.take("a")?.run).toBe("run-a")
    expect(cache.take("a")).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0, hits: 1, misses: 1 })
  })

  it("evicts the least recently put beyond the entry limit", () => {
    const cache = new RunCache<string>({ maxEntries: 2, maxBytes: 10_000 })
    cache.put("a", entry("a"))
    cache.put("b", entry("b"))
    cache.put("a", entry("a")) // a is now the newest
    cache.put("c", entry("c"))
    expect(cache.take("b")).toBeUndefined()
    expect(cache.take("a")).toBeDefined()
    expect(cache.take("c")).toBeDefined()
    expect(cache.stats().evictions).toBe(1)
  })

  it("evicts beyond the byte budget, but always keeps the newest entry", () => {
    const cache = new RunCache<string>({ maxEntries: 100, maxBytes: 250 })
    cache.put("a", entry("a", 100))
    cache.put("b", entry("b", 100))
    cache.put("c", entry("c", 100))
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 200, evictions: 1 })
    cache.put("huge", entry("huge", 1000))
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 1000 })
    expect(cache.take("huge")).toBeDefined()
  })

  it("estimates a run's bytes from its encoded state and its history", () => {
    const s = { ...state("a"), journalLength: 10 }
    expect(estimateRunBytes(s, 500)).toBe(RUN_BASE_BYTES + 1000 + 640)
  })
})
