import { describe, expect, it } from "vitest"
import { parseListFilter } from "../../src/core/listFilter.ts"
import { initialState } from "../../src/core/state.ts"
import { countTerms, INDEXED_STATUSES, indexChanged, indexDelta, indexEntries, planScan, retiredTerms } from "../../src/core/visibility.ts"

const run = initialState({ workflowId: "o-1", runId: "r1", workflowType: "order:v2", taskQueue: "orders", args: [] }, 1000)

describe("visibility index terms", () => {
  it("lists a run under its status, type+status and queue, by start time; user strings encoded", () => {
    expect(indexEntries(run)).toEqual([
      { term: "status:RUNNING", score: 1000 },
      { term: "type:order%3Av2:status:RUNNING", score: 1000 },
      { term: "queue:orders", score: 1000 },
    ])
    expect(indexEntries(undefined)).toEqual([])
  })

  it("adds closed by close time, and keyword, keyword-list (each item once) and bool attributes; not text or numbers", () => {
    const closed = {
      ...run,
      status: "COMPLETED" as const,
      closeTime: 5000,
      searchAttributes: {
        Customer: { type: "KEYWORD" as const, value: "ada" },
        Tags: { type: "KEYWORD_LIST" as const, value: ["eu", "eu", "vip"] },
        Vip: { type: "BOOL" as const, value: true },
        Note: { type: "TEXT" as const, value: "rush" },
        Amount: { type: "DOUBLE" as const, value: 3 },
      },
    }
    const terms = indexEntries(closed).map((entry) => entry.term)
    expect(terms).toEqual(expect.arrayContaining(["status:COMPLETED", "attr:Customer:ada", "attr:Tags:eu", "attr:Tags:vip", "attr:Vip:true"]))
    expect(terms.filter((term) => term === "attr:Tags:eu")).toHaveLength(1)
    expect(terms.some((term) => term.startsWith("attr:Note") || term.startsWith("attr:Amount"))).toBe(false)
    expect(indexEntries(closed)).toContainEqual({ term: "closed", score: 5000 })
  })

  it("changes only with status, run, close time, attributes, type or queue — not on an ordinary step", () => {
    expect(indexChanged(run, { ...run, journalLength: 9, tasks: 3 })).toBe(false)
    expect(indexChanged(run, run)).toBe(false)
    expect(indexChanged(undefined, run)).toBe(true)
    expect(indexChanged(run, { ...run, status: "FAILED", closeTime: 2 })).toBe(true)
    expect(indexChanged(run, { ...run, runId: "r2" })).toBe(true)
    expect(indexChanged(run, { ...run, searchAttributes: {} })).toBe(true)
  })
})

describe("index writes", () => {
  it("a close moves the key between status terms, adds closed, keeps its queue, and leaves the retired terms", () => {
    const closed = { ...run, status: "COMPLETED" as const, closeTime: 5000 }
    expect(indexDelta(run, closed)).toEqual({
      remove: ["status:RUNNING", "type:order%3Av2:status:RUNNING", "all", "type:order%3Av2"],
      add: [{ term: "status:COMPLETED", score: 1000 }, { term: "type:order%3Av2:status:COMPLETED", score: 1000 }, { term: "closed", score: 5000 }],
      keep: ["queue:orders"],
    })
    // The retired terms (written by earlier versions) are left, never joined.
    expect(retiredTerms(run)).toEqual(["all", "type:order%3Av2"])
    for (const term of retiredTerms(run)) expect(indexEntries(closed).map((entry) => entry.term)).not.toContain(term)
  })

  it("a start adds every term and leaves nothing; a new run of the same id re-scores them", () => {
    expect(indexDelta(undefined, run)).toEqual({ remove: [], add: indexEntries(run), keep: [] })
    const next = { ...run, runId: "r2", startTime: 9000 }
    const delta = indexDelta({ ...run, status: "COMPLETED", closeTime: 5000 }, next)
    expect([...delta.remove].sort()).toEqual(["all", "closed", "status:COMPLETED", "type:order%3Av2", "type:order%3Av2:status:COMPLETED"])
    expect(delta.add.every((entry) => entry.score === 9000)).toBe(true)
    expect(delta.keep).toEqual([])
  })
})

describe("scan plans", () => {
  const attributes = { Customer: "KEYWORD", Amount: "DOUBLE" } as const
  const plan = (query: string) => planScan(parseListFilter(query, attributes), attributes)

  const everyStatus = INDEXED_STATUSES.map((s) => `status:${s}`)
  const everyStatusOf = (type: string) => INDEXED_STATUSES.map((s) => `type:${type}:status:${s}`)

  it.each([
    ["", everyStatus, "DESC"],
    ["WorkflowType = 'a' AND ExecutionStatus = 'Running'", ["type:a:status:RUNNING"], "DESC"],
    ["WorkflowType IN ('a', 'b') AND ExecutionStatus IN ('Failed', 'TimedOut')", ["type:a:status:FAILED", "type:a:status:TIMED_OUT", "type:b:status:FAILED", "type:b:status:TIMED_OUT"], "DESC"],
    ["ExecutionStatus = 'Running'", ["status:RUNNING"], "DESC"],
    ["WorkflowType = 'a' ORDER BY StartTime ASC", everyStatusOf("a"), "ASC"],
    ["WorkflowType IN ('a', 'b')", [...everyStatusOf("a"), ...everyStatusOf("b")], "DESC"],
    // Five types' statuses are more terms than one union takes: every execution, filtered.
    ["WorkflowType IN ('a', 'b', 'c', 'd', 'e')", everyStatus, "DESC"],
    ["Customer = 'ada' AND Amount > 3", ["attr:Customer:ada"], "DESC"],
    ["TaskQueue = 'q'", ["queue:q"], "DESC"],
    ["WorkflowType = 'a' OR ExecutionStatus = 'Running'", everyStatus, "DESC"],
    ["Amount > 3", everyStatus, "DESC"],
  ])("%s", (query, terms, direction) => {
    expect(plan(query)).toEqual({ direction, terms })
  })

  it("orders by close time: closed ones from `closed`, the open ones first when descending", () => {
    expect(plan("ORDER BY CloseTime DESC")).toEqual({ direction: "DESC", terms: ["closed"], openTerms: ["status:RUNNING"], openFirst: true })
    expect(plan("ORDER BY CloseTime")).toMatchObject({ direction: "ASC", openFirst: false })
  })

  it("counts off the index for no condition, a type or a status; otherwise scans", () => {
    expect(countTerms(parseListFilter(""))?.map((t) => t.term)).toContain("status:RUNNING")
    expect(countTerms(parseListFilter("WorkflowType = 'a'"))?.map((t) => t.term)).toContain("type:a:status:FAILED")
    expect(countTerms(parseListFilter("ExecutionStatus = 'Failed'"))).toEqual([{ status: "FAILED", term: "status:FAILED" }])
    expect(countTerms(parseListFilter("WorkflowType = 'a' AND ExecutionStatus = 'Failed'"))).toBeUndefined()
  })
})
