/**
 * The visibility index, as pure data: which index *terms* an execution is
 * listed under (so the store can keep one sorted set per term, written in the
 * same commit as the state), and which terms a list filter scans. Pure.
 *
 * Every term orders its executions by start time, except `closed`, which
 * orders closed executions by close time (for `ORDER BY CloseTime`). User
 * strings inside a term are URI-encoded, so `:` only ever separates parts.
 *
 * | term                              | lists                                   |
 * |-----------------------------------|-----------------------------------------|
 * | `status:<S>`                      | executions in status S                  |
 * | `type:<T>:status:<S>`             | of workflow type T in status S          |
 * | `queue:<Q>`                       | on task queue Q                         |
 * | `attr:<name>:<value>`             | KEYWORD, KEYWORD_LIST (each item) and BOOL search attributes |
 * | `closed`                          | closed executions, by close time        |
 *
 * Every execution is in exactly one status, so "every execution" is the
 * union of the status terms and "of type T" the union of T's type+status
 * terms: a list scans those unions (`planScan`) instead of the `all` and
 * `type:<T>` terms earlier versions also wrote — two index entries fewer
 * per execution (on Redis, about 240 bytes). Those retired terms are still
 * removed when an execution's index changes (`indexDelta`), so entries an
 * earlier version wrote do not outlive the execution.
 *
 * An execution is its workflow id's latest run: a run that continued as new
 * is replaced in the index by the run it started.
 */
import { type FilterExpr, type ListFilter, type VisibilityRecord } from "./listFilter.ts"
import type { ExecutionState, WorkflowStatus } from "./state.ts"

/** One entry of the index: the execution is listed under `term`, ordered by `score`. */
export interface IndexEntry {
  readonly term: string
  readonly score: number
}

/** The statuses an execution can be listed under (`count` groups by these). */
export const INDEXED_STATUSES: ReadonlyArray<WorkflowStatus> = ["RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT"]

const part = (text: string | number | boolean): string => encodeURIComponent(String(text))

/** The term of executions in `status`. */
export const statusTerm = (status: string): string => `status:${status}`
/** The term of executions of `workflowType` (in `status`, when given). */
export const typeTerm = (workflowType: string, status?: string): string =>
  status === undefined ? `type:${part(workflowType)}` : `type:${part(workflowType)}:status:${status}`
/** The term of executions on `taskQueue`. */
export const queueTerm = (taskQueue: string): string => `queue:${part(taskQueue)}`
/** The term of executions whose search attribute `name` is (or, for a list, contains) `value`. */
export const attributeTerm = (name: string, value: string | number | boolean): string => `attr:${name}:${part(value)}`

/** The index entries of `state` (none for no state). */
export const indexEntries = (state: ExecutionState | undefined): ReadonlyArray<IndexEntry> => {
  if (state === undefined) return []
  const score = state.startTime
  const entries: Array<IndexEntry> = [
    { term: statusTerm(state.status), score },
    { term: typeTerm(state.workflowType, state.status), score },
    { term: queueTerm(state.taskQueue), score },
  ]
  if (state.closeTime !== undefined) entries.push({ term: "closed", score: state.closeTime })
  for (const [name, attribute] of Object.entries(state.searchAttributes ?? {})) {
    if (attribute.type === "KEYWORD" || attribute.type === "BOOL") entries.push({ term: attributeTerm(name, attribute.value as string), score })
    if (attribute.type === "KEYWORD_LIST") for (const item of new Set(attribute.value as ReadonlyArray<string>)) entries.push({ term: attributeTerm(name, item), score })
  }
  return entries
}

/**
 * Whether a transition from `before` to `after` changes the execution's index
 * entries — the fields they are computed from — so a commit carries index
 * writes only when it must (an ordinary step carries none).
 */
export const indexChanged = (before: ExecutionState | undefined, after: ExecutionState | undefined): boolean =>
  before !== after && (
    before === undefined || after === undefined ||
    before.status !== after.status || before.runId !== after.runId || before.closeTime !== after.closeTime ||
    before.searchAttributes !== after.searchAttributes || before.workflowType !== after.workflowType || before.taskQueue !== after.taskQueue
  )

/**
 * Terms earlier versions listed an execution under and this one no longer
 * writes (`all`, `type:<T>`): left on every index change of an execution
 * that existed before (a no-op for one indexed by this version).
 */
export const retiredTerms = (state: ExecutionState): ReadonlyArray<string> => ["all", typeTerm(state.workflowType)]

/**
 * The index writes from `before`'s entries to `after`'s: the terms to leave,
 * the entries to add (new terms, or a new score), and the terms that stay
 * as they are — so a close moves the key between two status terms and adds
 * `closed`, and leaves its queue alone. The terms to leave include
 * `before`'s retired terms (`retiredTerms`).
 */
export const indexDelta = (before: ExecutionState | undefined, after: ExecutionState | undefined): {
  readonly remove: ReadonlyArray<string>
  readonly add: ReadonlyArray<IndexEntry>
  readonly keep: ReadonlyArray<string>
} => {
  const old = new Map(indexEntries(before).map((entry) => [entry.term, entry.score] as const))
  const add: Array<IndexEntry> = []
  const keep: Array<string> = []
  for (const entry of indexEntries(after)) {
    if (old.get(entry.term) === entry.score) keep.push(entry.term)
    else add.push(entry)
    old.delete(entry.term)
  }
  const remove = [...old.keys()]
  if (before !== undefined) for (const term of retiredTerms(before)) if (!remove.includes(term)) remove.push(term)
  return { remove, add, keep }
}

