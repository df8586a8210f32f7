import { describe, expect, it } from "vitest"
import { type ListFilter, matchesFilter, parseListFilter, type VisibilityRecord } from "../../src/core/listFilter.ts"
import type { StoredAttributes } from "../../src/core/searchAttributes.ts"

const ATTRIBUTES = { CustomerId: "KEYWORD", Amount: "DOUBLE", Items: "INT", Vip: "BOOL", Note: "TEXT", Tags: "KEYWORD_LIST", DueAt: "DATETIME" } as const

const record = (over: Partial<VisibilityRecord> = {}, attributes: StoredAttributes = {}): VisibilityRecord => ({
  workflowId: "order-1",
  runId: "run-1",
  workflowType: "order",
  taskQueue: "orders",
  status: "RUNNING",
  startTime: Date.parse("2026-12-01T10:00:00Z"),
  historyLength: 7,
  attributes,
  ...over,
})

const ada: StoredAttributes = {
  CustomerId: { type: "KEYWORD", value: "ada" },
  Amount: { type: "DOUBLE", value: 12.5 },
  Vip: { type: "BOOL", value: true },
  Note: { type: "TEXT", value: "Rush order, gift-wrapped" },
  Tags: { type: "KEYWORD_LIST", value: ["eu", "priority"] },
  DueAt: { type: "DATETIME", value: Date.parse("2026-12-05T00:00:00Z") },
}

const filter = (query: string): ListFilter => parseListFilter(query, ATTRIBUTES)
const matches = (query: string, r: VisibilityRecord): boolean => matchesFilter(filter(query).where, r)

describe("list filter: matching", () => {
  const running = record({}, ada)
  const failed = record({ workflowId: "order-2", status: "FAILED", closeTime: Date.parse("2026-12-01T10:05:00Z") })

  it.each([
    ["", true, true],
    ["WorkflowType = 'order' AND ExecutionStatus = 'Running'", true, false],
    ["ExecutionStatus != 'Running'", false, true],
    ["ExecutionStatus IN ('Failed', 'TimedOut')", false, true],
    ["ExecutionStatus NOT IN ('Failed')", true, false],
    ["WorkflowId STARTS_WITH 'order-'", true, true],
    ["WorkflowId NOT STARTS_WITH 'order-1'", false, true],
    ["CloseTime IS NULL", true, false],
    ["CloseTime IS NOT NULL", false, true],
    ["CustomerId = 'ada'", true, false],
    ["CustomerId != 'ada'", false, false],
    ["CustomerId IS NULL", false, true],
    ["Amount > 10 AND Amount <= 12.5", true, false],
    ["Amount BETWEEN 1 AND 12", false, false],
    ["Amount NOT BETWEEN 1 AND 12", true, false],
    ["Vip = true", true, false],
    ["Note = 'gift'", true, false],
    ["Note = 'parcel'", false, false],
    ["Tags = 'priority'", true, false],
    ["Tags IN ('us', 'eu')", true, false],
    ["Tags STARTS_WITH 'pri'", true, false],
    ["DueAt < '2026-12-06'", true, false],
    ["StartTime >= '2026-12-01T10:00:00Z'", true, true],
    ["StartTime > '2026-12-01T10:00:00Z'", false, false],
    ["ExecutionDuration > '4m'", false, true],
    ["ExecutionDuration > '5m'", false, false],
    ["HistoryLength = 7", true, true],
    ["CustomerId = 'ada' OR ExecutionStatus = 'Failed'", true, true],
    ["(CustomerId = 'ada' OR ExecutionStatus = 'Failed') AND WorkflowId = 'order-2'", false, true],
    ["CustomerId = 'ada' OR ExecutionStatus = 'Failed' AND WorkflowId = 'order-9'", true, false],
    ["WorkflowType = 'x' or WorkflowType = 'order'", true, true],
    ["`CustomerId` = 'it''s'", false, false],
  ])("%s → running %s, failed %s", (query, onRunning, onFailed) => {
    expect(matches(query, running)).toBe(onRunning)
    expect(matches(query, failed)).toBe(onFailed)
  })

  it("reads ORDER BY, StartTime DESC by default", () => {
    expect(filter("").orderBy).toEqual({ field: "StartTime", direction: "DESC" })
    expect(filter("ORDER BY CloseTime").orderBy).toEqual({ field: "CloseTime", direction: "ASC" })
    expect(filter("WorkflowType = 'order' order by StartTime desc").orderBy).toEqual({ field: "StartTime", direction: "DESC" })
  })

  it("reads GROUP BY ExecutionStatus", () => {
    expect(filter("GROUP BY ExecutionStatus").groupBy).toBe("ExecutionStatus")
    expect(filter("WorkflowType = 'order' GROUP BY ExecutionStatus")).toMatchObject({ groupBy: "ExecutionStatus", where: { kind: "compare" } })
    expect(filter("WorkflowType = 'order'").groupBy).toBeUndefined()
  })

  it("unescapes doubled quotes in strings", () => {
    const where = filter("CustomerId = 'o''brien'").where
    expect(where).toMatchObject({ kind: "compare", value: "o'brien" })
    expect(matchesFilter(where, record({}, { CustomerId: { type: "KEYWORD", value: "o'brien" } }))).toBe(true)
  })
})

