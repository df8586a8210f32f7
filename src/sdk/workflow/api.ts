/**
 * The workflow API (`hotmesh/workflow`): what workflow code calls. Every
 * function here finds its run through the workflow context and turns the
 * call into a command; none of them does I/O.
 */
import { type Duration, optionalMillis, toMillis } from "../../core/duration.ts"
import { cronProblem } from "../../core/cron.ts"
import { InvalidArgumentError } from "../../core/errors.ts"
import type { ActivityOptionsResolved } from "../../core/messages.ts"
import { type RetryPolicy, resolveRetryPolicy } from "../../core/retry.ts"
import {
  checkOptions,
  STATIC_METADATA_OPTIONS,
  type StaticMetadataOptions,
  staticMetadataOf,
  UNSUPPORTED_ACTIVITY,
  UNSUPPORTED_CHILD,
  UNSUPPORTED_CONTINUE_AS_NEW,
  WORKFLOW_TIMEOUT_OPTIONS,
  type WorkflowTimeoutOptions,
  workflowTimeoutsOf,
} from "../internal/options.ts"
import { encodedMemoUpdates, type SearchAttributeUpdatePair, storedAttributeUpdates, type TypedSearchAttributesInput, visibilityOf } from "../searchAttributes.ts"
import { type ChildWorkflowOptionsWithDefaults, composeInterceptors, storedHeaders } from "../interceptors.ts"
import { WorkflowIdReusePolicy } from "../workflowIdPolicies.ts"
import { CancellationScope } from "./cancellation.ts"
import { current, storage, type UpdateInfo } from "./internal/context.ts"
import { uuidFrom } from "./internal/random.ts"
import { ContinueAsNew, type WorkflowInfo } from "./internal/run.ts"

/**
 * Temporal's `ActivityCancellationType`: what cancelling a running activity
 * (its `CancellationScope`) does.
 */
export const ActivityCancellationType = {
  /** The call rejects at once with `CancelledFailure`; the activity learns of it at its next heartbeat (the default). */
  TRY_CANCEL: "TRY_CANCEL",
  /** The activity learns of it at its next heartbeat; the call settles with the activity's own outcome (completed, failed or cancelled). */
  WAIT_CANCELLATION_COMPLETED: "WAIT_CANCELLATION_COMPLETED",
  /** The call rejects at once; the activity is not told and runs on (its outcome is dropped). */
  ABANDON: "ABANDON",
} as const
/** One of `ActivityCancellationType`'s values. */
export type ActivityCancellationType = (typeof ActivityCancellationType)[keyof typeof ActivityCancellationType]

/** Options of `proxyActivities` (Temporal's `ActivityOptions`). */
export interface ActivityOptions {
  /** Defaults to the workflow's task queue. */
  readonly taskQueue?: string
  /** Maximum time of one attempt. This or `scheduleToCloseTimeout` is required. */
  readonly startToCloseTimeout?: Duration
  /** Maximum time of all attempts together. */
  readonly scheduleToCloseTimeout?: Duration
  readonly heartbeatTimeout?: Duration
  readonly retry?: RetryPolicy
  /** What a cancellation does to a running attempt; default `TRY_CANCEL`. */
  readonly cancellationType?: ActivityCancellationType
}

/** Options of `proxyLocalActivities` (Temporal's `LocalActivityOptions`). */
export interface LocalActivityOptions {
  /** Maximum time of one attempt. This or `scheduleToCloseTimeout` is required. */
  readonly startToCloseTimeout?: Duration
  /** Maximum time of all attempts together. */
  readonly scheduleToCloseTimeout?: Duration
  readonly retry?: RetryPolicy
  /** A retry whose backoff is at most this long runs in the worker's process; a longer one waits on a durable timer. Default 1 minute. */
  readonly localRetryThreshold?: Duration
  /** Accepted as for `proxyActivities`; a local attempt never runs across a cancellation, so only `WAIT_CANCELLATION_COMPLETED`'s later settling shows. */
  readonly cancellationType?: ActivityCancellationType
}

