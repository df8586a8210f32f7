/**
 * Lists are what a brute-force filter says: for arbitrary executions (some
 * moved to a second state, through the index delta a commit carries) and
 * arbitrary list filters, `listExecutions` at any page size returns exactly
 * the executions `matchesFilter` accepts, each once, in the filter's order;
 * `countExecutions` agrees, per status. Whatever terms `planScan` picks and
 * however the partitions merge. On the memory store, and on a real
 * redis-server with 4 partitions (a scatter-gather).
 */
import { Effect, type Layer } from "effect"
import fc from "fast-check"
import { describe, it } from "vitest"
import { type ListFilter, matchesFilter, parseListFilter } from "../src/core/listFilter.ts"
import type { StoredAttributes } from "../src/core/searchAttributes.ts"
import { encodeState, type ExecutionState, initialState, type WorkflowStatus } from "../src/core/state.ts"
import { indexDelta, visibilityRecord } from "../src/core/visibility.ts"
import { countExecutions, listExecutions } from "../src/effects/visibility.ts"
import { layerMemory } from "../src/stores/memory.ts"
import { layerRedis } from "../src/stores/redis/layer.ts"
import { compareIndexHits, Store } from "../src/stores/Store.ts"
import { useRedis } from "../test/support/redisServer.ts"
import { assertProperty, numRuns, timeoutFor } from "./support/check.ts"

const redis = await useRedis()
const RUNS = numRuns(300)
const REDIS_RUNS = Math.max(1, Math.floor(RUNS / 10))
const ATTRIBUTES = { Customer: "KEYWORD", Amount: "INT", Tags: "KEYWORD_LIST", Vip: "BOOL" } as const
const STATUSES: ReadonlyArray<WorkflowStatus> = ["RUNNING", "COMPLETED", "FAILED", "TERMINATED"]

interface Shape {
  readonly type: string
  readonly status: WorkflowStatus
  readonly start: number
  readonly closeAfter: number
  readonly customer: string | undefined
  readonly amount: number | undefined
  readonly tags: ReadonlyArray<string> | undefined
  readonly vip: boolean | undefined
}

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  type: fc.constantFrom("a", "b", "c:d"),
  status: fc.constantFrom(...STATUSES),
  start: fc.integer({ min: 0, max: 20 }), // few values: many ties
  closeAfter: fc.integer({ min: 0, max: 20 }),
  customer: fc.option(fc.constantFrom("ada", "bob", "o'brien"), { nil: undefined }),
  amount: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  tags: fc.option(fc.subarray(["eu", "us", "vip"]), { nil: undefined }),
  vip: fc.option(fc.boolean(), { nil: undefined }),
})

const stateOf = (workflowId: string, shape: Shape): ExecutionState => {
  const attributes: Record<string, StoredAttributes[string]> = {}
  if (shape.customer !== undefined) attributes.Customer = { type: "KEYWORD", value: shape.customer }
  if (shape.amount !== undefined) attributes.Amount = { type: "INT", value: shape.amount }
  if (shape.tags !== undefined) attributes.Tags = { type: "KEYWORD_LIST", value: shape.tags }
  if (shape.vip !== undefined) attributes.Vip = { type: "BOOL", value: shape.vip }
  const state = initialState({ workflowId, runId: `${workflowId}-r`, workflowType: shape.type, taskQueue: shape.type === "a" ? "qa" : "qb", args: [], searchAttributes: attributes }, 1_000 + shape.start)
  return shape.status === "RUNNING" ? state : { ...state, status: shape.status, closeTime: 1_000 + shape.start + shape.closeAfter }
}

const clauseArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("WorkflowType", "TaskQueue").chain((field) => fc.constantFrom("'a'", "'b'", "'c:d'", "'qa'").map((v) => `${field} = ${v}`)),
  fc.subarray(["'a'", "'b'", "'c:d'"], { minLength: 1 }).map((vs) => `WorkflowType IN (${vs.join(", ")})`),
  fc.constantFrom("Running", "Completed", "Failed", "Terminated").map((s) => `ExecutionStatus = '${s}'`),
  fc.subarray(["'Running'", "'Failed'", "'Completed'"], { minLength: 1 }).map((vs) => `ExecutionStatus IN (${vs.join(", ")})`),
  fc.constantFrom("'ada'", "'bob'", "'o''brien'").map((v) => `Customer = ${v}`),
  fc.constantFrom("'eu'", "'us'", "'vip'").map((v) => `Tags = ${v}`),
  fc.subarray(["'eu'", "'vip'"], { minLength: 1 }).map((vs) => `Tags IN (${vs.join(", ")})`),
  fc.integer({ min: 0, max: 10 }).map((n) => `Amount >= ${n}`),
  fc.constantFrom("Vip = true", "Vip = false", "Customer IS NULL", "CloseTime IS NOT NULL", "Amount != 3"),
  fc.integer({ min: 0, max: 20 }).map((n) => `StartTime > '${new Date(1_000 + n).toISOString()}'`),
)

