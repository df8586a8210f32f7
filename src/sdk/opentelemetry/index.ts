/**
 * `hotmesh/opentelemetry`: OpenTelemetry tracing as interceptors, in the
 * shape of `@temporalio/interceptors-opentelemetry` — a client interceptor,
 * a workflow interceptors module (this module: it exports `interceptors`;
 * pass `workflowInterceptorsModule` in `WorkerOptions.interceptors.workflowModules`)
 * and an activity interceptor — with Temporal's span names, so dashboards
 * built for Temporal read them.
 *
 * The trace context travels in the calls' durable headers (`_tracer-data`,
 * written and read by the global propagator, e.g. W3C trace context), so one
 * trace spans client → workflow → activities → children across processes.
 * A workflow task gets one `RunWorkflow:<type>` span, and what its code did
 * hangs below it (`StartActivity:<name>`, `StartChildWorkflow:<type>`, ...);
 * a task that replays recorded history (after a cache eviction, or on another
 * worker) emits no spans, so every call is traced once.
 *
 * Only `@opentelemetry/api` is needed (an optional peer dependency of
 * hotmesh); without an SDK registered, its spans do nothing.
 */
import { fileURLToPath } from "node:url"
import { type Attributes, type Context, context, propagation, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api"
import type { Context as ActivityContext } from "../activity/index.ts"
import {
  type ActivityInboundCallsInterceptor,
  type ActivityInterceptorsFactory,
  defaultPayloadConverter,
  type Headers,
  type Next,
  type WorkflowClientInterceptor,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from "../interceptors.ts"
import { workflowInfo } from "../workflow/api.ts"
import { storage } from "../workflow/internal/context.ts"

/** The header that carries the trace context (Temporal's name). */
export const TRACE_HEADER = "_tracer-data"

/** Attribute keys (Temporal's, plus `hotmesh.*`). */
export const SpanAttributes = {
  WORKFLOW_ID: "temporalWorkflowId",
  RUN_ID: "run_id",
  ACTIVITY_ID: "temporalActivityId",
  UPDATE_ID: "temporalUpdateId",
  TASK_QUEUE: "hotmesh.task_queue",
  ATTEMPT: "hotmesh.attempt",
  /** Journal entries recorded before the workflow task: the task's place in the run's history. */
  HISTORY_LENGTH: "hotmesh.history_length",
  NAMESPACE: "hotmesh.namespace",
} as const

/** The path of this module, for `WorkerOptions.interceptors.workflowModules`. */
export const workflowInterceptorsModule: string = fileURLToPath(import.meta.url)

const TRACER_NAME = "hotmesh"
const defaultTracer = (): Tracer => trace.getTracer(TRACER_NAME)

/** Whether no OpenTelemetry SDK is registered (the API's global provider has no delegate): then nothing is traced. */
const noSdk = (): boolean => {
  const provider = trace.getTracerProvider() as { readonly getDelegateTracer?: (name: string) => Tracer | undefined }
  return typeof provider.getDelegateTracer === "function" && provider.getDelegateTracer(TRACER_NAME) === undefined
}

/** The context `headers` carry (none: the active one's root). */
const extract = (headers: Headers): Context | undefined => {
  const payload = headers[TRACE_HEADER]
  if (payload === undefined) return undefined
  const carrier = defaultPayloadConverter.fromPayload<Record<string, string>>(payload)
  return typeof carrier === "object" && carrier !== null ? propagation.extract(context.active(), carrier) : undefined
}

/** `headers` with `ctx` written in. */
const inject = <H extends Headers>(headers: H, ctx: Context): H => {
  const carrier: Record<string, string> = {}
  propagation.inject(ctx, carrier)
  return Object.keys(carrier).length === 0 ? headers : { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrier) }
}

const failed = (span: Span, error: unknown): void => {
  span.recordException(error instanceof Error ? error : String(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}

/**
 * A span that records nothing and carries no trace (no SDK registered, no
 * incoming context): there is nothing to propagate, so the call runs bare.
 */
const inert = (span: Span): boolean => !span.isRecording() && !trace.isSpanContextValid(span.spanContext())

/** Run `fn` in a span that ends when it settles (recording a failure). */
const inSpan = async <T>(span: Span, parent: Context, fn: (ctx: Context) => Promise<T>): Promise<T> => {
  const ctx = trace.setSpan(parent, span)
  try {
    return await context.with(ctx, () => fn(ctx))
  } catch (error) {
    failed(span, error)
    throw error
  } finally {
    span.end()
  }
}

/** Options of the interceptors. */
export interface OpenTelemetryInterceptorOptions {
  /** Default: the global tracer provider's tracer `"hotmesh"`. */
  readonly tracer?: Tracer
}

/**
 * Client interceptor (Temporal's `OpenTelemetryWorkflowClientInterceptor`):
 * a span per call, child of the active context, its context sent in the
 * call's headers.
 */
export class OpenTelemetryWorkflowClientInterceptor implements WorkflowClientInterceptor {
  readonly #tracer: Tracer
  constructor(options: OpenTelemetryInterceptorOptions = {}) {
    this.#tracer = options.tracer ?? defaultTracer()
  }

  #call<T>(name: string, attributes: Attributes, fn: (ctx: Context) => Promise<T>): Promise<T> {
    const parent = context.active()
    const span = this.#tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent)
    return inert(span) ? fn(parent) : inSpan(span, parent, fn)
  }

  start: NonNullable<WorkflowClientInterceptor["start"]> = (input, next) =>
    this.#call(`StartWorkflow:${input.workflowType}`, { [SpanAttributes.WORKFLOW_ID]: input.options.workflowId, [SpanAttributes.TASK_QUEUE]: input.options.taskQueue }, (ctx) =>
      next({ ...input, headers: inject(input.headers, ctx) }))

  signalWithStart: NonNullable<WorkflowClientInterceptor["signalWithStart"]> = (input, next) =>
    this.#call(`SignalWithStartWorkflow:${input.workflowType}`, { [SpanAttributes.WORKFLOW_ID]: input.options.workflowId, [SpanAttributes.TASK_QUEUE]: input.options.taskQueue }, (ctx) =>
      next({ ...input, headers: inject(input.headers, ctx) }))

  signal: NonNullable<WorkflowClientInterceptor["signal"]> = (input, next) =>
    this.#call(`SignalWorkflow:${input.signalName}`, { [SpanAttributes.WORKFLOW_ID]: input.workflowExecution.workflowId }, (ctx) =>
      next({ ...input, headers: inject(input.headers, ctx) }))

  query: NonNullable<WorkflowClientInterceptor["query"]> = (input, next) =>
    this.#call(`QueryWorkflow:${input.queryType}`, { [SpanAttributes.WORKFLOW_ID]: input.workflowExecution.workflowId }, (ctx) =>
      next({ ...input, headers: inject(input.headers, ctx) }))

  startUpdate: NonNullable<WorkflowClientInterceptor["startUpdate"]> = (input, next) =>
    this.#call(
      `StartWorkflowUpdate:${input.updateName}`,
      { [SpanAttributes.WORKFLOW_ID]: input.workflowExecution.workflowId, ...(input.options.updateId === undefined ? {} : { [SpanAttributes.UPDATE_ID]: input.options.updateId }) },
      (ctx) => next({ ...input, headers: inject(input.headers, ctx) }),
    )

  startUpdateWithStart: NonNullable<WorkflowClientInterceptor["startUpdateWithStart"]> = (input, next) =>
    this.#call(
      `UpdateWithStartWorkflow:${input.workflowType}`,
      { [SpanAttributes.WORKFLOW_ID]: input.workflowStartOptions.workflowId, [SpanAttributes.TASK_QUEUE]: input.workflowStartOptions.taskQueue },
      (ctx) => next({ ...input, workflowStartHeaders: inject(input.workflowStartHeaders, ctx), updateHeaders: inject(input.updateHeaders, ctx) }),
    )
}

