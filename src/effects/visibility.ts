/**
 * Listing and counting executions: the scatter-gather over the store's
 * visibility index (`core/visibility.ts` plans, `Store.scanIndex` reads).
 *
 * A list scans the plan's terms in every index partition, merges them in
 * `(score, key)` order, loads each candidate's state and keeps those the
 * whole filter matches — so what a list shows is what the execution's state
 * says at the moment it is read, never an index entry's guess. A term that
 * lists the same execution twice (an `IN` over a keyword list) shows it once.
 */
import { Effect } from "effect"
import { type ListFilter, matchesFilter } from "../core/listFilter.ts"
import { type ExecutionState, type WorkflowStatus } from "../core/state.ts"
import { countTerms, planScan, visibilityRecord } from "../core/visibility.ts"
import { compareIndexHits, type IndexHit, Store, type StoreError, type StoreShape } from "../stores/Store.ts"
import { loadExecution } from "./executions.ts"

/** Setting-name prefix of the namespace's declared search attributes (`sa:<name>` → type). */
export const SEARCH_ATTRIBUTE_SETTING = "sa:"

/** One term of one partition, read a page at a time. */
interface Source {
  readonly partition: number
  readonly term: string
  buffer: Array<IndexHit>
  after: IndexHit | undefined
  exhausted: boolean
}

/** Pages of executions matching a filter; `next` resolves to an empty page once there are no more. */
export interface ExecutionCursor {
  readonly next: Effect.Effect<ReadonlyArray<ExecutionState>, StoreError, Store>
}

/**
 * A cursor over the executions `filter` selects, in its order, `pageSize`
 * at a time. `attributes` are the declared search attributes' types (for the
 * plan).
 */
export const listExecutions = (filter: ListFilter, attributes: Readonly<Record<string, string>>, pageSize: number): Effect.Effect<ExecutionCursor, never, Store> =>
  Effect.map(Effect.gen(function*() { return yield* Store }), (store) => {
    const plan = planScan(filter, attributes)
    const sign = plan.direction === "ASC" ? 1 : -1
    const sourcesOf = (terms: ReadonlyArray<string>): Array<Source> =>
      terms.flatMap((term) => Array.from({ length: store.indexPartitions }, (_, partition) => ({ partition, term, buffer: [], after: undefined, exhausted: false })))
    const phases: Array<Array<Source>> = plan.openTerms === undefined
      ? [sourcesOf(plan.terms)]
      : plan.openFirst === true ? [sourcesOf(plan.openTerms), sourcesOf(plan.terms)] : [sourcesOf(plan.terms), sourcesOf(plan.openTerms)]
    const seen = new Set<string>()

    /** Up to `count` keys, next in order across `sources` (skipping ones already shown). */
    const candidates = (sources: Array<Source>, count: number) =>
      Effect.gen(function*() {
        const keys: Array<string> = []
        while (keys.length < count) {
          yield* Effect.forEach(sources.filter((s) => s.buffer.length === 0 && !s.exhausted), (s) => refill(store, s, plan.direction, Math.max(count, 16)), { concurrency: "unbounded", discard: true })
          let best: Source | undefined
          for (const s of sources) {
            const head = s.buffer[0]
            if (head !== undefined && (best === undefined || sign * compareIndexHits(head, best.buffer[0] as IndexHit) < 0)) best = s
          }
          if (best === undefined) break
          const hit = best.buffer.shift() as IndexHit
          if (!seen.has(hit.key)) {
            seen.add(hit.key)
            keys.push(hit.key)
          }
        }
        return keys
      })

    const next = Effect.gen(function*() {
      const page: Array<ExecutionState> = []
      while (page.length < pageSize && phases.length > 0) {
        const keys = yield* candidates(phases[0] as Array<Source>, pageSize - page.length)
        if (keys.length === 0) {
          phases.shift()
          continue
        }
        const loaded = yield* Effect.forEach(keys, loadExecution, { concurrency: "unbounded" })
        for (const { state } of loaded) {
          if (state !== undefined && matchesFilter(filter.where, visibilityRecord(state))) page.push(state)
        }
      }
      return page
    })
    return { next }
  })

const refill = (store: StoreShape, source: Source, direction: "ASC" | "DESC", limit: number) =>
  Effect.map(
    store.scanIndex(source.partition, source.term, { direction, limit, ...(source.after === undefined ? {} : { after: source.after }) }),
    (hits) => {
      source.buffer = [...hits]
      source.after = hits[hits.length - 1] ?? source.after
      source.exhausted = hits.length < limit
    },
  )

/** How many executions a filter selects, by status. */
export interface ExecutionCount {
  readonly count: number
  readonly byStatus: ReadonlyMap<WorkflowStatus, number>
}

/**
 * Count what `filter` selects: straight off the index when the filter allows
 * (`countTerms`: no condition, a workflow type, a status), else by listing.
 */
export const countExecutions = (filter: ListFilter, attributes: Readonly<Record<string, string>>): Effect.Effect<ExecutionCount, StoreError, Store> =>
  Effect.gen(function*() {
    const store = yield* Store
    const byStatus = new Map<WorkflowStatus, number>()
    const add = (status: WorkflowStatus, n: number) => {
      if (n > 0) byStatus.set(status, (byStatus.get(status) ?? 0) + n)
    }
    const terms = countTerms(filter)
    if (terms !== undefined) {
      const partitions = Array.from({ length: store.indexPartitions }, (_, p) => p)
      const counts = yield* Effect.forEach(partitions, (p) => store.countIndex(p, terms.map((t) => t.term)), { concurrency: "unbounded" })
      for (const perTerm of counts) perTerm.forEach((n, i) => add((terms[i] as { readonly status: WorkflowStatus }).status, n))
    } else {
      const cursor = yield* listExecutions(filter, attributes, 500)
      for (;;) {
        const page = yield* cursor.next
        if (page.length === 0) break
        for (const state of page) add(state.status, 1)
      }
    }
    let count = 0
    for (const n of byStatus.values()) count += n
    return { count, byStatus }
  })