const ACTIVITY_OPTIONS = ["taskQueue", "startToCloseTimeout", "scheduleToCloseTimeout", "heartbeatTimeout", "retry", "cancellationType"] satisfies Array<keyof ActivityOptions>
const LOCAL_ACTIVITY_OPTIONS = ["startToCloseTimeout", "scheduleToCloseTimeout", "retry", "localRetryThreshold", "cancellationType"] satisfies Array<keyof LocalActivityOptions>
const UNSUPPORTED_LOCAL_ACTIVITY = {
  scheduleToStartTimeout: UNSUPPORTED_ACTIVITY["scheduleToStartTimeout"]!,
  activityId: UNSUPPORTED_ACTIVITY["activityId"]!,
  summary: UNSUPPORTED_ACTIVITY["summary"]!,
}
/** Temporal's default `localRetryThreshold`. */
const DEFAULT_LOCAL_RETRY_THRESHOLD_MS = 60_000
const RETRY_POLICY_OPTIONS = ["initialInterval", "backoffCoefficient", "maximumInterval", "maximumAttempts", "nonRetryableErrorTypes"] satisfies Array<keyof RetryPolicy>
const CHILD_OPTIONS = [
  "args", "workflowId", "taskQueue", "parentClosePolicy", "typedSearchAttributes", "memo", ...WORKFLOW_TIMEOUT_OPTIONS,
  "cronSchedule", "workflowIdReusePolicy", "cancellationType", ...STATIC_METADATA_OPTIONS,
] satisfies Array<keyof ChildWorkflowOptions>

/** The promise-returning view of an activities object. */
export type ActivityInterfaceFor<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never
}

/** A workflow function. */
export type Workflow = (...args: Array<any>) => Promise<unknown>

type ResolvedOptions = Omit<ActivityOptionsResolved, "taskQueue"> & { readonly taskQueue?: string }

const cancellationTypeOf = (where: string, value: unknown): Pick<ActivityOptionsResolved, "cancellationType"> => {
  if (value === undefined || value === ActivityCancellationType.TRY_CANCEL) return {}
  if (value === ActivityCancellationType.WAIT_CANCELLATION_COMPLETED || value === ActivityCancellationType.ABANDON) return { cancellationType: value }
  throw new InvalidArgumentError({ message: `${where}: cancellationType must be one of ${Object.values(ActivityCancellationType).join(", ")}; got ${JSON.stringify(value)}` })
}

const resolveActivityOptions = (options: ActivityOptions, where = "proxyActivities(options)"): ResolvedOptions => {
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError({ message: `${where}: options must be an object` })
  checkOptions(where, options, ACTIVITY_OPTIONS, UNSUPPORTED_ACTIVITY)
  checkOptions(`${where}.retry`, options.retry, RETRY_POLICY_OPTIONS)
  const startToCloseMs = optionalMillis(options.startToCloseTimeout, "startToCloseTimeout")
  const scheduleToCloseMs = optionalMillis(options.scheduleToCloseTimeout, "scheduleToCloseTimeout")
  const heartbeatTimeoutMs = optionalMillis(options.heartbeatTimeout, "heartbeatTimeout")
  if (startToCloseMs === undefined && scheduleToCloseMs === undefined) {
    throw new InvalidArgumentError({ message: `${where}: set startToCloseTimeout or scheduleToCloseTimeout` })
  }
  for (const [name, ms] of [["startToCloseTimeout", startToCloseMs], ["scheduleToCloseTimeout", scheduleToCloseMs]] as const) {
    if (ms === 0) throw new InvalidArgumentError({ message: `${where}: ${name} must be greater than 0` })
  }
  return {
    ...(options.taskQueue === undefined ? {} : { taskQueue: options.taskQueue }),
    ...(startToCloseMs === undefined ? {} : { startToCloseMs }),
    ...(scheduleToCloseMs === undefined ? {} : { scheduleToCloseMs }),
    ...(heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs }),
    retry: resolveRetryPolicy(options.retry),
    ...cancellationTypeOf(where, options.cancellationType),
  }
}

