/**
 * The dashboard's JSON API (`/api/…`), over the public client: executions
 * (list with a list filter, counts by status, one execution with its
 * history and timeline, actions), task queues (describe, samples, dead
 * letters with retry and purge). Each route resolves to a status and a
 * JSON body; actions are POSTs, refused with 403 in read-only mode.
 */
import { InvalidArgumentError } from "../core/errors.ts"
import type { JournalEntry } from "../core/journal.ts"
import { EXECUTION_STATUS_NAMES } from "../core/listFilter.ts"
import type { Client, WorkflowExecutionDescription } from "../sdk/client.ts"
import { describeEntry } from "../sdk/history.ts"
import { attributeRecord } from "../sdk/searchAttributes.ts"
import { executionRow, type WorkflowExecutionInfo } from "../sdk/visibility.ts"
import type { StreamKind } from "../stores/Store.ts"
import { quote, type TaskQueueSampler } from "./sampler.ts"
import { timelineOf } from "./timeline.ts"

/** A route's answer. */
export interface Reply {
  readonly status: number
  readonly body: unknown
}

/** What a route gets. */
export interface ApiRequest {
  readonly method: string
  readonly path: string
  readonly params: URLSearchParams
  /** The parsed JSON body of a POST (an object), else `{}`. */
  readonly body: Readonly<Record<string, unknown>>
}

/** What the API works with. */
export interface ApiContext {
  readonly client: Client
  readonly sampler: TaskQueueSampler
  readonly readOnly: boolean
  readonly namespace: string
  readonly metrics: boolean
}

const ok = (body: unknown): Reply => ({ status: 200, body })
const fail = (status: number, error: string, extra: Record<string, unknown> = {}): Reply => ({ status, body: { error, ...extra } })

/** How many executions the task-queue page reads to find the namespace's task queues. */
const DISCOVERY_SCAN = 500
const MAX_PAGE_SIZE = 200

const tagOf = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const e = error as { _tag?: unknown; name?: unknown }
  return typeof e._tag === "string" ? e._tag : typeof e.name === "string" ? e.name : undefined
}

/** An error as a reply: bad input 400, not found 404, anything else 500. */
export const errorReply = (error: unknown): Reply => {
  const tag = tagOf(error)
  const message = error instanceof Error ? error.message : String(error)
  if (tag === "InvalidArgumentError") return fail(400, message)
  if (tag === "WorkflowNotFoundError" || tag === "DeadLetterNotFoundError" || tag === "QueryNotRegisteredError") return fail(404, message)
  if (tag === "WorkflowUpdateFailedError" || tag === "QueryFailedError") {
    const cause = (error as { cause?: unknown }).cause
    return fail(422, cause instanceof Error ? `${message}: ${cause.message}` : message)
  }
  return fail(500, message)
}

/** An execution as a row of the execution list: the listing's fields and how long it ran (once closed). */
const listed = (info: WorkflowExecutionInfo) => ({
  ...executionRow(info),
  durationMs: info.closeTime === undefined ? undefined : info.closeTime.getTime() - info.startTime.getTime(),
})

const described = (d: WorkflowExecutionDescription) => ({
  ...d,
  typedSearchAttributes: undefined,
  searchAttributes: attributeRecord(d.typedSearchAttributes),
})

/** The children a run started, with what became of each (from its history). */
const childrenOf = (events: ReadonlyArray<JournalEntry>) => {
  const children = new Map<number, { workflowId: string; workflowType: string; runId?: string; outcome: string }>()
  for (const entry of events) {
    if (entry.type === "ChildStartInitiated") children.set(entry.seq, { workflowId: entry.workflowId, workflowType: entry.workflowType, outcome: "starting" })
    const child = "seq" in entry ? children.get(entry.seq) : undefined
    if (child === undefined) continue
    if (entry.type === "ChildStarted") Object.assign(child, { runId: entry.runId, outcome: "running" })
    if (entry.type === "ChildCompleted") child.outcome = "completed"
    if (entry.type === "ChildFailed") child.outcome = "failed"
    if (entry.type === "ChildStartFailed") child.outcome = "could not start"
  }
  return [...children.values()]
}

