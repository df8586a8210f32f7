/**
 * The workflow API (`hotmesh/workflow`): what workflow code calls. Every
 * function here finds its run through the workflow context and turns the
 * call into a command; none of them does I/O.
 */
import { type Duration, optionalMillis, toMillis } from "../../core/duration.ts"
import { InvalidArgumentError } from "../../core/errors.ts"
import type { ActivityOptionsResolved } from "../../core/messages.ts"
import { type RetryPolicy, resolveRetryPolicy } from "../../core/retry.ts"
import { checkOptions, UNSUPPORTED_ACTIVITY, UNSUPPORTED_CHILD } from "../internal/options.ts"
import { type ChildWorkflowOptionsWithDefaults, composeInterceptors, storedHeaders } from "../interceptors.ts"
import { CancellationScope } from "./cancellation.ts"
import { current } from "./internal/context.ts"
import { uuidFrom } from "./internal/random.ts"
import { ContinueAsNew, type WorkflowInfo } from "./internal/run.ts"

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
}

const ACTIVITY_OPTIONS = ["taskQueue", "startToCloseTimeout", "scheduleToCloseTimeout", "heartbeatTimeout", "retry"] satisfies Array<keyof ActivityOptions>
const RETRY_POLICY_OPTIONS = ["initialInterval", "backoffCoefficient", "maximumInterval", "maximumAttempts", "nonRetryableErrorTypes"] satisfies Array<keyof RetryPolicy>
const CHILD_OPTIONS = ["args", "workflowId", "taskQueue", "parentClosePolicy"] satisfies Array<keyof ChildWorkflowOptions>

/** The promise-returning view of an activities object. */
export type ActivityInterfaceFor<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never
}

/** A workflow function. */
export type Workflow = (...args: Array<any>) => Promise<unknown>

const resolveActivityOptions = (options: ActivityOptions): Omit<ActivityOptionsResolved, "taskQueue"> & { readonly taskQueue?: string } => {
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError({ message: "proxyActivities(options): options must be an object" })
  checkOptions("proxyActivities(options)", options, ACTIVITY_OPTIONS, UNSUPPORTED_ACTIVITY)
  checkOptions("proxyActivities(options).retry", options.retry, RETRY_POLICY_OPTIONS)
  const startToCloseMs = optionalMillis(options.startToCloseTimeout, "startToCloseTimeout")
  const scheduleToCloseMs = optionalMillis(options.scheduleToCloseTimeout, "scheduleToCloseTimeout")
  const heartbeatTimeoutMs = optionalMillis(options.heartbeatTimeout, "heartbeatTimeout")
  if (startToCloseMs === undefined && scheduleToCloseMs === undefined) {
    throw new InvalidArgumentError({ message: "proxyActivities(options): set startToCloseTimeout or scheduleToCloseTimeout" })
  }
  for (const [name, ms] of [["startToCloseTimeout", startToCloseMs], ["scheduleToCloseTimeout", scheduleToCloseMs]] as const) {
    if (ms === 0) throw new InvalidArgumentError({ message: `proxyActivities(options): ${name} must be greater than 0` })
  }
  return {
    ...(options.taskQueue === undefined ? {} : { taskQueue: options.taskQueue }),
    ...(startToCloseMs === undefined ? {} : { startToCloseMs }),
    ...(scheduleToCloseMs === undefined ? {} : { scheduleToCloseMs }),
    ...(heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs }),
    retry: resolveRetryPolicy(options.retry),
  }
}

/**
 * Activities as functions that schedule durable activity calls. Options are
 * validated here, so a bad timeout or retry policy fails when the module loads.
 */
export function proxyActivities<A = Record<string, (...args: Array<any>) => any>>(options: ActivityOptions): ActivityInterfaceFor<A> {
  const resolved = resolveActivityOptions(options)
  const options_ = options
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get(_, activityType) {
      if (typeof activityType !== "string") return undefined
      if (activityType === "then") return undefined // not a thenable
      return (...args: Array<unknown>) => {
        const { run, scope } = current(`activity ${activityType}`)
        const schedule = (type: string, input: ReadonlyArray<unknown>, given: ActivityOptions, headers?: Record<string, string | undefined>) => {
          const options = given === options_ ? resolved : resolveActivityOptions(given)
          return run.scheduleActivity(type, input, { ...options, taskQueue: options.taskQueue ?? run.info.taskQueue }, scope, headers)
        }
        if (run.outbound.length === 0) return schedule(activityType, args, options_)
        return composeInterceptors(run.outbound, "scheduleActivity", (input) => schedule(input.activityType, input.args, input.options, input.headers))({
          activityType,
          args,
          options: options_,
          headers: {},
        })
      }
    },
  })
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