const resolveLocalActivityOptions = (options: LocalActivityOptions): ResolvedOptions => {
  const where = "proxyLocalActivities(options)"
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError({ message: `${where}: options must be an object` })
  checkOptions(where, options, LOCAL_ACTIVITY_OPTIONS, UNSUPPORTED_LOCAL_ACTIVITY)
  const { localRetryThreshold, ...rest } = options
  const retryThresholdMs = optionalMillis(localRetryThreshold, "localRetryThreshold") ?? DEFAULT_LOCAL_RETRY_THRESHOLD_MS
  return { ...resolveActivityOptions(rest, where), local: { retryThresholdMs } }
}

/**
 * The proxy both `proxyActivities` and `proxyLocalActivities` return: each
 * call goes through the outbound `scheduleActivity` (or, local,
 * `scheduleLocalActivity`) interceptors.
 */
const activityProxy = <A, O extends ActivityOptions | LocalActivityOptions>(
  options: O,
  resolve: (options: O) => ResolvedOptions,
  method: "scheduleActivity" | "scheduleLocalActivity",
): ActivityInterfaceFor<A> => {
  const resolved = resolve(options)
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get(_, activityType) {
      if (typeof activityType !== "string") return undefined
      if (activityType === "then") return undefined // not a thenable
      return (...args: Array<unknown>) => {
        const { run, scope } = current(`activity ${activityType}`)
        const schedule = (type: string, input: ReadonlyArray<unknown>, given: O, headers?: Record<string, string | undefined>) => {
          const chosen = given === options ? resolved : resolve(given)
          return run.scheduleActivity(type, input, { ...chosen, taskQueue: chosen.taskQueue ?? run.info.taskQueue }, scope, headers)
        }
        if (run.outbound.length === 0) return schedule(activityType, args, options)
        const input = { activityType, args, options, headers: {} }
        return method === "scheduleActivity"
          ? composeInterceptors(run.outbound, method, (given) => schedule(given.activityType, given.args, given.options as O, given.headers))({ ...input, options: options as ActivityOptions })
          : composeInterceptors(run.outbound, method, (given) => schedule(given.activityType, given.args, given.options as O, given.headers))({ ...input, options: options as LocalActivityOptions })
      }
    },
  })
}

/**
 * Activities as functions that schedule durable activity calls. Options are
 * validated here, so a bad timeout or retry policy fails when the module loads.
 */
export function proxyActivities<A = Record<string, (...args: Array<any>) => any>>(options: ActivityOptions): ActivityInterfaceFor<A> {
  return activityProxy<A, ActivityOptions>(options, (given) => resolveActivityOptions(given), "scheduleActivity")
}

/**
 * Temporal's `proxyLocalActivities`: activities this workflow's worker runs
 * itself (its registered `activities`), in the step that schedules them —
 * never through the activity stream. The outcome is reduced and committed
 * with that step; a retry within `localRetryThreshold` runs in the same
 * process, a longer backoff is a durable timer. On replay the recorded
 * outcome is delivered and the activity is not run again.
 */
export function proxyLocalActivities<A = Record<string, (...args: Array<any>) => any>>(options: LocalActivityOptions): ActivityInterfaceFor<A> {
  return activityProxy<A, LocalActivityOptions>(options, resolveLocalActivityOptions, "scheduleLocalActivity")
}

/** Sleep durably: a timer in the store, not in memory. `"30 days"` or milliseconds. */
export function sleep(duration: Duration): Promise<void> {
  const { run, scope } = current("sleep")
  return run.startTimer(toMillis(duration, "sleep duration"), scope)
}

/** Wait until `fn()` is true. With a timeout, resolves `true` if it became true, `false` on timeout. */
export function condition(fn: () => boolean): Promise<void>
export function condition(fn: () => boolean, timeout: Duration): Promise<boolean>
export function condition(fn: () => boolean, timeout?: Duration): Promise<void | boolean> {
  const { run, scope } = current("condition")
  if (timeout === undefined) return run.waitFor(fn, scope)
  const ms = toMillis(timeout, "condition timeout")
  if (fn()) return Promise.resolve(true)
  return CancellationScope.cancellable(async () => {
    const inner = CancellationScope.current()
    try {
      return await Promise.race([run.startTimer(ms, inner).then(() => false), run.waitFor(fn, inner).then(() => true)])
    } finally {
      inner.cancel()
    }
  })
}

