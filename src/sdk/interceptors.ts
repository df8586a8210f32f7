/**
 * Interceptors, in Temporal's shapes (`@temporalio/workflow`, `worker` and
 * `client` interceptor interfaces): each method takes `(input, next)`, may
 * change the input (e.g. add headers) before calling `next`, and the output
 * after. Interceptors of one kind run in array order, the first outermost.
 *
 * Headers are named payloads (`defaultPayloadConverter.toPayload(value)`)
 * that travel durably: a client start's headers reach the workflow's
 * inbound `execute`, a `scheduleActivity`'s reach the activity's inbound
 * `execute`, a child start's and a continue-as-new's reach the new run's
 * `execute`, a signal's and a query's reach `handleSignal` / `handleQuery`.
 *
 * Differences from Temporal: inputs carry no `seq` (sequence numbers are
 * assigned when the call reaches HotMesh), `internals` interceptors are not
 * supported (there is no activation protocol to intercept), and the client's
 * `terminate`/`cancel`/`describe` resolve to HotMesh's results, not protos.
 */
import { InvalidArgumentError } from "../core/errors.ts"
import type { Headers as StoredHeaders } from "../core/payload.ts"
import { decode, encode, type Payload } from "../core/payload.ts"
import type { Context } from "./activity/index.ts"
import type { WorkflowExecutionDescription, WorkflowSignalWithStartOptions, WorkflowStartOptions, WorkflowUpdateOptions, WorkflowUpdateStage } from "./client.ts"
import type { ActivityOptions, ChildWorkflowOptions, LocalActivityOptions } from "./workflow/api.ts"

/** Named payloads carried with a call (Temporal's `Headers`). */
export type Headers = Record<string, Payload>

/** Temporal's `defaultPayloadConverter`: HotMesh payloads are JSON text. */
export const defaultPayloadConverter = {
  toPayload: (value: unknown): Payload => encode(value, "payload"),
  fromPayload: <T = unknown>(payload: Payload): T => decode(payload) as T,
}

type AnyFunc = (...args: Array<any>) => any
type OmitLast<T> = T extends [...infer Rest, any] ? Rest : never
type OmitLastParam<F extends AnyFunc> = (...args: OmitLast<Parameters<F>>) => ReturnType<F>
/** The type of `next` for method `FN` of interceptor interface `IF` (Temporal's `Next`). */
export type Next<IF, FN extends keyof IF> = Required<IF>[FN] extends AnyFunc ? OmitLastParam<Required<IF>[FN]> : never

/** Compose `interceptors`' `method` around `next`, the first interceptor outermost (Temporal's `composeInterceptors`). */
export function composeInterceptors<I, M extends keyof I>(interceptors: ReadonlyArray<I>, method: M, next: Next<I, M>): Next<I, M> {
  for (let i = interceptors.length - 1; i >= 0; --i) {
    const interceptor = interceptors[i] as I
    const fn = interceptor[method] as AnyFunc | undefined
    if (fn !== undefined) {
      const inner = next
      next = ((input: unknown) => fn.call(interceptor, input, inner)) as unknown as Next<I, M>
    }
  }
  return next
}

/** Headers as stored: string payloads only (an `undefined` payload is dropped, as JSON would). */
export const storedHeaders = (headers: Headers, where: string): StoredHeaders | undefined => {
  if (typeof headers !== "object" || headers === null) throw new InvalidArgumentError({ message: `${where}: headers must be an object of payloads` })
  const entries = Object.entries(headers).filter(([, value]) => value !== undefined)
  for (const [name, value] of entries) {
    if (typeof value !== "string") throw new InvalidArgumentError({ message: `${where}: header "${name}" must be a payload (defaultPayloadConverter.toPayload(value))` })
  }
  return entries.length === 0 ? undefined : Object.fromEntries(entries) as StoredHeaders
}

// ---- workflow interceptors (run as workflow code: replayed, deterministic) ----

