/**
 * One live workflow run: the suspended async function plus the bookkeeping
 * that connects its durable calls to jobs.
 *
 * `activate(jobs)` delivers a batch of jobs (resolving the promises the code
 * awaits, calling signal handlers, cancelling the root scope), lets the code
 * run until it is blocked on durable calls again, and returns the commands
 * it made. The same batches produce the same commands, which is what replay
 * relies on: the run never reads the clock, randomness or I/O itself.
 */
import type { FailureInfo } from "../../../core/failure.ts"
import { type AttributeUpdates, applyUpdates, type Job, type MemoUpdates, type WorkflowCommand } from "../../../core/journal.ts"
import type { ActivityOptionsResolved, ParentClosePolicy, ParentRef, WorkflowIdReusePolicy } from "../../../core/messages.ts"
import { decode, decodeArgs, encode, encodeArgs, type Headers as StoredHeaders, type Payload } from "../../../core/payload.ts"
import { composeInterceptors, type Headers, storedHeaders, type WorkflowInterceptors, type WorkflowInterceptorsFactory } from "../../interceptors.ts"
import type { StoredAttributes } from "../../../core/searchAttributes.ts"
import type { PayloadGuard } from "../../internal/payloadGuard.ts"
import { QueryNotRegisteredError, WorkflowExecutionAlreadyStartedError } from "../../errors.ts"
import {
  ActivityFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  fromFailureInfo,
  isCancellation,
  isTemporalFailure,
  toFailureInfo,
} from "../../failures.ts"
import { decodedMemo, type StartVisibility, typedAttributesOf, TypedSearchAttributes } from "../../searchAttributes.ts"
import { CancellationScope } from "../cancellation.ts"
import { log } from "../log.ts"
import { storage, type UpdateInfo } from "./context.ts"
import { RealDate } from "./determinism.ts"
import { makeRandom, uuidFrom } from "./random.ts"

/** A workflow function as registered on a worker. */
export type WorkflowFunction = (...args: Array<any>) => Promise<unknown>

/** What `workflowInfo()` returns (Temporal's `WorkflowInfo`, in part). */
export interface WorkflowInfo {
  /** The connection's namespace. */
  readonly namespace: string
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  readonly taskQueue: string
  readonly startTime: Date
  readonly parent?: { readonly workflowId: string; readonly runId: string }
  /** The execution's `workflowExecutionTimeout` (spans continue-as-new), if it has one. */
  readonly executionTimeoutMs?: number
  /** When the execution times out, if it has an execution timeout. */
  readonly executionExpirationTime?: Date
  /** This run's `workflowRunTimeout`, if it has one. */
  readonly runTimeoutMs?: number
  /** The cron schedule of a cron workflow. */
  readonly cronSchedule?: string
  /** Journal entries recorded before the current activation. */
  historyLength: number
  /** Time of the current activation (deterministic: taken from the journal). */
  currentTime: Date
  /** True once the history is long enough that the workflow should `continueAsNew`. */
  continueAsNewSuggested: boolean
  /** The run's search attributes; `upsertSearchAttributes` updates them at the call. */
  typedSearchAttributes: TypedSearchAttributes
  /** The run's memo, if it has one; `upsertMemo` updates it at the call. */
  memo?: Record<string, unknown>
}

/** What a run's info is built from; the rest changes as the run goes. */
export type StartInfo = Omit<WorkflowInfo, "historyLength" | "currentTime" | "continueAsNewSuggested" | "typedSearchAttributes" | "memo">

/** Temporal's `ChildWorkflowCancellationType`: whether a cancelled child is told, and when the parent's call settles. */
export type ChildCancellationType = "ABANDON" | "TRY_CANCEL" | "WAIT_CANCELLATION_REQUESTED" | "WAIT_CANCELLATION_COMPLETED"

/** How a child starts besides its type, id, queue and arguments: its policies, timeouts, cron schedule, search attributes and memo. */
export type ChildStartOptions = StartVisibility & {
  readonly parentClosePolicy: ParentClosePolicy
  /** Set by outbound interceptors (`startChildWorkflowExecution`). */
  readonly headers?: Headers
  readonly runTimeoutMs?: number
  readonly executionTimeoutMs?: number
  readonly cronSchedule?: string
  readonly workflowIdReusePolicy?: WorkflowIdReusePolicy
  /** Default `WAIT_CANCELLATION_COMPLETED`, as in Temporal. */
  readonly cancellationType?: ChildCancellationType
  readonly staticSummary?: string
  readonly staticDetails?: string
}