/** A signal's name and argument types. */
export interface SignalDefinition<Args extends Array<any> = []> {
  readonly type: "signal"
  readonly name: string
  /** Type-only marker. */
  readonly __args?: Args
}

/** A query's name, result and argument types. */
export interface QueryDefinition<Ret, Args extends Array<any> = []> {
  readonly type: "query"
  readonly name: string
  /** Type-only markers. */
  readonly __ret?: Ret
  readonly __args?: Args
}

/** An update's name, result and argument types (Temporal's `UpdateDefinition`). */
export interface UpdateDefinition<Ret, Args extends Array<any> = [], Name extends string = string> {
  readonly type: "update"
  readonly name: Name
  /** Type-only markers. */
  readonly __ret?: Ret
  readonly __args?: Args
}

/** Temporal's `HandlerUnfinishedPolicy`: what the workflow's close does to an update handler still running. */
export const HandlerUnfinishedPolicy = {
  /** Log a warning naming the unfinished updates (the default); their clients get an error. */
  WARN_AND_ABANDON: "WARN_AND_ABANDON",
  /** Abandon them silently. */
  ABANDON: "ABANDON",
} as const
/** One of `HandlerUnfinishedPolicy`'s values. */
export type HandlerUnfinishedPolicy = (typeof HandlerUnfinishedPolicy)[keyof typeof HandlerUnfinishedPolicy]

/** An update's validator (Temporal's `UpdateValidator`): synchronous, a throw rejects the update. */
export type UpdateValidator<Args extends Array<any>> = (...args: Args) => void

/** Options of `setHandler` for an update (Temporal's `UpdateHandlerOptions`). */
export interface UpdateHandlerOptions<Args extends Array<any>> {
  /** Runs synchronously before the handler; a throw rejects the update, which leaves no history. */
  readonly validator?: UpdateValidator<Args>
  /** Documentation only (Temporal shows it in its UI; HotMesh has none). */
  readonly description?: string
  readonly unfinishedPolicy?: HandlerUnfinishedPolicy
}

const UPDATE_HANDLER_OPTIONS = ["validator", "description", "unfinishedPolicy"] satisfies Array<keyof UpdateHandlerOptions<[]>>

const checkName = (kind: string, name: unknown): string => {
  if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError({ message: `${kind} name must be a non-empty string` })
  return name
}

/** Define a signal. */
export const defineSignal = <Args extends Array<any> = []>(name: string): SignalDefinition<Args> => ({ type: "signal", name: checkName("signal", name) })

/** Define a query. */
export const defineQuery = <Ret, Args extends Array<any> = []>(name: string): QueryDefinition<Ret, Args> => ({ type: "query", name: checkName("query", name) })

/** Define an update. */
export const defineUpdate = <Ret, Args extends Array<any> = [], Name extends string = string>(name: Name): UpdateDefinition<Ret, Args, Name> => ({
  type: "update",
  name: checkName("update", name) as Name,
})

/** Set (or with `undefined`, remove) the handler of a signal, query or update. */
export function setHandler<Args extends Array<any>>(def: SignalDefinition<Args>, handler: ((...args: NoInfer<Args>) => void | Promise<void>) | undefined): void
export function setHandler<Ret, Args extends Array<any>>(def: QueryDefinition<Ret, Args>, handler: ((...args: NoInfer<Args>) => NoInfer<Ret>) | undefined): void
export function setHandler<Ret, Args extends Array<any>, Name extends string>(
  def: UpdateDefinition<Ret, Args, Name>,
  handler: ((...args: NoInfer<Args>) => NoInfer<Ret> | Promise<NoInfer<Ret>>) | undefined,
  options?: UpdateHandlerOptions<NoInfer<Args>>,
): void
export function setHandler(
  def: SignalDefinition<any> | QueryDefinition<any, any> | UpdateDefinition<any, any>,
  handler: ((...args: Array<any>) => any) | undefined,
  options?: UpdateHandlerOptions<Array<any>>,
): void {
  const { run } = current("setHandler")
  if (handler !== undefined && typeof handler !== "function") throw new InvalidArgumentError({ message: `setHandler(${def.name}): handler must be a function` })
  if (def.type === "signal") run.setSignalHandler(def.name, handler)
  else if (def.type === "query") run.setQueryHandler(def.name, handler)
  else run.setUpdateHandler(def.name, handler === undefined ? undefined : { handler, ...updateHandlerOptions(def.name, options) })
}

