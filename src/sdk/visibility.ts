/**
 * Visibility for clients: `client.workflow.list` / `count` (Temporal's
 * list-filter queries over the store's own index — no extra service) and
 * `client.searchAttributes` (the namespace's declared keys, which queries
 * may name).
 */
import { Effect } from "effect"
import { InvalidArgumentError } from "../core/errors.ts"
import { parseListFilter } from "../core/listFilter.ts"
import type { SearchAttributeType as CoreAttributeType } from "../core/searchAttributes.ts"
import type { ExecutionState } from "../core/state.ts"
import { retryBriefOutage } from "../effects/storeRetry.ts"
import { countExecutions, listExecutions, SEARCH_ATTRIBUTE_SETTING } from "../effects/visibility.ts"
import { Store } from "../stores/Store.ts"
import type { Connection } from "./connection.ts"
import { checkOptions } from "./internal/options.ts"
import { decodedMemo, defineSearchAttributeKey, type SearchAttributeKey, SearchAttributeType, typedAttributesOf, type TypedSearchAttributes } from "./searchAttributes.ts"

/** One execution as `list` shows it (Temporal's `WorkflowExecutionInfo`). */
export interface WorkflowExecutionInfo {
  readonly type: string
  readonly workflowId: string
  readonly runId: string
  readonly taskQueue: string
  readonly status: { readonly name: ExecutionState["status"] }
  readonly historyLength: number
  readonly startTime: Date
  readonly executionTime: Date
  readonly closeTime?: Date
  readonly memo?: Record<string, unknown>
  readonly typedSearchAttributes: TypedSearchAttributes
  readonly parentExecution?: { readonly workflowId: string; readonly runId: string }
}

/**
 * An execution as a row of a listing, in plain data (the status by name):
 * what `hotmesh workflow list` and the dashboard's execution list show of
 * each execution, before what each adds.
 */
export const executionRow = (info: WorkflowExecutionInfo) => ({
  workflowId: info.workflowId,
  runId: info.runId,
  type: info.type,
  taskQueue: info.taskQueue,
  status: info.status.name,
  startTime: info.startTime,
  closeTime: info.closeTime,
  historyLength: info.historyLength,
})

/** What `count` returns (Temporal's `CountWorkflowExecution`); `groups` with `GROUP BY ExecutionStatus`. */
export interface CountWorkflowExecution {
  readonly count: number
  readonly groups: ReadonlyArray<{ readonly count: number; readonly groupValues: ReadonlyArray<string> }>
}

/** Options of `client.workflow.list`. */
export interface ListOptions {
  /** A list filter (`WorkflowType = 'order' AND ExecutionStatus = 'Running'`); none lists everything. */
  readonly query?: string
  /** How many executions each page reads from the store. Default 100. */
  readonly pageSize?: number
}

const LIST_OPTIONS = ["query", "pageSize"] satisfies Array<keyof ListOptions>

/** Temporal's status names as `ExecutionStatus` values (`Running`, `Canceled`, ...). */
const STATUS_VALUE: Readonly<Record<string, string>> = {
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
  CANCELLED: "Canceled",
  TERMINATED: "Terminated",
  CONTINUED_AS_NEW: "ContinuedAsNew",
  TIMED_OUT: "TimedOut",
}

/** An execution's state as `WorkflowExecutionInfo`. */
export const executionInfo = (state: ExecutionState): WorkflowExecutionInfo => {
  const memo = decodedMemo(state.memo)
  return {
    type: state.workflowType,
    workflowId: state.workflowId,
    runId: state.runId,
    taskQueue: state.taskQueue,
    status: { name: state.status },
    historyLength: state.journalLength,
    startTime: new Date(state.startTime),
    executionTime: new Date(state.startTime),
    ...(state.closeTime === undefined ? {} : { closeTime: new Date(state.closeTime) }),
    ...(memo === undefined ? {} : { memo }),
    typedSearchAttributes: typedAttributesOf(state.searchAttributes),
    ...(state.parent === undefined ? {} : { parentExecution: { workflowId: state.parent.workflowId, runId: state.parent.runId } }),
  }
}