const checkName = (kind: string, name: unknown): string => {
  if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError({ message: `${kind} name must be a non-empty string` })
  return name
}

/** Define a signal. */
export const defineSignal = <Args extends Array<any> = []>(name: string): SignalDefinition<Args> => ({ type: "signal", name: checkName("signal", name) })

/** Define a query. */
export const defineQuery = <Ret, Args extends Array<any> = []>(name: string): QueryDefinition<Ret, Args> => ({ type: "query", name: checkName("query", name) })

/** Set (or with `undefined`, remove) the handler of a signal or query. */
export function setHandler<Args extends Array<any>>(def: SignalDefinition<Args>, handler: ((...args: NoInfer<Args>) => void | Promise<void>) | undefined): void
export function setHandler<Ret, Args extends Array<any>>(def: QueryDefinition<Ret, Args>, handler: ((...args: NoInfer<Args>) => NoInfer<Ret>) | undefined): void
export function setHandler(def: SignalDefinition<any> | QueryDefinition<any, any>, handler: ((...args: Array<any>) => any) | undefined): void {
  const { run } = current("setHandler")
  if (handler !== undefined && typeof handler !== "function") throw new InvalidArgumentError({ message: `setHandler(${def.name}): handler must be a function` })
  if (def.type === "signal") run.setSignalHandler(def.name, handler)
  else run.setQueryHandler(def.name, handler)
}

/** Information about the running workflow. */
export const workflowInfo = (): WorkflowInfo => current("workflowInfo").run.info

/** A UUID that is the same on every replay of this run. */
export const uuid4 = (): string => uuidFrom(current("uuid4").run.random)

/** Options of a child workflow. */
export interface ChildWorkflowOptions<Args extends Array<any> = Array<any>> {
  readonly args?: Args
  /** Defaults to a deterministic uuid. */
  readonly workflowId?: string
  /** Defaults to the parent's task queue. */
  readonly taskQueue?: string
  /** What the parent's close does to the child if it is still open; default `ParentClosePolicy.TERMINATE`. */
  readonly parentClosePolicy?: ParentClosePolicy
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

const parentClosePolicyOf = (options: ChildWorkflowOptions): ParentClosePolicy => {
  const policy = options.parentClosePolicy ?? "TERMINATE"
  if (!Object.values(ParentClosePolicy).includes(policy)) {
    throw new InvalidArgumentError({ message: `child workflow: parentClosePolicy must be one of ${Object.values(ParentClosePolicy).join(", ")}; got ${JSON.stringify(policy)}` })
  }
  return policy
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
  checkOptions(`${caller}(workflow, options)`, options, CHILD_OPTIONS, UNSUPPORTED_CHILD)
  const start = (type: string, given: ChildWorkflowOptionsWithDefaults, headers?: Record<string, string | undefined>): [Promise<string>, Promise<unknown>] => {
    const child = run.startChild(workflowTypeOf(type), given.workflowId, given.taskQueue, given.args, scope, parentClosePolicyOf(given), headers)
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

/**
 * Close this run as CONTINUED_AS_NEW and start a fresh run of the same
 * workflow id with `args` and an empty journal (Temporal's `continueAsNew`).
 * Use it to bound history: see `workflowInfo().continueAsNewSuggested`.
 */
export function continueAsNew<F extends Workflow>(...args: Parameters<F>): Promise<never> {
  const { run } = current("continueAsNew")
  const reject = (input: ReadonlyArray<unknown>, workflowType: string, taskQueue: string, headers?: Record<string, string | undefined>): Promise<never> =>
    Promise.reject(new ContinueAsNew(input, workflowType, taskQueue, headers === undefined ? undefined : storedHeaders(headers, "continueAsNew")))
  if (run.outbound.length === 0) return reject(args, run.info.workflowType, run.info.taskQueue)
  return composeInterceptors(run.outbound, "continueAsNew", (input) => reject(input.args, input.options.workflowType, input.options.taskQueue, input.headers))({
    args,
    headers: {},
    options: { workflowType: run.info.workflowType, taskQueue: run.info.taskQueue },
  })
}

/**
 * Temporal's versioning: `if (patched("v2")) { new code } else { old code }`.
 * True for executions that reach this point with the new code; false when
 * replaying a history recorded before the patch existed.
 */
export const patched = (patchId: string): boolean => current("patched").run.patched(checkName("patch", patchId))

/** Once no execution from before `patched(id)` remains: keep only the new code, call this instead. */
export const deprecatePatch = (patchId: string): void => current("deprecatePatch").run.deprecatePatch(checkName("patch", patchId))