const updateHandlerOptions = (name: string, options: UpdateHandlerOptions<Array<any>> | undefined) => {
  checkOptions(`setHandler(${name}, handler, options)`, options, UPDATE_HANDLER_OPTIONS)
  const policy = options?.unfinishedPolicy ?? HandlerUnfinishedPolicy.WARN_AND_ABANDON
  if (!Object.values(HandlerUnfinishedPolicy).includes(policy)) {
    throw new InvalidArgumentError({ message: `setHandler(${name}): unfinishedPolicy must be one of ${Object.values(HandlerUnfinishedPolicy).join(", ")}; got ${JSON.stringify(policy)}` })
  }
  const validator = options?.validator
  if (validator !== undefined && typeof validator !== "function") throw new InvalidArgumentError({ message: `setHandler(${name}): validator must be a function` })
  return { unfinishedPolicy: policy, ...(validator === undefined ? {} : { validator }) }
}

/** Whether no signal or update handler is still running: `await condition(allHandlersFinished)` before returning. */
export const allHandlersFinished = (): boolean => current("allHandlersFinished").run.allHandlersFinished

/** Inside an update's validator or handler: its id and name; otherwise undefined. */
export const currentUpdateInfo = (): UpdateInfo | undefined => {
  current("currentUpdateInfo")
  return storage.getStore()?.update
}

/** Information about the running workflow. */
export const workflowInfo = (): WorkflowInfo => current("workflowInfo").run.info

/**
 * Set (or, with a `null` value, remove) search attributes of this run, as
 * Temporal's `upsertSearchAttributes`: `workflowInfo().typedSearchAttributes`
 * shows them at once, and `client.workflow.list` finds the run by them once
 * this workflow task commits. Each value is checked against its key's type
 * here (`InvalidArgumentError`, which fails the workflow task if uncaught).
 */
export function upsertSearchAttributes(updates: ReadonlyArray<SearchAttributeUpdatePair>): void {
  const { run } = current("upsertSearchAttributes")
  run.upsertSearchAttributes(storedAttributeUpdates(updates, "upsertSearchAttributes"))
}

/**
 * Merge `memo` into this run's memo (Temporal's `upsertMemo`): top-level
 * keys replace; a `null` or `undefined` value removes its key.
 * `workflowInfo().memo` shows the result at once.
 */
export function upsertMemo(memo: Record<string, unknown>): void {
  const { run } = current("upsertMemo")
  run.upsertMemo(encodedMemoUpdates(memo, "upsertMemo"))
}

/** A UUID that is the same on every replay of this run. */
export const uuid4 = (): string => uuidFrom(current("uuid4").run.random)

/** Options of a child workflow. */
export interface ChildWorkflowOptions<Args extends Array<any> = Array<any>> extends WorkflowTimeoutOptions, StaticMetadataOptions {
  readonly args?: Args
  /** Defaults to a deterministic uuid. */
  readonly workflowId?: string
  /** Defaults to the parent's task queue. */
  readonly taskQueue?: string
  /** What the parent's close does to the child if it is still open; default `ParentClosePolicy.TERMINATE`. */
  readonly parentClosePolicy?: ParentClosePolicy
  /** The child's search attributes (`[{ key, value }]` or a `TypedSearchAttributes`); it does not inherit the parent's. */
  readonly typedSearchAttributes?: TypedSearchAttributesInput
  /** The child's memo. */
  readonly memo?: Record<string, unknown>
  /**
   * Run the child as a cron workflow (UTC): each run a new run of the child's
   * id at the schedule's next time; as in Temporal, the parent's call does
   * not complete until the chain ends (cancelled, terminated, timed out).
   */
  readonly cronSchedule?: string
  /** Whether the child may reuse the id of a closed run; `TERMINATE_IF_RUNNING` also replaces an open one. Default `ALLOW_DUPLICATE`. */
  readonly workflowIdReusePolicy?: WorkflowIdReusePolicy
  /** What cancelling the child's call does; default `WAIT_CANCELLATION_COMPLETED`, as in Temporal. */
  readonly cancellationType?: ChildWorkflowCancellationType
}