const text = (body: ApiRequest["body"], name: string, required: boolean): string | undefined => {
  const value = body[name]
  if (value === undefined && !required) return undefined
  if (typeof value !== "string" || (required && value === "")) throw new InvalidArgumentError({ message: `${name} is required and must be a non-empty string` })
  return value
}

const argsOf = (body: ApiRequest["body"]): Array<unknown> => {
  const args = body["args"] ?? []
  if (!Array.isArray(args)) throw new InvalidArgumentError({ message: "args must be a JSON array" })
  return args
}

const kindOf = (value: unknown, required: boolean): StreamKind | undefined => {
  if (value === undefined && !required) return undefined
  if (value !== "workflow" && value !== "activity") throw new InvalidArgumentError({ message: `kind must be "workflow" or "activity"; got ${JSON.stringify(value)}` })
  return value
}

/** `query` split into its condition and its `ORDER BY` clause (if any). */
const splitOrder = (query: string): { readonly where: string; readonly order: string } => {
  const at = query.search(/(^|\s)ORDER\s+BY\s/i)
  return at < 0 ? { where: query.trim(), order: "" } : { where: query.slice(0, at).trim(), order: query.slice(at).trim() }
}

/** `query` narrowed to executions of `status` (an `ExecutionStatus` name). */
const withStatus = (query: string, status: string): string => {
  const { where, order } = splitOrder(query)
  return `${where === "" ? "" : `(${where}) AND `}ExecutionStatus = ${quote(status)} ${order}`.trim()
}

/** The count by status of `query` (its ORDER BY, if any, dropped: GROUP BY goes before it). */
const countsOf = async (client: Client, query: string) => {
  const { where } = splitOrder(query)
  const counted = await client.workflow.count(`${where} GROUP BY ExecutionStatus`).catch(async (error: unknown) => {
    // Report a malformed query as the user wrote it (the caret under their text, not under the added GROUP BY).
    if (tagOf(error) === "InvalidArgumentError") await client.workflow.count(query)
    throw error
  })
  return { total: counted.count, byStatus: Object.fromEntries(counted.groups.map((g) => [g.groupValues[0], g.count])) }
}

/** The task queues named by the namespace's most recent executions. */
const knownTaskQueues = async (client: Client): Promise<Array<string>> => {
  const names = new Set<string>()
  let n = 0
  for await (const info of client.workflow.list({ pageSize: DISCOVERY_SCAN })) {
    names.add(info.taskQueue)
    if (++n >= DISCOVERY_SCAN) break
  }
  return [...names].sort()
}

type Route = (context: ApiContext, request: ApiRequest, match: RegExpExecArray) => Promise<Reply>

const executions: Route = async ({ client }, { params }) => {
  const query = params.get("query") ?? ""
  const pageSize = Number(params.get("pageSize") ?? "25")
  const page = Number(params.get("page") ?? "0")
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) return fail(400, `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`)
  if (!Number.isSafeInteger(page) || page < 0) return fail(400, "page must be a non-negative integer")
  const status = params.get("status") ?? ""
  if (status !== "" && !Object.hasOwn(EXECUTION_STATUS_NAMES, status)) return fail(400, `status must be one of ${Object.keys(EXECUTION_STATUS_NAMES).join(", ")}`)
  try {
    // Counted first: a malformed query is reported as the user wrote it, before the status is added to it.
    const counts = await countsOf(client, query)
    // The list has no cursor to resume from: a page skips the ones before it.
    const rows: Array<ReturnType<typeof listed>> = []
    let seen = 0
    let more = false
    for await (const info of client.workflow.list({ query: status === "" ? query : withStatus(query, status), pageSize: Math.min(MAX_PAGE_SIZE, (page + 1) * pageSize + 1) })) {
      if (seen++ < page * pageSize) continue
      if (rows.length === pageSize) {
        more = true
        break
      }
      rows.push(listed(info))
    }
    return ok({ query, status, page, pageSize, executions: rows, hasMore: more, counts })
  } catch (error) {
    const reply = errorReply(error)
    return reply.status === 400 ? fail(400, (reply.body as { error: string }).error, { field: "query" }) : reply
  }
}