/**
 * Activity inbound interceptor (Temporal's `OpenTelemetryActivityInboundInterceptor`):
 * a `RunActivity:<name>` span per attempt, child of the `StartActivity` span
 * that scheduled it, active while the activity runs (so spans the activity
 * makes hang below it).
 */
export class OpenTelemetryActivityInboundInterceptor implements ActivityInboundCallsInterceptor {
  readonly #tracer: Tracer
  constructor(private readonly ctx: ActivityContext, options: OpenTelemetryInterceptorOptions = {}) {
    this.#tracer = options.tracer ?? defaultTracer()
  }

  execute: NonNullable<ActivityInboundCallsInterceptor["execute"]> = (input, next) => {
    const info = this.ctx.info
    const parent = extract(input.headers) ?? context.active()
    const span = this.#tracer.startSpan(`RunActivity:${info.activityType}`, {
      kind: SpanKind.SERVER,
      attributes: {
        [SpanAttributes.WORKFLOW_ID]: info.workflowExecution.workflowId,
        [SpanAttributes.RUN_ID]: info.workflowExecution.runId,
        [SpanAttributes.ACTIVITY_ID]: info.activityId,
        [SpanAttributes.TASK_QUEUE]: info.taskQueue,
        [SpanAttributes.ATTEMPT]: info.attempt,
        [SpanAttributes.NAMESPACE]: info.workflowNamespace,
      },
    }, parent)
    return inert(span) ? next(input) : inSpan(span, parent, () => next(input))
  }
}