/**
 * Temporal's `ChildWorkflowCancellationType`: when the scope of a child's
 * call is cancelled (or the parent is), whether the child is told, and when
 * the call rejects with a `ChildWorkflowFailure` (cause `CancelledFailure`).
 */
export const ChildWorkflowCancellationType = {
  /** Do not tell the child; reject at once. */
  ABANDON: "ABANDON",
  /** Ask the child to cancel, and reject at once. */
  TRY_CANCEL: "TRY_CANCEL",
  /** Ask the child to cancel; reject once the child has recorded the request. */
  WAIT_CANCELLATION_REQUESTED: "WAIT_CANCELLATION_REQUESTED",
  /** Ask the child to cancel; settle with the child's outcome once it closes (the default). */
  WAIT_CANCELLATION_COMPLETED: "WAIT_CANCELLATION_COMPLETED",
} as const
/** One of `ChildWorkflowCancellationType`'s values. */
export type ChildWorkflowCancellationType = (typeof ChildWorkflowCancellationType)[keyof typeof ChildWorkflowCancellationType]

const oneOf = <T extends string>(name: string, value: unknown, values: Readonly<Record<string, T>>): T | undefined => {
  if (value === undefined) return undefined
  if (!(Object.values(values) as Array<unknown>).includes(value)) {
    throw new InvalidArgumentError({ message: `child workflow: ${name} must be one of ${Object.values(values).join(", ")}; got ${JSON.stringify(value)}` })
  }
  return value as T
}

/** Temporal's parent-close policies (`ParentClosePolicy.ABANDON`, ...). */
export const ParentClosePolicy = {
  /** Terminate the child (the default). */
  TERMINATE: "TERMINATE",
  /** Ask the child to cancel; it sees a `CancelledFailure` it may catch. */
  REQUEST_CANCEL: "REQUEST_CANCEL",
  /** Leave the child running. */
  ABANDON: "ABANDON",
} as const
/** One of `ParentClosePolicy`'s values. */
export type ParentClosePolicy = (typeof ParentClosePolicy)[keyof typeof ParentClosePolicy]

const childOptionsOf = (options: ChildWorkflowOptions) => {
  const policy = options.parentClosePolicy ?? "TERMINATE"
  if (!Object.values(ParentClosePolicy).includes(policy)) {
    throw new InvalidArgumentError({ message: `child workflow: parentClosePolicy must be one of ${Object.values(ParentClosePolicy).join(", ")}; got ${JSON.stringify(policy)}` })
  }
  const cancellationType = oneOf("cancellationType", options.cancellationType, ChildWorkflowCancellationType)
  const workflowIdReusePolicy = oneOf("workflowIdReusePolicy", options.workflowIdReusePolicy, WorkflowIdReusePolicy)
  if (options.cronSchedule !== undefined) {
    const problem = cronProblem(options.cronSchedule)
    if (problem !== undefined) throw new InvalidArgumentError({ message: `child workflow: cronSchedule ${JSON.stringify(options.cronSchedule)} is not a cron expression: ${problem}` })
  }
  return {
    parentClosePolicy: policy,
    ...workflowTimeoutsOf(options, "child workflow"),
    ...staticMetadataOf(options, "child workflow"),
    ...(options.cronSchedule === undefined ? {} : { cronSchedule: options.cronSchedule }),
    ...(workflowIdReusePolicy === undefined ? {} : { workflowIdReusePolicy }),
    ...(cancellationType === undefined ? {} : { cancellationType }),
  }
}

/** A started child workflow. */
export interface ChildWorkflowHandle<T extends Workflow> {
  readonly workflowId: string
  readonly firstExecutionRunId: string
  result(): Promise<Awaited<ReturnType<T>>>
}