const execution: Route = async ({ client }, _request, match) => {
  const handle = client.workflow.getHandle(decodeURIComponent(match[1]!))
  const description = await handle.describe()
  const history = await handle.fetchHistory()
  return ok({
    execution: described(description),
    children: childrenOf(history.events),
    history: history.events,
    descriptions: history.events.map(describeEntry),
    timeline: timelineOf(history.events, Date.now()),
  })
}

const action: Route = async ({ client, readOnly }, { body }, match) => {
  if (readOnly) return fail(403, "this dashboard is read-only")
  const handle = client.workflow.getHandle(decodeURIComponent(match[1]!))
  switch (match[2]) {
    case "signal":
      await handle.signal(text(body, "name", true)!, ...argsOf(body))
      return ok({ done: "signalled" })
    case "query":
      return ok({ result: await handle.query(text(body, "name", true)!, ...argsOf(body)) })
    case "update":
      return ok({ result: await handle.executeUpdate(text(body, "name", true)!, { args: argsOf(body) as [] }) })
    case "cancel":
      await handle.cancel()
      return ok({ done: "cancellation requested" })
    case "terminate":
      await handle.terminate(text(body, "reason", false) ?? "terminated from the dashboard")
      return ok({ done: "terminated" })
    default:
      return fail(404, `no action ${match[2]}`)
  }
}

const taskQueueSummary = async ({ client, sampler }: ApiContext, name: string) => {
  const description = await client.taskQueue(name).describe()
  return { ...description, samples: await sampler.samplesOf(name) }
}

const taskQueues: Route = async (context) => {
  const names = await knownTaskQueues(context.client)
  return ok({ taskQueues: await Promise.all(names.map((name) => taskQueueSummary(context, name))) })
}

const taskQueue: Route = async (context, _request, match) => {
  const name = decodeURIComponent(match[1]!)
  const summary = await taskQueueSummary(context, name)
  const deadLetters = await context.client.deadLetters.list({ taskQueue: name })
  const recent = await context.client.workflow.count(`TaskQueue = ${quote(name)} GROUP BY ExecutionStatus`)
  return ok({ ...summary, deadLetters, byStatus: Object.fromEntries(recent.groups.map((g) => [g.groupValues[0], g.count])) })
}

const deadLetterAction: Route = async ({ client, readOnly }, { body }, match) => {
  if (readOnly) return fail(403, "this dashboard is read-only")
  const taskQueue = decodeURIComponent(match[1]!)
  if (match[2] === "retry") {
    await client.deadLetters.retry({ taskQueue, kind: kindOf(body["kind"], true)!, id: text(body, "id", true)! })
    return ok({ retried: 1 })
  }
  const ids = body["ids"]
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== "string"))) return fail(400, "ids must be an array of strings")
  const kind = kindOf(body["kind"], ids !== undefined)
  const purged = await client.deadLetters.purge({ taskQueue, ...(kind === undefined ? {} : { kind }), ...(ids === undefined ? {} : { ids: ids as Array<string> }) })
  return ok({ purged })
}

const config: Route = async ({ readOnly, namespace, metrics }) => ok({ readOnly, namespace, metrics })

const ROUTES: ReadonlyArray<readonly [string, RegExp, Route]> = [
  ["GET", /^\/api\/config$/, config],
  ["GET", /^\/api\/executions$/, executions],
  ["GET", /^\/api\/executions\/([^/]+)$/, execution],
  ["POST", /^\/api\/executions\/([^/]+)\/(signal|query|update|cancel|terminate)$/, action],
  ["GET", /^\/api\/task-queues$/, taskQueues],
  ["GET", /^\/api\/task-queues\/([^/]+)$/, taskQueue],
  ["POST", /^\/api\/task-queues\/([^/]+)\/dead-letters\/(retry|purge)$/, deadLetterAction],
]

/** Answer an `/api/…` request. */
export const handleApi = async (context: ApiContext, request: ApiRequest): Promise<Reply> => {
  let allowed: string | undefined
  for (const [method, pattern, route] of ROUTES) {
    const match = pattern.exec(request.path)
    if (match === null) continue
    if (method !== request.method) {
      allowed = method
      continue
    }
    try {
      return await route(context, request, match)
    } catch (error) {
      return errorReply(error)
    }
  }
  return allowed === undefined ? fail(404, `no such API: ${request.path}`) : fail(405, `${request.method} is not allowed here; use ${allowed}`)
}