/** Input of `execute`. */
export interface WorkflowExecuteInput {
  readonly args: Array<unknown>
  readonly headers: Headers
}
/** Input of `handleSignal`. */
export interface SignalInput {
  readonly signalName: string
  readonly args: Array<unknown>
  readonly headers: Headers
}
/** Input of `handleQuery`. */
export interface QueryInput {
  readonly queryId: string
  readonly queryName: string
  readonly args: Array<unknown>
  readonly headers: Headers
}
/** Input of `handleUpdate` / `validateUpdate`. */
export interface UpdateInput {
  readonly updateId: string
  readonly name: string
  readonly args: Array<unknown>
  readonly headers: Headers
}

/**
 * Input of `runTask` (a HotMesh addition): one workflow task — a batch of
 * jobs delivered to the run and the code run until it blocks again.
 */
export interface WorkflowTaskInput {
  /** Journal entries recorded before this task. */
  readonly historyLength: number
  /** Whether this task replays recorded history (after a cache eviction or on another worker): it makes no new commands. */
  readonly replaying: boolean
  /** The headers the run was started with (as `execute` sees them). */
  readonly headers: Headers
}

/** Calls into workflow code (Temporal's `WorkflowInboundCallsInterceptor`, plus HotMesh's `runTask`). */
export interface WorkflowInboundCallsInterceptor {
  execute?: (input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, "execute">) => Promise<unknown>
  handleSignal?: (input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, "handleSignal">) => Promise<void>
  handleQuery?: (input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, "handleQuery">) => Promise<unknown>
  handleUpdate?: (input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, "handleUpdate">) => Promise<unknown>
  validateUpdate?: (input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, "validateUpdate">) => void
  /**
   * HotMesh's addition: wraps each workflow task of the run, replayed ones
   * included (`input.replaying`), e.g. to trace one span per task. Await
   * `next(input)`; the task's commands are what the code made inside it.
   */
  runTask?: (input: WorkflowTaskInput, next: Next<WorkflowInboundCallsInterceptor, "runTask">) => Promise<void>
}

/** Input of `scheduleActivity`. */
export interface ActivityInput {
  readonly activityType: string
  readonly args: Array<unknown>
  readonly options: ActivityOptions
  readonly headers: Headers
}
/** Input of `scheduleLocalActivity` (a `proxyLocalActivities` call). */
export interface LocalActivityInput {
  readonly activityType: string
  readonly args: Array<unknown>
  readonly options: LocalActivityOptions
  readonly headers: Headers
}
/** Input of `startTimer`. */
export interface TimerInput {
  readonly durationMs: number
}
/** A child's options with the defaults filled in (Temporal's `ChildWorkflowOptionsWithDefaults`). */
export type ChildWorkflowOptionsWithDefaults = ChildWorkflowOptions & { readonly workflowId: string; readonly taskQueue: string; readonly args: Array<unknown> }
/** Input of `startChildWorkflowExecution`. */
export interface StartChildWorkflowExecutionInput {
  readonly workflowType: string
  readonly options: ChildWorkflowOptionsWithDefaults
  readonly headers: Headers
}
/** Input of `signalWorkflow` (a signal to another workflow). */
export interface SignalWorkflowInput {
  readonly signalName: string
  readonly args: Array<unknown>
  readonly target: { readonly type: "external"; readonly workflowExecution: { readonly workflowId: string; readonly runId?: string } } | { readonly type: "child"; readonly childWorkflowId: string }
  readonly headers: Headers
}
/** What a continue-as-new starts. */
export interface ContinueAsNewInputOptions {
  readonly workflowType: string
  readonly taskQueue: string
}
/** Input of `continueAsNew`. */
export interface ContinueAsNewInput {
  readonly args: Array<unknown>
  readonly headers: Headers
  readonly options: ContinueAsNewInputOptions
}
/** Input of `getLogAttributes`: the attributes so far. */
export type GetLogAttributesInput = Record<string, unknown>