describe("list filter: errors point at the token", () => {
  const error = (query: string): string => {
    try {
      filter(query)
    } catch (e) {
      expect(e).toMatchObject({ _tag: "InvalidArgumentError" })
      return (e as Error).message
    }
    throw new Error(`expected ${query} to be rejected`)
  }
  const caretUnder = (message: string): string => {
    const [, queryLine = "", caretLine = ""] = message.split("\n")
    const start = caretLine.indexOf("^")
    return queryLine.slice(start, caretLine.lastIndexOf("^") + 1)
  }

  it.each([
    ["WorkflowType = AND", "AND", /expected a value/],
    ["WorkflowType = 'x' AND", "", /expected a field name, found the end/],
    ["WorkflowType == 'x'", "=", /expected a value/],
    ["Customer = 'ada'", "Customer", /unknown field Customer/],
    ["workflowType = 'x'", "workflowType", /did you mean WorkflowType\?/],
    ["ExecutionStatus = 'Done'", "'Done'", /one of 'Running', 'Completed'/],
    ["Items = 'three'", "'three'", /Items is INT: expected an integer/],
    ["StartTime > 'yesterday'", "'yesterday'", /ISO-8601/],
    ["ExecutionDuration > 5", "5", /duration string/],
    ["Note > 'a'", "Note", /supports = and != only/],
    ["Amount STARTS_WITH '1'", "Amount", /STARTS_WITH needs a KEYWORD/],
    ["WorkflowType = 'x' ORDER BY WorkflowId", "WorkflowId", /ORDER BY supports StartTime and CloseTime/],
    ["WorkflowType = 'x' extra", "extra", /expected AND, OR, GROUP BY, ORDER BY or the end/],
    ["WorkflowType = 'x' GROUP BY WorkflowType", "WorkflowType", /GROUP BY supports ExecutionStatus only/],
    ["(WorkflowType = 'x'", "", /expected '\)'/],
    ["WorkflowId IN ('a' 'b')", "'b'", /expected ',' or '\)'/],
    ["WorkflowId NOT = 'a'", "=", /IN, BETWEEN or STARTS_WITH after NOT/],
    ["WorkflowId = 'open", "'open", /not closed/],
    ["WorkflowId ! 'a'", "!", /did you mean '!='/],
    ["WorkflowId = 'a' # comment", "#", /unexpected "#"/],
  ])("%s", (query, token, reason) => {
    const message = error(query)
    expect(message).toMatch(reason)
    expect(message.split("\n")[1]).toBe(`  ${query}`)
    if (token !== "") expect(caretUnder(message)).toBe(token)
  })
})