/** What one execution shows to a list filter. */
export const visibilityRecord = (state: ExecutionState): VisibilityRecord => ({
  workflowId: state.workflowId,
  runId: state.runId,
  workflowType: state.workflowType,
  taskQueue: state.taskQueue,
  status: state.status,
  startTime: state.startTime,
  ...(state.closeTime === undefined ? {} : { closeTime: state.closeTime }),
  historyLength: state.journalLength,
  attributes: state.searchAttributes ?? {},
})

/**
 * How to list the executions a filter selects: the terms to scan (their
 * union, ordered by score in `direction`), each result then checked against
 * the whole filter. For `ORDER BY CloseTime` the closed executions come from
 * `closed` and the open ones (no close time: first when descending, as in
 * Temporal, last when ascending) from `openTerms`, by start time.
 */
export interface ScanPlan {
  readonly direction: "ASC" | "DESC"
  readonly terms: ReadonlyArray<string>
  /** With `ORDER BY CloseTime`: terms of the open executions, scanned before (DESC) or after (ASC) `terms`. */
  readonly openTerms?: ReadonlyArray<string>
  readonly openFirst?: boolean
}

/** At most this many terms in one union; beyond it the plan falls back to a wider term. */
const MAX_TERMS = 32

type Equalities = ReadonlyMap<string, ReadonlyArray<string | number | boolean>>

/** The equality conditions every result must meet (top-level AND): field → allowed values. */
const equalities = (where: FilterExpr | undefined): Equalities => {
  const found = new Map<string, ReadonlyArray<string | number | boolean>>()
  const visit = (expr: FilterExpr): void => {
    if (expr.kind === "and") expr.items.forEach(visit)
    else if (expr.kind === "compare" && expr.op === "=" && expr.field.type !== "TEXT") found.set(expr.field.name, [expr.value])
    else if (expr.kind === "in" && !expr.negated && expr.field.type !== "TEXT") found.set(expr.field.name, expr.values)
  }
  if (where !== undefined) visit(where)
  return found
}

/** The terms of every execution: one per status (each execution is in exactly one). */
const everyStatus = (): ReadonlyArray<string> => INDEXED_STATUSES.map(statusTerm)
/** The terms of every execution of `workflowType`: its type+status terms. */
const everyStatusOf = (workflowType: string): ReadonlyArray<string> => INDEXED_STATUSES.map((s) => typeTerm(workflowType, s))

const indexable = (filter: ListFilter, attributes: Readonly<Record<string, string>>): ReadonlyArray<string> | undefined => {
  const eq = equalities(filter.where)
  const types = eq.get("WorkflowType")
  const statuses = eq.get("ExecutionStatus")
  const fits = (terms: ReadonlyArray<string>) => (terms.length <= MAX_TERMS ? terms : undefined)
  if (types !== undefined && statuses !== undefined) {
    const combined = fits(types.flatMap((t) => statuses.map((s) => typeTerm(String(t), String(s)))))
    if (combined !== undefined) return combined
  }
  if (statuses !== undefined && statuses.length <= 2) return statuses.map((s) => statusTerm(String(s)))
  if (types !== undefined) {
    const byType = fits(types.flatMap((t) => everyStatusOf(String(t))))
    if (byType !== undefined) return byType
  }
  for (const [name, values] of eq) {
    const type = attributes[name]
    if (type === "KEYWORD" || type === "KEYWORD_LIST" || type === "BOOL") {
      const terms = fits(values.map((value) => attributeTerm(name, value)))
      if (terms !== undefined) return terms
    }
  }
  const queues = eq.get("TaskQueue")
  if (queues !== undefined) return fits(queues.map((q) => queueTerm(String(q))))
  if (statuses !== undefined) return statuses.map((s) => statusTerm(String(s)))
  return undefined
}

/** The scan plan of `filter`; `attributes` gives the declared custom attributes' types. */
export const planScan = (filter: ListFilter, attributes: Readonly<Record<string, string>> = {}): ScanPlan => {
  const { direction, field } = filter.orderBy
  if (field === "CloseTime") {
    // Closed ones by close time; the open ones by start time, within the filter's terms where it names them.
    return { direction, terms: ["closed"], openTerms: [statusTerm("RUNNING")], openFirst: direction === "DESC" }
  }
  return { direction, terms: indexable(filter, attributes) ?? everyStatus() }
}

/**
 * The counts `count` can read straight off the index, without scanning: for
 * no condition, or a condition on workflow type alone, one term per status
 * (`GROUP BY ExecutionStatus` sums them either way). Undefined when the
 * filter needs a scan.
 */
export const countTerms = (filter: ListFilter): ReadonlyArray<{ readonly status: WorkflowStatus; readonly term: string }> | undefined => {
  const where = filter.where
  if (where === undefined) return INDEXED_STATUSES.map((status) => ({ status, term: statusTerm(status) }))
  if (where.kind === "compare" && where.op === "=" && where.field.name === "WorkflowType") {
    return INDEXED_STATUSES.map((status) => ({ status, term: typeTerm(String(where.value), status) }))
  }
  if (where.kind === "compare" && where.op === "=" && where.field.name === "ExecutionStatus") {
    return [{ status: where.value as WorkflowStatus, term: statusTerm(String(where.value)) }]
  }
  return undefined
}