const exprArb: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: "small" },
    clauseArb,
    fc.tuple(tie("expr"), fc.constantFrom("AND", "OR"), tie("expr")).map(([a, op, b]) => `(${a as string}) ${op} (${b as string})`),
    fc.tuple(clauseArb, clauseArb).map(([a, b]) => `${a} AND ${b}`),
  ),
})).expr as fc.Arbitrary<string>

const queryArb = fc.tuple(
  fc.option(exprArb, { nil: undefined }),
  fc.constantFrom("", " ORDER BY StartTime ASC", " ORDER BY StartTime DESC", " ORDER BY CloseTime ASC", " ORDER BY CloseTime DESC"),
).map(([where, order]) => `${where ?? ""}${order}`.trim())

/** The order a list promises: by the order field, ties by workflow id bytes; no close time first when descending. */
const expectedOrder = (filter: ListFilter) => (a: ExecutionState, b: ExecutionState): number => {
  const sign = filter.orderBy.direction === "ASC" ? 1 : -1
  if (filter.orderBy.field === "CloseTime") {
    const openA = a.closeTime === undefined
    const openB = b.closeTime === undefined
    if (openA !== openB) return (openA ? 1 : -1) * sign
    const score = (s: ExecutionState) => s.closeTime ?? s.startTime
    return sign * compareIndexHits({ key: a.workflowId, score: score(a) }, { key: b.workflowId, score: score(b) })
  }
  return sign * compareIndexHits({ key: a.workflowId, score: a.startTime }, { key: b.workflowId, score: b.startTime })
}

const caseArb = fc.record({
  executions: fc.array(fc.tuple(shapeArb, fc.option(shapeArb, { nil: undefined })), { maxLength: 24 }),
  query: queryArb,
  pageSize: fc.integer({ min: 1, max: 7 }),
})

const check = (layer: () => Layer.Layer<Store, unknown>) => async ({ executions, query, pageSize }: typeof caseArb extends fc.Arbitrary<infer T> ? T : never) => {
  const filter = parseListFilter(query, ATTRIBUTES)
  const program = Effect.gen(function*() {
    const store = yield* Store
    const final: Array<ExecutionState> = []
    for (const [i, [first, second]] of executions.entries()) {
      const key = `w${i}`
      const before = stateOf(key, first)
      yield* store.commit({ key, expectedVersion: 0, state: encodeState(before), token: "t1", index: indexDelta(undefined, before) })
      // A second state of the same run (a close, an upsert): same start, the rest from `second`.
      const after = second === undefined ? before : stateOf(key, { ...second, start: first.start, type: first.type })
      if (after !== before) yield* store.commit({ key, expectedVersion: 1, expectedToken: "t1", state: encodeState(after), token: "t2", index: indexDelta(before, after) })
      final.push(after)
    }
    const cursor = yield* listExecutions(filter, ATTRIBUTES, pageSize)
    const listed: Array<string> = []
    for (;;) {
      const page = yield* cursor.next
      if (page.length === 0) break
      if (page.length > pageSize) throw new Error(`page of ${page.length} > ${pageSize}`)
      listed.push(...page.map((state) => state.workflowId))
    }
    const expected = final.filter((state) => matchesFilter(filter.where, visibilityRecord(state))).sort(expectedOrder(filter))
    const want = expected.map((state) => state.workflowId)
    if (JSON.stringify(listed) !== JSON.stringify(want)) throw new Error(`${query} (page ${pageSize}): listed ${JSON.stringify(listed)}, expected ${JSON.stringify(want)}`)
    const counted = yield* countExecutions(filter, ATTRIBUTES)
    const byStatus = new Map<WorkflowStatus, number>()
    for (const state of expected) byStatus.set(state.status, (byStatus.get(state.status) ?? 0) + 1)
    if (counted.count !== expected.length || JSON.stringify([...counted.byStatus].sort()) !== JSON.stringify([...byStatus].sort())) {
      throw new Error(`${query}: counted ${counted.count} ${JSON.stringify([...counted.byStatus])}, expected ${expected.length} ${JSON.stringify([...byStatus])}`)
    }
  })
  await Effect.runPromise(Effect.provide(program, layer()) as Effect.Effect<void, unknown>)
}

let namespaces = 0
const prefix = `vis-${process.pid}-${Math.random().toString(36).slice(2, 8)}`

describe("visibility: list and count agree with a brute-force filter", () => {
  it(`memory (${RUNS} runs)`, { timeout: timeoutFor(RUNS, 50) }, async () => {
    await assertProperty({ file: "visibility.test.ts", test: "memory" }, fc.asyncProperty(caseArb, check(() => layerMemory())), RUNS)
  })

  it(`redis, 4 partitions (${REDIS_RUNS} runs)`, { timeout: timeoutFor(REDIS_RUNS, 500) }, async () => {
    await assertProperty(
      { file: "visibility.test.ts", test: "redis" },
      fc.asyncProperty(caseArb, check(() => layerRedis({ redis: redis.url, namespace: `${prefix}-${++namespaces}`, partitions: 4 }))),
      REDIS_RUNS,
    )
  })
})