/** Calls out of workflow code (Temporal's `WorkflowOutboundCallsInterceptor`). */
export interface WorkflowOutboundCallsInterceptor {
  scheduleActivity?: (input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, "scheduleActivity">) => Promise<unknown>
  /** Around each `proxyLocalActivities` call (its headers reach the activity's inbound `execute`). */
  scheduleLocalActivity?: (input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, "scheduleLocalActivity">) => Promise<unknown>
  startTimer?: (input: TimerInput, next: Next<WorkflowOutboundCallsInterceptor, "startTimer">) => Promise<void>
  /** Resolves to `[started (the child's run id), completed (its result)]`. */
  startChildWorkflowExecution?: (
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, "startChildWorkflowExecution">,
  ) => Promise<[Promise<string>, Promise<unknown>]>
  signalWorkflow?: (input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, "signalWorkflow">) => Promise<void>
  continueAsNew?: (input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, "continueAsNew">) => Promise<never>
  getLogAttributes?: (input: GetLogAttributesInput, next: Next<WorkflowOutboundCallsInterceptor, "getLogAttributes">) => Record<string, unknown>
}

/** Temporal's internals interceptors: not supported by HotMesh (a factory returning any fails the workflow task). */
export type WorkflowInternalsInterceptor = Record<string, never>

/** What a workflow interceptors factory returns. */
export interface WorkflowInterceptors {
  inbound?: Array<WorkflowInboundCallsInterceptor>
  outbound?: Array<WorkflowOutboundCallsInterceptor>
  internals?: Array<WorkflowInternalsInterceptor>
}
/** Exported as `interceptors` by a module of `WorkerOptions.interceptors.workflowModules`; called once per run, in the run's context. */
export type WorkflowInterceptorsFactory = () => WorkflowInterceptors

// ---- activity interceptors ----

/** Input of an activity's inbound `execute`. */
export interface ActivityExecuteInput {
  readonly args: ReadonlyArray<unknown>
  readonly headers: Headers
}
/** Calls into activity code (Temporal's `ActivityInboundCallsInterceptor`). */
export interface ActivityInboundCallsInterceptor {
  execute?: (input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, "execute">) => Promise<unknown>
}
/** What an activity interceptors factory returns (Temporal's `outbound`, for log attributes, is not supported yet). */
export interface ActivityInterceptors {
  inbound?: ActivityInboundCallsInterceptor
}
/** Called once per activity attempt with its `Context` (Temporal's `ActivityInterceptorsFactory`). */
export type ActivityInterceptorsFactory = (ctx: Context) => ActivityInterceptors

/** `WorkerOptions.interceptors` (Temporal's `WorkerInterceptors`, in part). */
export interface WorkerInterceptors {
  /** Modules exporting `interceptors: WorkflowInterceptorsFactory`; the worker imports them (no sandbox). */
  readonly workflowModules?: ReadonlyArray<string>
  readonly activity?: ReadonlyArray<ActivityInterceptorsFactory>
}

// ---- client interceptors ----