/** The activity interceptors factory for `WorkerOptions.interceptors.activity`. */
export const makeActivityInterceptors = (options: OpenTelemetryInterceptorOptions = {}): ActivityInterceptorsFactory => (ctx) =>
  options.tracer === undefined && noSdk() ? {} : { inbound: new OpenTelemetryActivityInboundInterceptor(ctx, options) }

/**
 * The workflow interceptors (this module's `interceptors` export, made once
 * per run). Spans are made only in workflow tasks that run new code, never
 * while a task replays; what the code schedules (activities, children,
 * signals) gets a span that ends when the command is made, and the context
 * that the scheduled work continues from goes in its headers.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  // No SDK registered when the run starts: the run is not traced, and pays nothing for it.
  if (noSdk()) return {}
  const tracer = defaultTracer()
  // Spans are made outside the workflow's context: there \`Math.random\` is the run's seeded
  // generator (the same ids on every replay and every worker) and \`Date\` the workflow's time.
  const startSpan = (...args: Parameters<Tracer["startSpan"]>): Span => storage.exit(() => tracer.startSpan(...args))
  const end = (span: Span): void => storage.exit(() => span.end())
  const fail = (span: Span, error: unknown): void => storage.exit(() => failed(span, error))
  const info = workflowInfo()
  /** The start's context (the client's `StartWorkflow` span, a parent's `StartChildWorkflow`). */
  let startContext: Context | undefined
  /** The current workflow task's span context, while a new (not replayed) task runs. */
  let task: Context | undefined
  /** Handler spans begun in the current task: ended when it ends, if their handler has not settled. */
  const open = new Set<Span>()
  const runAttributes = (): Attributes => ({
    [SpanAttributes.WORKFLOW_ID]: info.workflowId,
    [SpanAttributes.RUN_ID]: info.runId,
    [SpanAttributes.TASK_QUEUE]: info.taskQueue,
    [SpanAttributes.NAMESPACE]: info.namespace,
  })
  /** A span that ends as soon as the command is made; `next` gets its context in the headers. */
  const scheduling = <I extends { readonly headers: Headers }, O>(name: string, attributes: Attributes, input: I, next: (input: I) => O): O => {
    if (task === undefined) return next(input)
    const span = startSpan(name, { kind: SpanKind.CLIENT, attributes: { ...runAttributes(), ...attributes } }, task)
    try {
      return next({ ...input, headers: inject(input.headers, trace.setSpan(task, span)) })
    } catch (error) {
      fail(span, error)
      throw error
    } finally {
      end(span)
    }
  }
  /** A handler's span: child of the caller's context (else the task's), ended when the handler settles or the task ends. */
  const handling = <T>(name: string, headers: Headers, attributes: Attributes, fn: () => Promise<T>): Promise<T> => {
    // Signals and updates are delivered in workflow tasks: none while a task replays.
    if (task === undefined) return fn()
    const parent = extract(headers) ?? task
    const span = startSpan(name, { kind: SpanKind.SERVER, attributes: { ...runAttributes(), ...attributes } }, parent)
    open.add(span)
    const settle = (): void => {
      if (open.delete(span)) end(span)
    }
    return fn().then(
      (value) => (settle(), value),
      (error: unknown) => {
        if (open.has(span)) fail(span, error)
        settle()
        throw error
      },
    )
  }
  const inbound: WorkflowInboundCallsInterceptor = {
    async runTask(input, next: Next<WorkflowInboundCallsInterceptor, "runTask">) {
      startContext ??= extract(input.headers) ?? context.active()
      if (input.replaying) return next(input)
      const span = startSpan(`RunWorkflow:${info.workflowType}`, {
        kind: SpanKind.SERVER,
        attributes: { ...runAttributes(), [SpanAttributes.HISTORY_LENGTH]: input.historyLength },
      }, startContext)
      // No SDK and no trace to continue: the task, and everything in it, runs untraced.
      if (inert(span)) return next(input)
      task = trace.setSpan(startContext, span)
      try {
        await next(input)
      } catch (error) {
        fail(span, error)
        throw error
      } finally {
        task = undefined
        for (const handler of open) end(handler)
        open.clear()
        end(span)
      }
    },
    handleSignal: (input, next) => handling(`HandleSignal:${input.signalName}`, input.headers, {}, () => next(input)),
    handleUpdate: (input, next) => handling(`HandleUpdate:${input.name}`, input.headers, { [SpanAttributes.UPDATE_ID]: input.updateId }, () => next(input)),
    validateUpdate(input, next) {
      if (task === undefined) return next(input)
      const parent = extract(input.headers) ?? task
      const span = startSpan(`ValidateUpdate:${input.name}`, { kind: SpanKind.SERVER, attributes: { ...runAttributes(), [SpanAttributes.UPDATE_ID]: input.updateId } }, parent)
      try {
        next(input)
      } catch (error) {
        fail(span, error)
        throw error
      } finally {
        end(span)
      }
    },
    handleQuery(input, next) {
      // Queries never replay; they run between tasks, so their parent is the caller's span.
      const parent = extract(input.headers) ?? startContext ?? context.active()
      return inSpan(startSpan(`HandleQuery:${input.queryName}`, { kind: SpanKind.SERVER, attributes: runAttributes() }, parent), parent, () => next(input))
    },
  }
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => scheduling(`StartActivity:${input.activityType}`, {}, input, next),
    startChildWorkflowExecution: (input, next) =>
      scheduling(`StartChildWorkflow:${input.workflowType}`, { "hotmesh.child_workflow_id": input.options.workflowId }, input, next),
    signalWorkflow: (input, next) => scheduling(`SignalWorkflow:${input.signalName}`, {}, input, next),
    // The next run's tasks hang below this span.
    continueAsNew: (input, next) => scheduling(`ContinueAsNew:${input.options.workflowType}`, {}, input, next),
    startTimer(input, next) {
      if (task === undefined) return next(input)
      const span = startSpan("StartTimer", { kind: SpanKind.INTERNAL, attributes: { ...runAttributes(), "hotmesh.timer_ms": input.durationMs } }, task)
      try {
        return next(input)
      } finally {
        end(span)
      }
    },
  }
  return { inbound: [inbound], outbound: [outbound] }
}