/** Thrown by `continueAsNew()`; the run turns it into a ContinueAsNew command. */
export class ContinueAsNew extends Error {
  override readonly name = "ContinueAsNew"
  constructor(
    readonly args: ReadonlyArray<unknown>,
    readonly workflowType: string,
    readonly taskQueue: string,
    /** The next run's search attributes and memo (and run timeout), where they replace the inherited ones. */
    readonly visibility: StartVisibility & { readonly runTimeoutMs?: number } = {},
    /** Headers set by outbound interceptors, for the next run's inbound `execute`. */
    readonly headers?: StoredHeaders,
  ) {
    super("Workflow continued as new")
  }
}

interface PendingCall {
  readonly resolve: (payload: Payload) => void
  readonly reject: (failure: FailureInfo) => void
}

interface Condition {
  readonly fn: () => boolean
  readonly resolve: () => void
}

type Handler = (...args: Array<any>) => unknown

/** What happens to an update handler still running when the workflow closes (Temporal's `HandlerUnfinishedPolicy`). */
export type UnfinishedPolicy = "WARN_AND_ABANDON" | "ABANDON"

/** A registered update handler. */
export interface UpdateHandler {
  readonly handler: Handler
  readonly validator?: Handler
  readonly unfinishedPolicy: UnfinishedPolicy
}

interface UpdateRequest {
  readonly updateId: string
  readonly name: string
  readonly args: ReadonlyArray<Payload>
  readonly headers?: StoredHeaders
}

interface BufferedSignal {
  readonly name: string
  readonly args: ReadonlyArray<Payload>
  readonly headers?: StoredHeaders
}

const drainMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Satisfied conditions one activation may resume before it is considered stuck. */
const MAX_CONDITION_PASSES = 10_000

/** A live workflow run. Internal: used by the worker's executor. */
export class WorkflowRun {
  readonly info: WorkflowInfo
  readonly rootScope = new CancellationScope()
  readonly random: () => number
  #seq = 0
  #commands: Array<WorkflowCommand> = []
  #closed = false
  #taskError: unknown = undefined
  readonly #calls = new Map<number, PendingCall>()
  // The maps and sets below are made on first write: most runs never use them, and an empty Map costs ~200 B per cached run.
  #childStarts: Map<number, PendingCall> | undefined = undefined
  #externalRequests: Map<number, PendingCall> | undefined = undefined
  /** Children cancelled as WAIT_CANCELLATION_REQUESTED: what their `ChildCancelDelivered` does, by sequence number. */
  #childCancelsDelivered: Map<number, () => void> | undefined = undefined
  #conditions: Set<Condition> | undefined = undefined
  #signalHandlers: Map<string, Handler> | undefined = undefined
  #queryHandlers: Map<string, Handler> | undefined = undefined
  #buffered: Array<BufferedSignal> = []
  #updateHandlers: Map<string, UpdateHandler> | undefined = undefined
  #bufferedUpdates: Array<UpdateRequest> = []
  /** Handlers still running (async signal handlers, update handlers), for `allHandlersFinished()`. */
  #inProgress: Set<{ readonly update?: UpdateInfo; readonly policy: UnfinishedPolicy }> | undefined = undefined
  #patches: Map<string, boolean> | undefined = undefined
  /** During a replayed activation: the patch markers that task recorded. */
  #replayPatches: ReadonlySet<string> | undefined = undefined
  /** The stored forms behind `info.typedSearchAttributes` and `info.memo`. */
  #searchAttributes: StoredAttributes = {}
  #memo: Readonly<Record<string, Payload>> | undefined = undefined
  /** The interceptors of this run (made by the worker's factories when the run starts). */
  #interceptors: Required<Omit<WorkflowInterceptors, "internals">> = { inbound: [], outbound: [] }
  #interceptorsMade = false
  /** The start's headers (from its `WorkflowStarted` job), for `runTask` interceptors. */
  #startHeaders: Headers = {}

  constructor(
    info: StartInfo,
    private readonly fn: WorkflowFunction,
    private readonly continueAsNewSuggestedAt = 10_000,
    private readonly payloads?: PayloadGuard,
    private readonly interceptorFactories: ReadonlyArray<WorkflowInterceptorsFactory> = [],
  ) {
    this.info = { ...info, historyLength: 0, currentTime: info.startTime, continueAsNewSuggested: false, typedSearchAttributes: new TypedSearchAttributes() }
    this.random = makeRandom(info.runId)
  }

  /** Whether the current activation replays recorded history (workflow `log` is silent then). */
  get replaying(): boolean {
    return this.#replayPatches !== undefined
  }

  /** Whether the code has completed, failed or been cancelled. */
  get closed(): boolean {
    return this.#closed
  }