const declaredAttributes = Effect.gen(function*() {
  const store = yield* Store
  const settings = yield* store.readSettings(SEARCH_ATTRIBUTE_SETTING)
  return Object.fromEntries(settings.map(([name, type]) => [name.slice(SEARCH_ATTRIBUTE_SETTING.length), type as CoreAttributeType]))
})

/** `query` parsed against the namespace's declared attributes (an `InvalidArgumentError` pointing at what is wrong). */
const filterOf = async (connection: Connection, query: string | undefined, label: string) => {
  if (query !== undefined && typeof query !== "string") throw new InvalidArgumentError({ message: `${label}: query must be a string` })
  const attributes = await connection.run(retryBriefOutage(declaredAttributes))
  return { attributes, filter: parseListFilter(query ?? "", attributes) }
}

/** The executions `options.query` selects, page by page (Temporal's `client.workflow.list`). */
export async function* listWorkflows(connection: Connection, options: ListOptions = {}): AsyncGenerator<WorkflowExecutionInfo, void, undefined> {
  checkOptions("client.workflow.list(options)", options, LIST_OPTIONS, {})
  const pageSize = options.pageSize ?? 100
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new InvalidArgumentError({ message: `client.workflow.list: pageSize must be a positive integer; got ${String(pageSize)}` })
  const { filter, attributes } = await filterOf(connection, options.query, "client.workflow.list")
  if (filter.groupBy !== undefined) throw new InvalidArgumentError({ message: "client.workflow.list: GROUP BY is for count(), not list()" })
  const cursor = await connection.run(listExecutions(filter, attributes, pageSize))
  for (;;) {
    const page = await connection.run(cursor.next)
    if (page.length === 0) return
    for (const state of page) yield executionInfo(state)
  }
}

/** How many executions `query` selects (Temporal's `client.workflow.count`); grouped with `GROUP BY ExecutionStatus`. */
export const countWorkflows = async (connection: Connection, query?: string): Promise<CountWorkflowExecution> => {
  const { filter, attributes } = await filterOf(connection, query, "client.workflow.count")
  const { count, byStatus } = await connection.run(retryBriefOutage(countExecutions(filter, attributes)))
  const groups = filter.groupBy === undefined ? [] : [...byStatus].map(([status, n]) => ({ count: n, groupValues: [STATUS_VALUE[status] ?? status] }))
  return { count, groups }
}

/** The namespace's declared search-attribute keys (`client.searchAttributes`). */
export class SearchAttributeClient {
  constructor(private readonly connection: Connection) {}

  /**
   * Declare keys so queries may name them. Declaring a key again with its
   * type changes nothing; with another type it is an `InvalidArgumentError`
   * (the first declaration stands: stored values keep their type).
   */
  async define(keys: ReadonlyArray<SearchAttributeKey>): Promise<void> {
    if (!Array.isArray(keys)) throw new InvalidArgumentError({ message: "client.searchAttributes.define(keys): keys must be an array of defineSearchAttributeKey(...)" })
    const checked = keys.map((key) => defineSearchAttributeKey(key?.name, key?.type))
    const held = await this.connection.run(retryBriefOutage(Effect.gen(function*() {
      const store = yield* Store
      return yield* Effect.forEach(checked, (key) => store.defineSetting(`${SEARCH_ATTRIBUTE_SETTING}${key.name}`, key.type))
    })))
    checked.forEach((key, i) => {
      if (held[i] !== key.type) {
        throw new InvalidArgumentError({ message: `search attribute ${key.name} is already declared as ${held[i]}; it cannot become ${key.type}` })
      }
    })
  }

  /** The declared keys, by name. */
  async list(): Promise<Array<SearchAttributeKey>> {
    const declared = await this.connection.run(retryBriefOutage(declaredAttributes))
    return Object.entries(declared)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, type]) => ({ name, type: (SearchAttributeType as Record<string, SearchAttributeType>)[type] ?? (type as SearchAttributeType) }))
  }
}