/** A workflow execution as client interceptors name it. */
export interface WorkflowExecution {
  readonly workflowId: string
  readonly runId?: string
}
/** Input of `start`. */
export interface WorkflowStartInput {
  readonly workflowType: string
  readonly headers: Headers
  readonly options: WorkflowStartOptions
}
/** Input of `signalWithStart`. */
export interface WorkflowSignalWithStartInput {
  readonly workflowType: string
  readonly signalName: string
  readonly signalArgs: ReadonlyArray<unknown>
  readonly headers: Headers
  readonly options: Omit<WorkflowSignalWithStartOptions, "signal" | "signalArgs">
}
/** Input of `signal`. */
export interface WorkflowSignalInput {
  readonly signalName: string
  readonly args: ReadonlyArray<unknown>
  readonly workflowExecution: WorkflowExecution
  readonly headers: Headers
}
/** Input of `query`. */
export interface WorkflowQueryInput {
  readonly queryType: string
  readonly args: ReadonlyArray<unknown>
  readonly workflowExecution: WorkflowExecution
  readonly headers: Headers
}
/** Input of `startUpdate` (Temporal's `WorkflowStartUpdateInput`). */
export interface WorkflowStartUpdateInput {
  readonly updateName: string
  readonly args: ReadonlyArray<unknown>
  readonly workflowExecution: WorkflowExecution
  readonly firstExecutionRunId?: string
  readonly headers: Headers
  readonly options: WorkflowUpdateOptions & { readonly waitForStage: WorkflowUpdateStage }
}
/** Output of `startUpdate`: the update's id and the run it was sent to. */
export interface WorkflowStartUpdateOutput {
  readonly updateId: string
  readonly workflowRunId: string
}
/** Input of `startUpdateWithStart` (Temporal's `WorkflowStartUpdateWithStartInput`). */
export interface WorkflowStartUpdateWithStartInput {
  readonly workflowType: string
  readonly workflowStartOptions: WorkflowStartOptions
  readonly workflowStartHeaders: Headers
  readonly updateName: string
  readonly updateArgs: ReadonlyArray<unknown>
  readonly updateOptions: WorkflowUpdateOptions & { readonly waitForStage: WorkflowUpdateStage }
  readonly updateHeaders: Headers
}
/** Output of `startUpdateWithStart`: the run that got the update (started or existing) and the update's id. */
export interface WorkflowStartUpdateWithStartOutput {
  readonly workflowExecution: { readonly workflowId: string; readonly runId: string }
  readonly updateId: string
}
/** Input of `terminate`. */
export interface WorkflowTerminateInput {
  readonly workflowExecution: WorkflowExecution
  readonly reason?: string
  readonly firstExecutionRunId?: string
}
/** Input of `cancel`. */
export interface WorkflowCancelInput {
  readonly workflowExecution: WorkflowExecution
  readonly firstExecutionRunId?: string
}
/** Input of `describe`. */
export interface WorkflowDescribeInput {
  readonly workflowExecution: WorkflowExecution
}

/** Calls a client makes on workflows (Temporal's `WorkflowClientInterceptor`). */
export interface WorkflowClientInterceptor {
  /** Resolves to the new run's id. */
  start?: (input: WorkflowStartInput, next: Next<WorkflowClientInterceptor, "start">) => Promise<string>
  /** Resolves to the id of the run that got the signal. */
  signalWithStart?: (input: WorkflowSignalWithStartInput, next: Next<WorkflowClientInterceptor, "signalWithStart">) => Promise<string>
  signal?: (input: WorkflowSignalInput, next: Next<WorkflowClientInterceptor, "signal">) => Promise<void>
  query?: (input: WorkflowQueryInput, next: Next<WorkflowClientInterceptor, "query">) => Promise<unknown>
  terminate?: (input: WorkflowTerminateInput, next: Next<WorkflowClientInterceptor, "terminate">) => Promise<unknown>
  cancel?: (input: WorkflowCancelInput, next: Next<WorkflowClientInterceptor, "cancel">) => Promise<unknown>
  describe?: (input: WorkflowDescribeInput, next: Next<WorkflowClientInterceptor, "describe">) => Promise<WorkflowExecutionDescription>
  /** `handle.executeUpdate` / `startUpdate` (`waitForStage` says which; both send through here). */
  startUpdate?: (input: WorkflowStartUpdateInput, next: Next<WorkflowClientInterceptor, "startUpdate">) => Promise<WorkflowStartUpdateOutput>
  /** `client.workflow.executeUpdateWithStart` / `startUpdateWithStart`. */
  startUpdateWithStart?: (input: WorkflowStartUpdateWithStartInput, next: Next<WorkflowClientInterceptor, "startUpdateWithStart">) => Promise<WorkflowStartUpdateWithStartOutput>
}

/** `ClientOptions.interceptors` (Temporal's `ClientInterceptors`, in part). */
export interface ClientInterceptors {
  readonly workflow?: ReadonlyArray<WorkflowClientInterceptor>
}