  /** Deliver `jobs`, run the code until it blocks, return the commands it made. Throws a task failure. */
  async activate(jobs: ReadonlyArray<Job>, historyLength: number, replayPatches?: ReadonlySet<string>): Promise<Array<WorkflowCommand>> {
    this.info.historyLength = historyLength
    this.info.continueAsNewSuggested = historyLength >= this.continueAsNewSuggestedAt
    this.#replayPatches = replayPatches
    const first = jobs[0]
    if (first !== undefined) this.info.currentTime = new RealDate(first.at)
    for (const job of jobs) if (job.type === "WorkflowStarted") this.#startHeaders = { ...job.headers }
    if (!this.#interceptorsMade) {
      this.#interceptorsMade = true
      this.#inContext(() => this.#makeInterceptors())
    }
    const runTask = this.#interceptors.inbound.some((interceptor) => interceptor.runTask !== undefined)
    if (!runTask) return this.#activate(jobs)
    let commands: Array<WorkflowCommand> = []
    await this.#inContext(() =>
      composeInterceptors(this.#interceptors.inbound, "runTask", async () => {
        commands = await this.#activate(jobs)
      })({ historyLength, replaying: this.replaying, headers: this.#startHeaders })
    )
    return commands
  }

  async #activate(jobs: ReadonlyArray<Job>): Promise<Array<WorkflowCommand>> {
    for (const job of jobs) this.#apply(job)
    await drainMicrotasks()
    let passes = 0
    while (this.#checkConditions()) {
      // Code that never blocks on a durable call (e.g. `while (x) await condition(() => true)`)
      // would hold the worker forever: fail the task instead (deterministic: passes are counted).
      if (++passes > MAX_CONDITION_PASSES) {
        this.#commands = []
        throw new Error(`workflow ${this.info.workflowType} (${this.info.workflowId}) did not block on a durable call after ${MAX_CONDITION_PASSES} condition passes in one activation: a condition loop that never waits?`)
      }
      await drainMicrotasks()
    }
    this.#rejectUnhandledUpdates()
    const commands = this.#commands
    this.#commands = []
    if (this.#taskError !== undefined) {
      const error = this.#taskError
      this.#taskError = undefined
      throw error
    }
    return commands
  }

  #apply(job: Job): void {
    switch (job.type) {
      case "WorkflowStarted":
        this.#showAttributes(job.searchAttributes ?? {})
        this.#showMemo(job.memo)
        this.#start(job.args, job.headers)
        return
      case "ActivityCompleted":
        this.#calls.get(job.seq)?.resolve(job.result)
        return
      case "ActivityFailed":
        this.#calls.get(job.seq)?.reject(job.failure)
        return
      case "ChildCompleted":
      case "ChildFailed":
        // A child can close before its "started" message is processed: settle the start too.
        this.#childStarts?.get(job.seq)?.resolve(encode(`${this.info.runId}.${job.seq}`, "runId"))
        if (job.type === "ChildCompleted") this.#calls.get(job.seq)?.resolve(job.result)
        else this.#calls.get(job.seq)?.reject(job.failure)
        return
      case "TimerFired":
        this.#calls.get(job.seq)?.resolve(undefined)
        return
      case "ChildStarted":
        this.#childStarts?.get(job.seq)?.resolve(encode(job.runId, "runId"))
        return
      case "ChildCancelDelivered":
        this.#childCancelsDelivered?.get(job.seq)?.()
        return
      case "ChildStartFailed":
        this.#childStarts?.get(job.seq)?.reject(job.failure)
        this.#calls.get(job.seq)?.reject(job.failure)
        return
      case "SignalReceived": {
        const handler = this.#signalHandlers?.get(job.name)
        const signal = { name: job.name, args: job.args, ...(job.headers === undefined ? {} : { headers: job.headers }) }
        if (handler === undefined) this.#buffered.push(signal)
        else this.#callHandler(handler, signal)
        return
      }
      case "CancelRequested":
        this.rootScope.cancel(new CancelledFailure(job.reason ?? "Workflow cancelled"))
        return
      case "UpdateRequested": {
        const handler = this.#updateHandlers?.get(job.name)
        if (handler === undefined) this.#bufferedUpdates.push(job)
        else this.#runUpdate(handler, job)
        return
      }
      case "ExternalRequestResolved": {
        const request = this.#externalRequests?.get(job.seq)
        if (job.failure === undefined) request?.resolve(undefined)
        else request?.reject(job.failure)
        return
      }
    }
  }

  #inContext<T>(fn: () => T, update?: UpdateInfo): T {
    return storage.run(update === undefined ? { run: this, scope: this.rootScope } : { run: this, scope: this.rootScope, update }, fn)
  }

  /**
   * Temporal's update protocol: the validator runs synchronously (a throw
   * rejects the update, which leaves no history), then the update is
   * accepted and its handler runs as workflow code; its result or
   * `TemporalFailure` completes the update, any other error fails the task.
   */
  #runUpdate(entry: UpdateHandler, request: UpdateRequest): void {
    const { updateId, name } = request
    const info: UpdateInfo = { id: updateId, name }
    const input = { updateId, name, args: decodeArgs(request.args), headers: { ...request.headers } }
    const inbound = this.#interceptors.inbound
    try {
      const validate = (input: { readonly args: Array<unknown> }): void => {
        const checked = entry.validator?.(...input.args)
        if (checked instanceof Promise) throw new TypeError(`the validator of update "${name}" returned a Promise; update validators must be synchronous`)
      }
      this.#inContext(() => (inbound.length === 0 ? validate(input) : composeInterceptors(inbound, "validateUpdate", validate)(input)), info)
    } catch (error) {
      this.#push({ type: "RejectUpdate", updateId, failure: toFailureInfo(error) })
      return
    }
    this.#push({ type: "AcceptUpdate", updateId, name })
    const running = { update: info, policy: entry.unfinishedPolicy }
    ;(this.#inProgress ??= new Set()).add(running)
    const result = this.#inContext(() => {
      try {
        return Promise.resolve(
          inbound.length === 0 ? entry.handler(...input.args) : composeInterceptors(inbound, "handleUpdate", async (input) => entry.handler(...input.args))(input),
        )
      } catch (error) {
        return Promise.reject(error)
      }
    }, info)
    result.then(
      (value) => {
        this.#inProgress?.delete(running)
        const label = `result of update ${name}`
        const payload = encode(value, label)
        if (this.#checkSize([payload], label)) this.#push({ type: "CompleteUpdate", updateId, result: payload })
      },
      (error: unknown) => {
        this.#inProgress?.delete(running)
        if (isTemporalFailure(error)) this.#push({ type: "CompleteUpdate", updateId, failure: toFailureInfo(error) })
        else this.#taskError ??= error
      },
    ).catch((error: unknown) => {
      // An unserializable result: a bug, not an update failure.
      this.#taskError ??= error
    })
  }

  /** Temporal rejects an update that has no handler once the activation that delivered it is done. */
  #rejectUnhandledUpdates(): void {
    for (const { updateId, name } of this.#bufferedUpdates) {
      const known = [...(this.#updateHandlers?.keys() ?? [])]
      this.#push({
        type: "RejectUpdate",
        updateId,
        failure: toFailureInfo(new ReferenceError(`No registered handler for update: ${name} (known updates: ${known.length === 0 ? "none" : known.join(", ")})`)),
      })
    }
    this.#bufferedUpdates = []
  }

  /** Whether no signal or update handler is still running (`allHandlersFinished()`). */
  get allHandlersFinished(): boolean {
    return this.#inProgress === undefined || this.#inProgress.size === 0
  }

  /** Temporal's `HandlerUnfinishedPolicy.WARN_AND_ABANDON`: the run closes with update handlers still running. */
  #warnUnfinished(): void {
    const unfinished = [...(this.#inProgress ?? [])].flatMap(({ update, policy }) => (update !== undefined && policy === "WARN_AND_ABANDON" ? [update] : []))
    if (unfinished.length === 0) return
    this.#inContext(() =>
      log.warn(
        "Workflow finished while update handlers are still running. This may have interrupted work that the update handler was doing, and the client " +
          "that sent the update will receive a 'workflow execution already completed' error instead of the update result. Wait for all handlers to " +
          "finish (`await condition(allHandlersFinished)`) before returning, or set unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON on the handler.",
        { updates: unfinished.map(({ id, name }) => ({ id, name })) },
      )
    )
  }

  /** Call the factories (in the run's context, as workflow code), keeping what they return. */
  #makeInterceptors(): void {
    for (const factory of this.interceptorFactories) {
      const made = factory()
      if ((made.internals ?? []).length > 0) throw new TypeError("workflow interceptors: internals interceptors are not supported by HotMesh (it has no activation protocol); use inbound and outbound")
      this.#interceptors.inbound.push(...(made.inbound ?? []))
      this.#interceptors.outbound.push(...(made.outbound ?? []))
    }
  }

  #start(args: ReadonlyArray<Payload>, headers: StoredHeaders | undefined): void {
    const result = this.#inContext(() => {
      try {
        const execute = composeInterceptors(this.#interceptors.inbound, "execute", (input) => this.fn(...input.args))
        return Promise.resolve(execute({ args: decodeArgs(args), headers: { ...headers } }))
      } catch (error) {
        return Promise.reject(error)
      }
    })
    result.then(
      (value) => this.#finish(() => {
        const label = `result of workflow ${this.info.workflowType}`
        const result = encode(value, label)
        this.#checkSize([result], label, true)
        return { type: "CompleteWorkflow", result }
      }),
      (error) => this.#finish(() => {
        if (error instanceof ContinueAsNew) {
          const args = encodeArgs(error.args, "continueAsNew args")
          this.#checkSize(args, `continueAsNew ${error.workflowType} args`, true)
          return {
            type: "ContinueAsNew",
            runId: uuidFrom(this.random),
            workflowType: error.workflowType,
            taskQueue: error.taskQueue,
            args,
            ...error.visibility,
            ...(error.headers === undefined ? {} : { headers: error.headers }),
          }
        }
        if (isCancellation(error) && this.rootScope.consideredCancelled) return { type: "CancelWorkflow" }
        if (isTemporalFailure(error)) return { type: "FailWorkflow", failure: toFailureInfo(error) }
        throw error
      }),
    )
  }

  #finish(command: () => WorkflowCommand): void {
    if (this.#closed) return
    try {
      this.#push(command())
      this.#closed = true
      this.#warnUnfinished()
    } catch (error) {
      // Not a workflow failure (a bug, or an unserializable result): fail the task, retry it.
      this.#taskError = error
    }
  }

  /**
   * Apply the payload limits to a command's payloads (not on replay: the
   * journal holds what was accepted). Over the limit the workflow *task*
   * fails — retried with backoff, visible in `describe().taskFailure` — and
   * workflow code cannot catch it: `false` here, or a throw when `rethrow`.
   */
  #checkSize(payloads: ReadonlyArray<Payload>, label: string, rethrow = false): boolean {
    if (this.payloads === undefined || this.#replayPatches !== undefined) return true
    try {
      this.payloads.check(payloads, label)
      return true
    } catch (error) {
      if (rethrow) throw error
      this.#taskError ??= error
      return false
    }
  }

  #push(command: WorkflowCommand): void {
    if (!this.#closed) this.#commands.push(command)
  }

  #callHandler(handler: Handler, signal: BufferedSignal): void {
    this.#inContext(() => {
      try {
        const handle = this.#interceptors.inbound.length === 0
          ? (input: { readonly args: Array<unknown> }) => handler(...input.args)
          : composeInterceptors(this.#interceptors.inbound, "handleSignal", async (input) => void (await handler(...input.args)))
        const result = handle({ signalName: signal.name, args: decodeArgs(signal.args), headers: { ...signal.headers } })
        if (result instanceof Promise) {
          const running = { policy: "ABANDON" as const }
          ;(this.#inProgress ??= new Set()).add(running)
          result.then(() => this.#inProgress?.delete(running), (error: unknown) => {
            this.#inProgress?.delete(running)
            this.#handlerFailed(error)
          })
        }
      } catch (error) {
        this.#handlerFailed(error)
      }
    })
  }

  #handlerFailed(error: unknown): void {
    // Temporal: a failing signal handler fails the workflow (TemporalFailure) or the task (anything else).
    this.#finish(() => {
      if (isTemporalFailure(error)) return { type: "FailWorkflow", failure: toFailureInfo(error) }
      throw error
    })
  }

  #checkConditions(): boolean {
    let fired = false
    for (const condition of [...(this.#conditions ?? [])]) {
      if (this.#inContext(condition.fn)) {
        this.#conditions?.delete(condition)
        condition.resolve()
        fired = true
      }
    }
    return fired
  }

  /** Register a pending durable call that the scope can cancel. */
  #pending<T>(
    seq: number,
    scope: CancellationScope,
    table: Map<number, PendingCall>,
    decodeResult: (payload: Payload) => T,
    rebuild: (failure: FailureInfo) => Error,
    /** The error the call rejects with on cancellation; `undefined`: it keeps waiting for its outcome. */
    onCancel: (reason: CancelledFailure) => Error | undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // `onCancel` returns the call's rejection, or nothing: the call waits on (its outcome settles it).
      const unsubscribe = scope.onCancel((reason) => {
        if (!table.has(seq)) return
        const error = onCancel(reason)
        if (error === undefined) return
        table.delete(seq)
        reject(error)
      })
      table.set(seq, {
        resolve: (payload) => {
          table.delete(seq)
          unsubscribe()
          resolve(decodeResult(payload))
        },
        reject: (failure) => {
          table.delete(seq)
          unsubscribe()
          reject(rebuild(failure))
        },
      })
    })
  }

  /** The run's outbound interceptors (`proxyActivities`, `startChild`, `continueAsNew` compose them). */
  get outbound(): WorkflowInterceptors["outbound"] & object {
    return this.#interceptors.outbound
  }

  /** Schedule an activity (called by `proxyActivities`, inside its interceptors). */
  scheduleActivity(activityType: string, args: ReadonlyArray<unknown>, options: ActivityOptionsResolved, scope: CancellationScope, headers?: Headers): Promise<unknown> {
    const stored = headers === undefined ? undefined : storedHeaders(headers, `activity ${activityType}`)
    const payloads = encodeArgs(args, `activity ${activityType} args`)
    if (!this.#checkSize(payloads, `activity ${activityType} args`)) return new Promise<never>(() => undefined)
    if (scope.consideredCancelled) return Promise.reject(new ActivityFailure("Activity task cancelled", activityType, new CancelledFailure()))
    const seq = ++this.#seq
    this.#push({ type: "ScheduleActivity", seq, activityType, args: payloads, options, ...(stored === undefined ? {} : { headers: stored }) })
    let cancelRequested = false
    return this.#pending(seq, scope, this.#calls, decode, fromFailureInfo, (reason) => {
      if (!cancelRequested) this.#push({ type: "RequestCancelActivity", seq })
      cancelRequested = true
      // WAIT_CANCELLATION_COMPLETED: the call settles with the activity's own outcome.
      if (options.cancellationType === "WAIT_CANCELLATION_COMPLETED") return undefined
      return new ActivityFailure("Activity task cancelled", activityType, reason)
    })
  }

  /** Start a durable timer in `scope`, through the `startTimer` interceptors. */
  startTimer(durationMs: number, scope: CancellationScope): Promise<void> {
    if (this.#interceptors.outbound.length === 0) return this.#startTimer(durationMs, scope)
    return composeInterceptors(this.#interceptors.outbound, "startTimer", (input) => this.#startTimer(input.durationMs, scope))({ durationMs })
  }

  #startTimer(durationMs: number, scope: CancellationScope): Promise<void> {
    if (scope.consideredCancelled) return Promise.reject(new CancelledFailure("Timer cancelled"))
    const seq = ++this.#seq
    this.#push({ type: "StartTimer", seq, durationMs })
    return this.#pending(seq, scope, this.#calls, () => undefined, fromFailureInfo, (reason) => {
      this.#push({ type: "CancelTimer", seq })
      return reason
    })
  }

  /** Start a child workflow; resolves `started` with its run id, `result` with its result. */
  startChild(
    workflowType: string,
    workflowId: string,
    taskQueue: string,
    args: ReadonlyArray<unknown>,
    scope: CancellationScope,
    options: ChildStartOptions,
  ): { readonly started: Promise<string>; readonly result: Promise<unknown> } {
    const { parentClosePolicy, headers, cancellationType = "WAIT_CANCELLATION_COMPLETED", ...rest } = options
    const stored = headers === undefined ? undefined : storedHeaders(headers, `child workflow ${workflowType}`)
    const payloads = encodeArgs(args, `child workflow ${workflowType} args`)
    if (!this.#checkSize(payloads, `child workflow ${workflowType} args`)) return { started: new Promise<never>(() => undefined), result: new Promise<never>(() => undefined) }
    const cancelled = (reason: Error) => new ChildWorkflowFailure("Child Workflow execution cancelled", workflowType, workflowId, reason)
    if (scope.consideredCancelled) {
      const failure = cancelled(new CancelledFailure())
      return { started: Promise.reject(failure), result: Promise.reject(failure) }
    }
    const seq = ++this.#seq
    this.#push({ type: "StartChild", seq, workflowType, workflowId, taskQueue, args: payloads, ...(parentClosePolicy === "TERMINATE" ? {} : { parentClosePolicy }), ...rest, ...(stored === undefined ? {} : { headers: stored }) })
    // Temporal's ChildWorkflowCancellationType: whether the child is told, and when the parent's call settles.
    let cancelRequested = false
    const onCancel = (reason: CancelledFailure): Error | undefined => {
      if (!cancelRequested && cancellationType !== "ABANDON") {
        const acknowledge = cancellationType === "WAIT_CANCELLATION_REQUESTED"
        this.#push({ type: "RequestCancelChild", seq, ...(acknowledge ? { acknowledge } : {}) })
        if (acknowledge) {
          ;(this.#childCancelsDelivered ??= new Map()).set(seq, () => {
            this.#childCancelsDelivered?.delete(seq)
            const failure: FailureInfo = { kind: "child", message: "Child Workflow execution cancelled", workflowType, workflowId, cause: { kind: "cancelled", message: reason.message } }
            this.#calls.get(seq)?.reject(failure)
          })
        }
      }
      cancelRequested = true
      // ABANDON and TRY_CANCEL settle at once; the WAIT types when the child has the request, or when it closes.
      return cancellationType === "ABANDON" || cancellationType === "TRY_CANCEL" ? cancelled(reason) : undefined
    }
    // Temporal: a child id that is already running rejects with WorkflowExecutionAlreadyStartedError.
    const rebuild = (failure: FailureInfo): Error =>
      failure.type === "WorkflowExecutionAlreadyStartedError" ? new WorkflowExecutionAlreadyStartedError(workflowId, workflowType) : fromFailureInfo(failure)
    const started = this.#pending(seq, scope, (this.#childStarts ??= new Map()), (payload) => decode(payload) as string, rebuild, onCancel)
    const result = this.#pending(seq, scope, this.#calls, decode, rebuild, onCancel)
    started.catch(() => undefined)
    return { started, result }
  }

  /** `upsertSearchAttributes` (updates checked by the caller): `workflowInfo()` shows them at once. */
  upsertSearchAttributes(updates: AttributeUpdates): void {
    this.#showAttributes(applyUpdates(this.#searchAttributes, updates))
    this.#push({ type: "UpsertSearchAttributes", searchAttributes: updates })
  }

  /** `upsertMemo` (values encoded by the caller): `workflowInfo().memo` shows them at once. */
  upsertMemo(updates: MemoUpdates): void {
    const values = Object.values(updates).filter((value): value is Payload => value !== null)
    if (!this.#checkSize(values, "upsertMemo memo")) return
    this.#showMemo(applyUpdates(this.#memo, updates))
    this.#push({ type: "UpsertMemo", memo: updates })
  }

  #showAttributes(stored: StoredAttributes): void {
    this.#searchAttributes = stored
    this.info.typedSearchAttributes = typedAttributesOf(stored)
  }

  #showMemo(stored: Readonly<Record<string, Payload>> | undefined): void {
    this.#memo = stored
    const memo = decodedMemo(stored)
    if (memo === undefined) delete this.info.memo
    else this.info.memo = memo
  }

  /**
   * Signal another workflow (`getExternalWorkflowHandle(id).signal`): resolves
   * once the target has received it, rejects with an `ApplicationFailure` of
   * type `ExternalWorkflowExecutionNotFound` when no open run matches.
   */
  signalExternal(workflowId: string, runId: string | undefined, name: string, args: ReadonlyArray<unknown>, scope: CancellationScope): Promise<void> {
    const send = (input: { readonly signalName: string; readonly args: ReadonlyArray<unknown>; readonly headers: Headers }): Promise<void> => {
      const signalName = input.signalName
      const payloads = encodeArgs(input.args, `signal ${signalName} args`)
      if (!this.#checkSize(payloads, `signal ${signalName} args`)) return new Promise<never>(() => undefined)
      const stored = storedHeaders(input.headers, `signal ${signalName}`)
      return this.#externalRequest(scope, (seq) => ({
        type: "SignalExternal",
        seq,
        workflowId,
        ...(runId === undefined ? {} : { runId }),
        name: signalName,
        args: payloads,
        ...(stored === undefined ? {} : { headers: stored }),
      }))
    }
    if (this.#interceptors.outbound.length === 0) return send({ signalName: name, args, headers: {} })
    const workflowExecution = { workflowId, ...(runId === undefined ? {} : { runId }) }
    return composeInterceptors(this.#interceptors.outbound, "signalWorkflow", send)({ signalName: name, args: [...args], target: { type: "external", workflowExecution }, headers: {} })
  }

  /** Ask another workflow to cancel (`getExternalWorkflowHandle(id).cancel`); settles as `signalExternal`. */
  cancelExternal(workflowId: string, runId: string | undefined, scope: CancellationScope): Promise<void> {
    return this.#externalRequest(scope, (seq) => ({ type: "CancelExternal", seq, workflowId, ...(runId === undefined ? {} : { runId }) }))
  }

  #externalRequest(scope: CancellationScope, command: (seq: number) => WorkflowCommand): Promise<void> {
    if (scope.consideredCancelled) return Promise.reject(new CancelledFailure())
    const seq = ++this.#seq
    this.#push(command(seq))
    // A cancelled scope stops waiting; the request itself was sent.
    return this.#pending(seq, scope, (this.#externalRequests ??= new Map()), () => undefined, fromFailureInfo, (reason) => reason)
  }

  /** Wait until `fn()` is true (checked after every activation). */
  waitFor(fn: () => boolean, scope: CancellationScope): Promise<void> {
    if (scope.consideredCancelled) return Promise.reject(new CancelledFailure("Condition cancelled"))
    return new Promise<void>((resolve, reject) => {
      const condition: Condition = { fn, resolve: () => (unsubscribe(), resolve()) }
      const unsubscribe = scope.onCancel((reason) => {
        if (this.#conditions?.delete(condition)) reject(reason)
      })
      ;(this.#conditions ??= new Set()).add(condition)
    })
  }

  /**
   * Temporal's `patched(id)`: true on new executions (recording a marker);
   * during replay, true only where the journal has the marker. Memoized per id.
   */
  patched(patchId: string): boolean {
    const known = this.#patches?.get(patchId)
    if (known !== undefined) return known
    const value = this.#replayPatches === undefined || this.#replayPatches.has(patchId)
    if (value) this.#push({ type: "Patch", patchId })
    ;(this.#patches ??= new Map()).set(patchId, value)
    return value
  }

  /** Temporal's `deprecatePatch(id)`: the old path is gone; record the marker, never fail replay. */
  deprecatePatch(patchId: string): void {
    if (this.#patches?.has(patchId)) return
    if (this.#replayPatches === undefined || this.#replayPatches.has(patchId)) this.#push({ type: "Patch", patchId })
    ;(this.#patches ??= new Map()).set(patchId, true)
  }

  /** Set or remove a signal handler; buffered signals of that name are delivered at once. */
  setSignalHandler(name: string, handler: Handler | undefined): void {
    if (handler === undefined) {
      this.#signalHandlers?.delete(name)
      return
    }
    ;(this.#signalHandlers ??= new Map()).set(name, handler)
    const waiting = this.#buffered.filter((signal) => signal.name === name)
    this.#buffered = this.#buffered.filter((signal) => signal.name !== name)
    for (const signal of waiting) this.#callHandler(handler, signal)
  }

  /** Set or remove an update handler; updates waiting for it in this activation run at once. */
  setUpdateHandler(name: string, handler: UpdateHandler | undefined): void {
    if (handler === undefined) {
      this.#updateHandlers?.delete(name)
      return
    }
    ;(this.#updateHandlers ??= new Map()).set(name, handler)
    const waiting = this.#bufferedUpdates.filter((update) => update.name === name)
    this.#bufferedUpdates = this.#bufferedUpdates.filter((update) => update.name !== name)
    for (const update of waiting) this.#runUpdate(handler, update)
  }

  /** Set or remove a query handler. */
  setQueryHandler(name: string, handler: Handler | undefined): void {
    if (handler === undefined) this.#queryHandlers?.delete(name)
    else (this.#queryHandlers ??= new Map()).set(name, handler)
  }

  /** Answer a query from the run's current state, through the `handleQuery` interceptors. */
  async query(name: string, args: ReadonlyArray<Payload>, request?: { readonly queryId: string; readonly headers?: StoredHeaders }): Promise<Payload> {
    const call = (input: { readonly args: Array<unknown> }): unknown => {
      const handler = this.#queryHandlers?.get(name)
      if (handler === undefined) {
        const known = [...(this.#queryHandlers?.keys() ?? [])]
        throw new QueryNotRegisteredError(
          `Workflow ${this.info.workflowType} (${this.info.workflowId}) has no query handler for "${name}"; known queries: ${known.length === 0 ? "none" : known.join(", ")}`,
          name,
        )
      }
      const value = this.#inContext(() => handler(...input.args))
      if (value instanceof Promise) throw new TypeError(`query handler "${name}" returned a Promise; query handlers must be synchronous`)
      return value
    }
    const value = this.#interceptors.inbound.length === 0
      ? call({ args: decodeArgs(args) })
      : await this.#inContext(() =>
        composeInterceptors(this.#interceptors.inbound, "handleQuery", async (input) => call(input))({
          queryId: request?.queryId ?? "",
          queryName: name,
          args: decodeArgs(args),
          headers: { ...request?.headers },
        })
      )
    const result = encode(value, `result of query ${name}`)
    this.payloads?.check([result], `result of query ${name}`)
    return result
  }

}

/** Build a run's info from its start parameters. */
export const runInfo = (input: {
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  readonly taskQueue: string
  readonly startTime: number
  readonly parent?: ParentRef
  readonly runTimeoutMs?: number
  readonly executionTimeoutMs?: number
  readonly executionExpiresAt?: number
  readonly cronSchedule?: string
}, namespace: string): StartInfo => ({
  namespace,
  workflowId: input.workflowId,
  runId: input.runId,
  workflowType: input.workflowType,
  taskQueue: input.taskQueue,
  startTime: new RealDate(input.startTime),
  ...(input.parent === undefined ? {} : { parent: { workflowId: input.parent.workflowId, runId: input.parent.runId } }),
  ...(input.executionTimeoutMs === undefined ? {} : { executionTimeoutMs: input.executionTimeoutMs }),
  ...(input.executionExpiresAt === undefined ? {} : { executionExpirationTime: new RealDate(input.executionExpiresAt) }),
  ...(input.runTimeoutMs === undefined ? {} : { runTimeoutMs: input.runTimeoutMs }),
  ...(input.cronSchedule === undefined ? {} : { cronSchedule: input.cronSchedule }),
})