const workflowTypeOf = (workflow: Workflow | string): string => {
  const type = typeof workflow === "string" ? workflow : workflow?.name
  if (typeof type !== "string" || type.length === 0) throw new InvalidArgumentError({ message: "child workflow: pass a named workflow function or a workflow type name" })
  return type
}

/** Start a child through the `startChildWorkflowExecution` interceptors: `[started, result]`. */
const startChildWorkflow = (caller: string, workflow: Workflow | string, options: ChildWorkflowOptions): { readonly workflowId: string; readonly child: Promise<[Promise<string>, Promise<unknown>]> } => {
  const { run, scope } = current(caller)
  const where = `${caller}(workflow, options)`
  checkOptions(where, options, CHILD_OPTIONS, UNSUPPORTED_CHILD)
  const start = (type: string, given: ChildWorkflowOptionsWithDefaults, headers?: Record<string, string | undefined>): [Promise<string>, Promise<unknown>] => {
    const childOptions = { ...childOptionsOf(given), ...visibilityOf(given, where), ...(headers === undefined ? {} : { headers }) }
    const child = run.startChild(workflowTypeOf(type), given.workflowId, given.taskQueue, given.args, scope, childOptions)
    child.result.catch(() => undefined)
    return [child.started, child.result]
  }
  const withDefaults = { ...options, workflowId: options.workflowId ?? uuidFrom(run.random), taskQueue: options.taskQueue ?? run.info.taskQueue, args: options.args ?? [] }
  const workflowType = workflowTypeOf(workflow)
  if (run.outbound.length === 0) return { workflowId: withDefaults.workflowId, child: Promise.resolve(start(workflowType, withDefaults)) }
  const child = composeInterceptors(run.outbound, "startChildWorkflowExecution", async (input) => start(input.workflowType, input.options, input.headers))({
    workflowType,
    options: withDefaults,
    headers: {},
  })
  return { workflowId: withDefaults.workflowId, child }
}

/** Start a child workflow and return a handle once it has started. */
export async function startChild<T extends Workflow>(workflow: T | string, options: ChildWorkflowOptions<Parameters<T>> = {}): Promise<ChildWorkflowHandle<T>> {
  const { workflowId, child } = startChildWorkflow("startChild", workflow, options)
  const [started, result] = await child
  const runId = await started
  return { workflowId, firstExecutionRunId: runId, result: () => result as Promise<Awaited<ReturnType<T>>> }
}

/** Start a child workflow and wait for its result. */
export async function executeChild<T extends Workflow>(workflow: T | string, options: ChildWorkflowOptions<Parameters<T>> = {}): Promise<Awaited<ReturnType<T>>> {
  const [, result] = await startChildWorkflow("executeChild", workflow, options).child
  return result as Promise<Awaited<ReturnType<T>>>
}

/** A handle on another workflow, from workflow code (Temporal's `ExternalWorkflowHandle`). */
export interface ExternalWorkflowHandle {
  readonly workflowId: string
  readonly runId?: string
  /** Signal it; resolves once it has the signal, rejects (`ExternalWorkflowExecutionNotFound`) if no open run matches. */
  signal<Args extends Array<any> = []>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>
  /** Ask it to cancel; resolves once asked, rejects (`ExternalWorkflowExecutionNotFound`) if no open run matches. */
  cancel(): Promise<void>
}

/**
 * A handle to signal or cancel another workflow — its current run, or run
 * `runId` only. Each call is a durable command, journaled and checked on replay.
 */
export function getExternalWorkflowHandle(workflowId: string, runId?: string): ExternalWorkflowHandle {
  if (typeof workflowId !== "string" || workflowId.length === 0) throw new InvalidArgumentError({ message: "getExternalWorkflowHandle(workflowId): workflowId must be a non-empty string" })
  return {
    workflowId,
    ...(runId === undefined ? {} : { runId }),
    signal(def, ...args) {
      const { run, scope } = current("ExternalWorkflowHandle.signal")
      return run.signalExternal(workflowId, runId, checkName("signal", typeof def === "string" ? def : def?.name), args, scope)
    },
    cancel() {
      const { run, scope } = current("ExternalWorkflowHandle.cancel")
      return run.cancelExternal(workflowId, runId, scope)
    },
  }
}

/**
 * Close this run as CONTINUED_AS_NEW and start a fresh run of the same
 * workflow id with `args` and an empty journal (Temporal's `continueAsNew`).
 * The next run keeps this run's search attributes and memo (as upserted).
 * Use it to bound history: see `workflowInfo().continueAsNewSuggested`.
 */
export function continueAsNew<F extends Workflow>(...args: Parameters<F>): Promise<never> {
  const { run } = current("continueAsNew")
  const reject = (input: ReadonlyArray<unknown>, workflowType: string, taskQueue: string, headers?: Record<string, string | undefined>): Promise<never> =>
    Promise.reject(new ContinueAsNew(input, workflowType, taskQueue, {}, headers === undefined ? undefined : storedHeaders(headers, "continueAsNew")))
  if (run.outbound.length === 0) return reject(args, run.info.workflowType, run.info.taskQueue)
  return composeInterceptors(run.outbound, "continueAsNew", (input) => reject(input.args, input.options.workflowType, input.options.taskQueue, input.headers))({
    args,
    headers: {},
    options: { workflowType: run.info.workflowType, taskQueue: run.info.taskQueue },
  })
}

/** Options of `makeContinueAsNewFunc` (Temporal's `ContinueAsNewOptions`). */
export interface ContinueAsNewOptions {
  /** Defaults to this run's workflow type. */
  readonly workflowType?: string
  /** Defaults to this run's task queue. */
  readonly taskQueue?: string
  /** The next run's search attributes, replacing this run's; default: this run's. */
  readonly typedSearchAttributes?: TypedSearchAttributesInput
  /** The next run's memo, replacing this run's; default: this run's. */
  readonly memo?: Record<string, unknown>
  /** The next run's run timeout; default: this run's. (The execution timeout spans the runs and is kept.) */
  readonly workflowRunTimeout?: Duration
}

const CONTINUE_AS_NEW_OPTIONS = ["workflowType", "taskQueue", "typedSearchAttributes", "memo", "workflowRunTimeout"] satisfies Array<keyof ContinueAsNewOptions>

/** A `continueAsNew` with options (Temporal's `makeContinueAsNewFunc`); the options are checked here. */
export function makeContinueAsNewFunc<F extends Workflow>(options: ContinueAsNewOptions = {}): (...args: Parameters<F>) => Promise<never> {
  const { run } = current("makeContinueAsNewFunc")
  const where = "makeContinueAsNewFunc(options)"
  checkOptions(where, options, CONTINUE_AS_NEW_OPTIONS, UNSUPPORTED_CONTINUE_AS_NEW)
  const workflowType = options.workflowType ?? run.info.workflowType
  const taskQueue = options.taskQueue ?? run.info.taskQueue
  for (const [name, value] of [["workflowType", workflowType], ["taskQueue", taskQueue]] as const) {
    if (typeof value !== "string" || value.length === 0) throw new InvalidArgumentError({ message: `${where}: ${name} must be a non-empty string` })
  }
  const visibility = visibilityOf(options, where)
  const { runTimeoutMs } = workflowTimeoutsOf({ ...(options.workflowRunTimeout === undefined ? {} : { workflowRunTimeout: options.workflowRunTimeout }) }, where)
  return (...args) => Promise.reject(new ContinueAsNew(args, workflowType, taskQueue, { ...visibility, ...(runTimeoutMs === undefined ? {} : { runTimeoutMs }) }))
}

/**
 * Temporal's versioning: `if (patched("v2")) { new code } else { old code }`.
 * True for executions that reach this point with the new code; false when
 * replaying a history recorded before the patch existed.
 */
export const patched = (patchId: string): boolean => current("patched").run.patched(checkName("patch", patchId))

/** Once no execution from before `patched(id)` remains: keep only the new code, call this instead. */
export const deprecatePatch = (patchId: string): void => current("deprecatePatch").run.deprecatePatch(checkName("patch", patchId))
