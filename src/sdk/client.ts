/**
 * `Client`: start workflows and talk to them (Temporal's `Client`).
 * Every call is a message on the workflow's stream; nothing here runs
 * workflow or activity code.
 */
import { randomUUID } from "node:crypto"
import { asResultWaiter } from "../effects/progressProbe.ts"
import { retryBriefOutage } from "../effects/storeRetry.ts"
import { Effect } from "effect"
import { cronProblem } from "../core/cron.ts"
import { type Duration, optionalMillis } from "../core/duration.ts"
import { InvalidArgumentError } from "../core/errors.ts"
import type { JournalEntry } from "../core/journal.ts"
import { decode, encodeArgs } from "../core/payload.ts"
import type { ClientUpdate, StartPolicies } from "../core/reduce.ts"
import type { ExecutionState, NewRun, UpdateState, WorkflowStatus } from "../core/state.ts"
import {
  awaitClosed,
  awaitUpdateStage,
  describeWorkflow,
  queryWorkflow,
  readJournal,
  sendToRunning,
  sendUpdate,
  signalWithStartWorkflow,
  startWorkflow,
  terminateWorkflow,
  updateWithStartWorkflow,
} from "../effects/client.ts"
import type { Store } from "../stores/Store.ts"
import { checkNamespace, Connection } from "./connection.ts"
import {
  checkOptions,
  STATIC_METADATA_OPTIONS,
  type StaticMetadataOptions,
  staticMetadataOf,
  UNSUPPORTED_CLIENT,
  UNSUPPORTED_CLIENT_START,
  WORKFLOW_TIMEOUT_OPTIONS,
  type WorkflowTimeoutOptions,
  workflowTimeoutsOf,
} from "./internal/options.ts"
import { AsyncCompletionClient } from "./asyncCompletion.ts"
import { DeadLetterClient } from "./deadLetters.ts"
import { TaskQueueClient } from "./taskQueues.ts"
import {
  QueryFailedError,
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from "./errors.ts"
import { fromFailureInfo } from "./failures.ts"
import type { QueryDefinition, SignalDefinition, UpdateDefinition, Workflow } from "./workflow/api.ts"
import { decodedMemo, typedAttributesOf, type TypedSearchAttributes, type TypedSearchAttributesInput, visibilityOf } from "./searchAttributes.ts"
import { type CountWorkflowExecution, countWorkflows, listWorkflows, type ListOptions, SearchAttributeClient, type WorkflowExecutionInfo } from "./visibility.ts"

import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from "./workflowIdPolicies.ts"
export { WorkflowIdConflictPolicy, WorkflowIdReusePolicy }
import { type ClientInterceptors, composeInterceptors, type Headers, storedHeaders, type WorkflowClientInterceptor } from "./interceptors.ts"

/** Options of `client.workflow.start` / `execute`. */
export interface WorkflowStartOptions<Args extends Array<any> = Array<any>> extends WorkflowTimeoutOptions, StaticMetadataOptions {
  readonly taskQueue: string
  readonly workflowId: string
  readonly args?: Args
  /** Search attributes to list the execution by (`defineSearchAttributeKey` keys and values of their types). */
  readonly typedSearchAttributes?: TypedSearchAttributesInput
  /** Payloads shown with the execution by `describe` and `list`, not indexed. */
  readonly memo?: Record<string, unknown>
  /** When a run of `workflowId` is open; default `FAIL`. */
  readonly workflowIdConflictPolicy?: WorkflowIdConflictPolicy
  /** When a closed run of `workflowId` is still kept; default `ALLOW_DUPLICATE`. */
  readonly workflowIdReusePolicy?: WorkflowIdReusePolicy
  /**
   * Run as a cron workflow (UTC): each run waits for the schedule's next time;
   * after a run completes, fails or times out, the next run of the same
   * workflow id starts (cancel or terminate ends the chain); `result()` follows the runs.
   */
  readonly cronSchedule?: string
  /**
   * Temporal's `startDelay`: the run is created now and its code starts this
   * long after (or at its first signal, as in Temporal). Not with `cronSchedule`.
   */
  readonly startDelay?: Duration
}

type StartOptionsWithoutPolicies<Args extends Array<any>> = Omit<WorkflowStartOptions<Args>, "workflowIdConflictPolicy" | "workflowIdReusePolicy">

/** Options of `client.workflow.signalWithStart` (Temporal's `WorkflowSignalWithStartOptions`). */
export interface WorkflowSignalWithStartOptions<Args extends Array<any> = Array<any>, SignalArgs extends Array<any> = Array<any>> extends StartOptionsWithoutPolicies<Args> {
  readonly signal: SignalDefinition<SignalArgs> | string
  readonly signalArgs?: SignalArgs
  /** Whether a closed run's id may be started again (default `ALLOW_DUPLICATE`); `TERMINATE_IF_RUNNING` also replaces an open run, which then does not get the signal. */
  readonly workflowIdReusePolicy?: WorkflowIdReusePolicy
  /** An open run: `USE_EXISTING` (the default) signals it, `TERMINATE_EXISTING` terminates it and starts a new run with the signal; `FAIL` is refused. */
  readonly workflowIdConflictPolicy?: WorkflowIdConflictPolicy
}

/** The handle `signalWithStart` returns: also which run received the signal. */
export interface WorkflowHandleWithSignaledRunId<T extends Workflow = Workflow> extends WorkflowHandle<T> {
  readonly signaledRunId: string
}

/** What `handle.describe()` returns. */
export interface WorkflowExecutionDescription {
  readonly workflowId: string
  readonly runId: string
  readonly type: string
  readonly taskQueue: string
  readonly status: WorkflowStatus
  readonly startTime: Date
  readonly closeTime?: Date
  readonly historyLength: number
  /**
   * Activities not yet finished: their current attempt and, after a failed
   * attempt, why it failed (e.g. an activity no worker registers, a timeout)
   * and whether the next attempt waits for its retry timer (`SCHEDULED`) or
   * was dispatched (`STARTED`); `CANCEL_REQUESTED` once the workflow asked to cancel a running attempt.
   */
  readonly pendingActivities: ReadonlyArray<{
    readonly activityId: string
    readonly activityType: string
    readonly attempt: number
    readonly state: "SCHEDULED" | "STARTED" | "CANCEL_REQUESTED"
    readonly lastFailure?: { readonly type?: string; readonly message: string }
    /** The details of the last heartbeat (any attempt), decoded. */
    readonly heartbeatDetails?: unknown
  }>
  /** Why the workflow's last task failed (unknown type, a bug, non-determinism); it is being retried. */
  readonly taskFailure?: { readonly type: string; readonly message: string; readonly attempt: number }
  readonly parent?: { readonly workflowId: string; readonly runId: string }
  /** The memo, as started and upserted. */
  readonly memo?: Record<string, unknown>
  /** The search attributes, as started and upserted. */
  readonly typedSearchAttributes: TypedSearchAttributes
  /** The start's `staticSummary` / `staticDetails`. */
  readonly staticSummary?: string
  readonly staticDetails?: string
}

/** Temporal's update stages; `startUpdate` waits for `ACCEPTED`. */
export const WorkflowUpdateStage = {
  ADMITTED: "ADMITTED",
  ACCEPTED: "ACCEPTED",
  COMPLETED: "COMPLETED",
} as const
/** One of `WorkflowUpdateStage`'s values. */
export type WorkflowUpdateStage = (typeof WorkflowUpdateStage)[keyof typeof WorkflowUpdateStage]

/** Options of `executeUpdate`/`startUpdate` (Temporal's `WorkflowUpdateOptions`). */
export interface WorkflowUpdateOptions {
  /** Dedupes: a second update with this id gets the first one's outcome (default: a random UUID). */
  readonly updateId?: string
}

/** A started update (Temporal's `WorkflowUpdateHandle`). */
export interface WorkflowUpdateHandle<Ret> {
  readonly updateId: string
  readonly workflowId: string
  readonly workflowRunId?: string
  /** The handler's result; `WorkflowUpdateFailedError` if it was rejected or failed. */
  result(): Promise<Ret>
}

type Result<T> = T extends Workflow ? Awaited<ReturnType<T>> : unknown

/** A handle on a workflow execution (Temporal's `WorkflowHandle`). */
export interface WorkflowHandle<T extends Workflow = Workflow> {
  readonly workflowId: string
  /** The run this handle is pinned to (`getHandle(id, runId)`), or undefined for the current run. */
  readonly runId: string | undefined
  /** The run `start` created, when known. */
  readonly firstExecutionRunId: string | undefined
  /**
   * Wait for the result — of the workflow's latest run, following continue-as-new
   * (Temporal's `followRuns`); throws `WorkflowFailedError` if it did not complete.
   */
  result(): Promise<Result<T>>
  signal<Args extends Array<any>>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>
  query<Ret, Args extends Array<any> = []>(def: QueryDefinition<Ret, Args> | string, ...args: Args): Promise<Ret>
  /** Request cancellation; the workflow sees a `CancelledFailure` it may catch. */
  cancel(): Promise<void>
  terminate(reason?: string): Promise<void>
  describe(): Promise<WorkflowExecutionDescription>
  /**
   * Run an update and wait for its result (Temporal's `executeUpdate`): `WorkflowUpdateFailedError`
   * when the validator rejects it or the handler fails, `WorkflowNotFoundError` on a closed workflow.
   */
  executeUpdate<Ret, Args extends [any, ...Array<any>], Name extends string = string>(
    def: UpdateDefinition<Ret, Args, Name> | string,
    options: WorkflowUpdateOptions & { readonly args: Args },
  ): Promise<Ret>
  executeUpdate<Ret, Args extends [] = [], Name extends string = string>(
    def: UpdateDefinition<Ret, Args, Name> | string,
    options?: WorkflowUpdateOptions & { readonly args?: Args },
  ): Promise<Ret>
  /** Send an update and wait until it is accepted (or rejected: `WorkflowUpdateFailedError`). */
  startUpdate<Ret, Args extends [any, ...Array<any>], Name extends string = string>(
    def: UpdateDefinition<Ret, Args, Name> | string,
    options: WorkflowUpdateOptions & { readonly args: Args; readonly waitForStage: typeof WorkflowUpdateStage.ACCEPTED },
  ): Promise<WorkflowUpdateHandle<Ret>>
  startUpdate<Ret, Args extends [] = [], Name extends string = string>(
    def: UpdateDefinition<Ret, Args, Name> | string,
    options: WorkflowUpdateOptions & { readonly args?: Args; readonly waitForStage: typeof WorkflowUpdateStage.ACCEPTED },
  ): Promise<WorkflowUpdateHandle<Ret>>
  /** A handle on an update sent earlier (by any client), by its id. */
  getUpdateHandle<Ret>(updateId: string): WorkflowUpdateHandle<Ret>
  /** The run's journal (history) as JSON-serializable data. */
  fetchHistory(): Promise<{ readonly workflowId: string; readonly runId: string; readonly workflowType: string; readonly events: ReadonlyArray<JournalEntry> }>
}

const QUERY_TIMEOUT_MS = 10_000
const START_OPTIONS = [
  "taskQueue", "workflowId", "args", "typedSearchAttributes", "memo", "cronSchedule", ...WORKFLOW_TIMEOUT_OPTIONS, "workflowIdConflictPolicy", "workflowIdReusePolicy",
  "startDelay", ...STATIC_METADATA_OPTIONS,
] satisfies Array<keyof WorkflowStartOptions>
const SIGNAL_WITH_START_OPTIONS = [
  "taskQueue", "workflowId", "args", "typedSearchAttributes", "memo", "cronSchedule", ...WORKFLOW_TIMEOUT_OPTIONS, "signal", "signalArgs", "workflowIdReusePolicy", "workflowIdConflictPolicy",
  ...STATIC_METADATA_OPTIONS,
] satisfies Array<keyof WorkflowSignalWithStartOptions>
const UNSUPPORTED_SIGNAL_WITH_START = {
  ...UNSUPPORTED_CLIENT_START,
  startDelay: "is not supported by signalWithStart yet (Temporal's rules for it differ from a start's: a later signalWithStart ends the delay, a signal does not)",
}
const CLIENT_OPTIONS = ["connection", "namespace", "interceptors"] satisfies Array<keyof ClientOptions>
const UPDATE_OPTIONS = ["args", "updateId"] satisfies Array<keyof (WorkflowUpdateOptions & { args: unknown })>
const START_UPDATE_OPTIONS = [...UPDATE_OPTIONS, "waitForStage"]

const required = (value: unknown, name: string): string => {
  if (typeof value !== "string" || value.length === 0) throw new InvalidArgumentError({ message: `${name} is required and must be a non-empty string` })
  return value
}

const workflowTypeOf = (workflow: Workflow | string): string =>
  required(typeof workflow === "string" ? workflow : typeof workflow === "function" ? workflow.name : undefined, "workflow type (a named function or a string)")

const policyOf = <P extends string>(where: string, name: string, value: unknown, policies: Readonly<Record<string, P>>): P | undefined => {
  if (value === undefined) return undefined
  if (!Object.values(policies).includes(value as P)) {
    throw new InvalidArgumentError({ message: `${where}: ${name} must be one of ${Object.values(policies).join(", ")}; got ${JSON.stringify(value)}` })
  }
  return value as P
}

/** A start's workflow-id policies, checked. */
const startPolicies = (where: string, options: Pick<WorkflowStartOptions, "workflowIdConflictPolicy" | "workflowIdReusePolicy">): StartPolicies => {
  const conflict = policyOf(where, "workflowIdConflictPolicy", options.workflowIdConflictPolicy, WorkflowIdConflictPolicy)
  const reuse = policyOf(where, "workflowIdReusePolicy", options.workflowIdReusePolicy, WorkflowIdReusePolicy)
  if (reuse === "TERMINATE_IF_RUNNING" && conflict !== undefined) {
    throw new InvalidArgumentError({ message: `${where}: workflowIdReusePolicy TERMINATE_IF_RUNNING cannot be combined with a workflowIdConflictPolicy (use TERMINATE_EXISTING)` })
  }
  return { ...(conflict === undefined ? {} : { conflict }), ...(reuse === undefined ? {} : { reuse }) }
}

/** Map effect-layer client errors to Temporal's error classes. */
const temporalError = (error: { readonly _tag: string } & Record<string, any>): Error => {
  switch (error._tag) {
    case "WorkflowAlreadyRunning":
      return new WorkflowExecutionAlreadyStartedError(error.workflowId, error.workflowType)
    case "WorkflowNotFound":
      return new WorkflowNotFoundError(error.message, error.workflowId)
    case "QueryTimedOut":
      return new QueryFailedError(`query ${error.name} of workflow ${error.workflowId} got no answer within ${error.timeoutMs} ms (is a worker polling its task queue?)`)
    default:
      return error as unknown as Error
  }
}

const describeState = (state: ExecutionState): WorkflowExecutionDescription => ({
  workflowId: state.workflowId,
  runId: state.runId,
  type: state.workflowType,
  taskQueue: state.taskQueue,
  status: state.status,
  startTime: new Date(state.startTime),
  ...(state.closeTime === undefined ? {} : { closeTime: new Date(state.closeTime) }),
  historyLength: state.journalLength,
  pendingActivities: Object.entries(state.activities).map(([seq, activity]) => ({
    activityId: seq,
    activityType: activity.activityType,
    attempt: activity.attempt,
    // Under ABANDON the activity is never asked to cancel: it stays STARTED, as in Temporal.
    state: activity.cancelRequested === true && activity.options.cancellationType !== "ABANDON" ? "CANCEL_REQUESTED" as const : activity.dispatched ? "STARTED" as const : "SCHEDULED" as const,
    ...(activity.lastFailure === undefined
      ? {}
      : { lastFailure: { ...(activity.lastFailure.type === undefined ? {} : { type: activity.lastFailure.type }), message: activity.lastFailure.message } }),
    ...(activity.heartbeatDetails === undefined ? {} : { heartbeatDetails: decode(activity.heartbeatDetails) }),
  })),
  ...(state.taskFailure === undefined
    ? {}
    : { taskFailure: { type: state.taskFailure.type, message: state.taskFailure.message, attempt: state.taskFailure.attempt } }),
  ...(state.parent === undefined ? {} : { parent: { workflowId: state.parent.workflowId, runId: state.parent.runId } }),
  ...(state.memo === undefined ? {} : { memo: decodedMemo(state.memo)! }),
  typedSearchAttributes: typedAttributesOf(state.searchAttributes),
  ...(state.staticSummary === undefined ? {} : { staticSummary: state.staticSummary }),
  ...(state.staticDetails === undefined ? {} : { staticDetails: state.staticDetails }),
})

/** A start's search attributes and memo, checked and encoded, its timeouts and its cron schedule. */
const startFieldsOf = (options: StartOptionsWithoutPolicies<Array<unknown>>, label: string) => {
  const timeouts = workflowTimeoutsOf(options, label)
  return {
    ...visibilityOf(options, label),
    ...timeouts,
    ...cronScheduleOf(options.cronSchedule, label),
    ...startDelayOf(options, label),
    ...staticMetadataOf(options, label),
  }
}

/** A start's delay in ms (none for 0); Temporal refuses it with a cron schedule. */
const startDelayOf = (options: StartOptionsWithoutPolicies<Array<unknown>>, label: string): { readonly startDelayMs?: number } => {
  const startDelayMs = optionalMillis(options.startDelay, `${label}: startDelay`)
  if (startDelayMs === undefined || startDelayMs === 0) return {}
  if (options.cronSchedule !== undefined) throw new InvalidArgumentError({ message: `${label}: startDelay cannot be combined with cronSchedule (Temporal refuses it too)` })
  return { startDelayMs }
}

/** A checked cron schedule. With timeouts, as in Temporal: the execution timeout spans every run of the chain, the run timeout each run. */
const cronScheduleOf = (cronSchedule: unknown, label: string): { readonly cronSchedule?: string } => {
  if (cronSchedule === undefined) return {}
  const problem = cronProblem(cronSchedule)
  if (problem !== undefined) throw new InvalidArgumentError({ message: `${label}: cronSchedule ${JSON.stringify(cronSchedule)} is not a cron expression: ${problem}` })
  return { cronSchedule: cronSchedule as string }
}

/** The result of a closed run, or the `WorkflowFailedError` it ended with. */
export const outcomeOf = (state: ExecutionState): unknown => {
  if (state.status === "COMPLETED") return decode(state.result)
  const cause = state.failure === undefined ? undefined : fromFailureInfo(state.failure)
  throw new WorkflowFailedError(`Workflow execution ${state.status.toLowerCase()}: ${state.workflowId}`, cause, state.status)
}

/**
 * Temporal's `WithStartWorkflowOperation`: the start half of an
 * update-with-start (`client.workflow.executeUpdateWithStart`), used once.
 * `workflowHandle()` resolves once the update-with-start has run.
 */
export class WithStartWorkflowOperation<T extends Workflow> {
  #used = false
  readonly #handle: Promise<WorkflowHandle<T>>
  #settle!: (outcome: Promise<{ readonly handle: WorkflowHandle<any> }>) => void

  constructor(
    readonly workflowTypeOrFunc: string | T,
    readonly options: WorkflowStartOptions<Parameters<T>> & { readonly workflowIdConflictPolicy: WorkflowIdConflictPolicy },
  ) {
    checkOptions("new WithStartWorkflowOperation(workflow, options)", options, START_OPTIONS, UNSUPPORTED_CLIENT_START)
    this.#handle = new Promise<{ readonly handle: WorkflowHandle<any> }>((resolve) => {
      this.#settle = resolve
    }).then(({ handle }) => handle as WorkflowHandle<T>)
    this.#handle.catch(() => undefined)
  }

  /** Temporal's factory. */
  static create<T extends Workflow>(
    workflowTypeOrFunc: string | T,
    options: WorkflowStartOptions<Parameters<T>> & { readonly workflowIdConflictPolicy: WorkflowIdConflictPolicy },
  ): WithStartWorkflowOperation<T> {
    return new WithStartWorkflowOperation(workflowTypeOrFunc, options)
  }

  /** The workflow's handle, once the update-with-start that used this operation has run (or its error). */
  workflowHandle(): Promise<WorkflowHandle<T>> {
    return this.#handle
  }

  /** Internal: run `start` as this operation's one use. */
  claim<A extends { readonly handle: WorkflowHandle<any> }>(start: () => Promise<A>): Promise<A> {
    if (this.#used) throw new InvalidArgumentError({ message: "This WithStartWorkflowOperation instance has already been executed" })
    this.#used = true
    const outcome = start()
    this.#settle(outcome)
    return outcome
  }
}

const checkStage = (where: string, stage: unknown): void => {
  if (stage !== WorkflowUpdateStage.ACCEPTED) {
    throw new InvalidArgumentError({ message: `${where}: waitForStage must be WorkflowUpdateStage.ACCEPTED; got ${JSON.stringify(stage)}` })
  }
}

/** An update as the client sends it: name, id (default: a random UUID) and arguments, checked. */
const clientUpdate = (
  connection: Connection,
  def: UpdateDefinition<unknown, Array<any>> | string,
  options: (WorkflowUpdateOptions & { readonly args?: ReadonlyArray<unknown> }) | undefined,
  headers: Headers = {},
): ClientUpdate => {
  const name = required(typeof def === "string" ? def : def?.name, "update name")
  const updateId = options?.updateId === undefined ? randomUUID() : required(options.updateId, "updateId")
  const args = encodeArgs(options?.args ?? [], `update ${name} args`)
  connection.payloads.check(args, `update ${name} args`)
  return { updateId, name, args, ...headersField(headers, `update ${name}`) }
}

/** The update options interceptors see: the update id is chosen before them (Temporal's order). */
const updateOptionsOf = (options: WorkflowUpdateOptions | undefined, waitForStage: WorkflowUpdateStage) =>
  ({ updateId: options?.updateId === undefined ? randomUUID() : required(options.updateId, "updateId"), waitForStage })

/** The update's result, or the `WorkflowUpdateFailedError` it ended with. */
const updateOutcome = (update: UpdateState): unknown => {
  if (update.failure === undefined) return decode(update.result)
  throw new WorkflowUpdateFailedError("Workflow Update failed", fromFailureInfo(update.failure))
}

/** Workflow operations (`client.workflow`). */
export class WorkflowClient {
  readonly #host: HandleHost

  constructor(private readonly connection: Connection, private readonly interceptors: ReadonlyArray<WorkflowClientInterceptor> = []) {
    this.#host = {
      connection,
      interceptors,
      run: (effect) => this.run(effect),
      updateHandle: (workflowId, runId, updateId) => this.#updateHandle(workflowId, runId, updateId),
      accepted: (workflowId, runId, updateId) => this.#accepted(workflowId, runId, updateId),
    }
  }

  /** Internal: run a client program, mapping its errors to Temporal's classes. */
  run<A>(effect: Effect.Effect<A, { readonly _tag: string }, Store>): Promise<A> {
    return this.connection.run(effect.pipe(Effect.mapError((error) => temporalError(error))))
  }

  /**
   * Start a workflow. Rejects with `WorkflowExecutionAlreadyStartedError` while one with the same id runs,
   * and with `PayloadSizeLimitError` when its arguments exceed the connection's `payloadLimits`
   * (as do `signal` and `query`).
   */
  async start<T extends Workflow>(workflow: T | string, options: WorkflowStartOptions<Parameters<T>>): Promise<WorkflowHandle<T>> {
    const where = "client.workflow.start(workflow, options)"
    checkOptions(where, options, START_OPTIONS, UNSUPPORTED_CLIENT_START)
    let version: number | undefined
    const start = composeInterceptors(this.interceptors, "start", async (input) => {
      const run = this.#newRun(input.workflowType, input.options)
      const started = await this.run(startWorkflow({ ...run, ...headersField(input.headers, where) }, startPolicies(where, input.options), this.connection.retentionMs))
      version = started.version
      return started.runId
    })
    const runId = await start({ workflowType: workflowTypeOf(workflow), headers: {}, options })
    return this.#handle<T>(options.workflowId, undefined, runId, version)
  }

  /** A handle on update `updateId` of run `runId` (default: the latest run) of `workflowId`. */
  #updateHandle<Ret>(workflowId: string, runId: string | undefined, updateId: string): WorkflowUpdateHandle<Ret> {
    return {
      updateId,
      workflowId,
      ...(runId === undefined ? {} : { workflowRunId: runId }),
      result: async () => updateOutcome(await this.run(asResultWaiter(awaitUpdateStage(workflowId, runId, updateId, "COMPLETED")))) as Ret,
    }
  }

  /** Wait until the update is accepted: its handle, or its rejection (Temporal's `startUpdate` throws then). */
  async #accepted<Ret>(workflowId: string, runId: string, updateId: string): Promise<WorkflowUpdateHandle<Ret>> {
    const accepted = await this.run(asResultWaiter(awaitUpdateStage(workflowId, runId, updateId, "ACCEPTED")))
    if (accepted.rejected === true) updateOutcome(accepted)
    return this.#updateHandle<Ret>(workflowId, runId, updateId)
  }

  /** A new run's parameters from start options (checked). */
  #newRun(workflow: Workflow | string, options: StartOptionsWithoutPolicies<Array<unknown>>): NewRun {
    const workflowType = workflowTypeOf(workflow)
    const workflowId = required(options?.workflowId, "workflowId")
    const taskQueue = required(options.taskQueue, "taskQueue")
    const args = encodeArgs(options.args ?? [])
    this.connection.payloads.check(args, `start workflow ${workflowType} args`)
    return { workflowId, runId: randomUUID(), workflowType, taskQueue, args, ...startFieldsOf(options, `start workflow ${workflowType}`) }
  }

  /**
   * Signal the running execution of `workflowId`, or start one and signal it
   * (Temporal's `signalWithStart`), atomically: one commit in the store, so
   * the signal is never lost between a start and a close.
   */
  async signalWithStart<T extends Workflow, SignalArgs extends Array<any> = Array<any>>(
    workflow: T | string,
    options: WorkflowSignalWithStartOptions<Parameters<T>, SignalArgs>,
  ): Promise<WorkflowHandleWithSignaledRunId<T>> {
    checkOptions("client.workflow.signalWithStart(workflow, options)", options, SIGNAL_WITH_START_OPTIONS, UNSUPPORTED_SIGNAL_WITH_START)
    let runId: string | undefined
    const signalWithStart = composeInterceptors(this.interceptors, "signalWithStart", async (input) => {
      const run = this.#newRun(input.workflowType, input.options)
      runId = run.runId
      const name = required(input.signalName, "signal")
      const signalArgs = encodeArgs(input.signalArgs, `signal ${name} args`)
      const headers = headersField(input.headers, "client.workflow.signalWithStart")
      const where = "client.workflow.signalWithStart(workflow, options)"
      const policies = startPolicies(where, input.options)
      if (policies.conflict === "FAIL") {
        throw new InvalidArgumentError({ message: `${where}: workflowIdConflictPolicy FAIL is not supported by signalWithStart (it signals an open run; client.workflow.start fails on one)` })
      }
      const signal = { signalId: randomUUID(), name, args: signalArgs, ...headers }
      return this.run(signalWithStartWorkflow({ ...run, ...headers }, signal, { ...policies, conflict: policies.conflict ?? "USE_EXISTING" }, this.connection.retentionMs))
    })
    const { signal, signalArgs, ...startOptions } = options
    const signaledRunId = await signalWithStart({
      workflowType: workflowTypeOf(workflow),
      signalName: required(typeof signal === "string" ? signal : signal?.name, "signal"),
      signalArgs: signalArgs ?? [],
      headers: {},
      options: startOptions,
    })
    return Object.assign(this.#handle<T>(options.workflowId, undefined, signaledRunId === runId ? runId : undefined, undefined), { signaledRunId })
  }

  /**
   * Temporal's update-with-start: send the update to the open run of the
   * operation's workflow id, or start a run with the update right behind
   * its `Start` — by the operation's `workflowIdConflictPolicy` — in one
   * commit, and wait for the update's result.
   */
  async executeUpdateWithStart<T extends Workflow, Ret, Args extends Array<any>>(
    update: UpdateDefinition<Ret, Args> | string,
    options: WorkflowUpdateOptions & { readonly args?: Args; readonly startWorkflowOperation: WithStartWorkflowOperation<T> },
  ): Promise<Ret> {
    checkOptions("client.workflow.executeUpdateWithStart(update, options)", options, [...UPDATE_OPTIONS, "startWorkflowOperation"])
    const { workflowId, runId, updateId } = await this.#updateWithStart("executeUpdateWithStart", update, options, WorkflowUpdateStage.COMPLETED)
    return this.#updateHandle<Ret>(workflowId, runId, updateId).result()
  }

  /** Update-with-start, returning once the update is accepted (or rejected: `WorkflowUpdateFailedError`). */
  async startUpdateWithStart<T extends Workflow, Ret, Args extends Array<any>>(
    update: UpdateDefinition<Ret, Args> | string,
    options: WorkflowUpdateOptions & {
      readonly args?: Args
      readonly waitForStage: typeof WorkflowUpdateStage.ACCEPTED
      readonly startWorkflowOperation: WithStartWorkflowOperation<T>
    },
  ): Promise<WorkflowUpdateHandle<Ret>> {
    const where = "client.workflow.startUpdateWithStart(update, options)"
    checkOptions(where, options, [...START_UPDATE_OPTIONS, "startWorkflowOperation"])
    checkStage(where, options.waitForStage)
    const { workflowId, runId, updateId } = await this.#updateWithStart("startUpdateWithStart", update, options, WorkflowUpdateStage.ACCEPTED)
    return this.#accepted<Ret>(workflowId, runId, updateId)
  }

  async #updateWithStart(
    method: string,
    update: UpdateDefinition<any, any> | string,
    options: WorkflowUpdateOptions & { readonly args?: Array<unknown>; readonly startWorkflowOperation: WithStartWorkflowOperation<any> },
    waitForStage: WorkflowUpdateStage,
  ): Promise<{ readonly workflowId: string; readonly runId: string; readonly updateId: string }> {
    const operation = options.startWorkflowOperation
    if (!(operation instanceof WithStartWorkflowOperation)) {
      throw new InvalidArgumentError({ message: `client.workflow.${method}: startWorkflowOperation must be a WithStartWorkflowOperation` })
    }
    const where = `client.workflow.${method}: startWorkflowOperation`
    const policies = startPolicies(where, operation.options)
    const { conflict } = policies
    if (conflict === undefined) {
      throw new InvalidArgumentError({ message: `${where}: workflowIdConflictPolicy is required (Temporal's update-with-start requires it; usually USE_EXISTING)` })
    }
    const send = composeInterceptors(this.interceptors, "startUpdateWithStart", async (input) => {
      const run = this.#newRun(input.workflowType, input.workflowStartOptions)
      const request = clientUpdate(this.connection, input.updateName, { ...input.updateOptions, args: input.updateArgs }, input.updateHeaders)
      const runId = await this.run(updateWithStartWorkflow({ ...run, ...headersField(input.workflowStartHeaders, where) }, request, { ...policies, conflict }, this.connection.retentionMs))
      return { workflowExecution: { workflowId: run.workflowId, runId }, updateId: request.updateId }
    })
    const outcome = operation.claim(async () => {
      const sent = await send({
        workflowType: workflowTypeOf(operation.workflowTypeOrFunc),
        workflowStartOptions: operation.options,
        workflowStartHeaders: {},
        updateName: required(typeof update === "string" ? update : update?.name, "update name"),
        updateArgs: options.args ?? [],
        updateOptions: updateOptionsOf(options, waitForStage),
        updateHeaders: {},
      })
      const { workflowId, runId } = sent.workflowExecution
      return { handle: this.#handle(workflowId, undefined, runId, undefined), request: { workflowId, runId, updateId: sent.updateId } }
    })
    return (await outcome).request
  }

  /**
   * The executions a list filter selects, newest first unless it says
   * `ORDER BY` (Temporal's `client.workflow.list`): read lazily, a page at a
   * time, from the store's own index. A malformed query, or one naming a
   * search attribute the namespace has not declared, is an
   * `InvalidArgumentError` pointing at the offending token.
   */
  list(options?: ListOptions): AsyncIterable<WorkflowExecutionInfo> {
    return listWorkflows(this.connection, options)
  }

  /** How many executions `query` selects; `GROUP BY ExecutionStatus` adds `groups`. */
  count(query?: string): Promise<CountWorkflowExecution> {
    return countWorkflows(this.connection, query)
  }

  /** Start a workflow and wait for its result. */
  async execute<T extends Workflow>(workflow: T | string, options: WorkflowStartOptions<Parameters<T>>): Promise<Result<T>> {
    const handle = await this.start(workflow, options)
    return handle.result()
  }

  /**
   * A handle on a workflow. Without `runId` it addresses the current run —
   * signals and cancellations follow the workflow across continue-as-new;
   * with `runId` they reach that run only (and are dropped if it has ended).
   */
  getHandle<T extends Workflow = Workflow>(
    workflowId: string,
    runId?: string,
    options?: { readonly firstExecutionRunId?: string },
  ): WorkflowHandle<T> {
    return this.#handle<T>(workflowId, runId, options?.firstExecutionRunId ?? runId, undefined)
  }

  /** A handle; `startedVersion` is the record version this client's start wrote (a result waiter need not load it again). */
  #handle<T extends Workflow>(workflowId: string, runId: string | undefined, firstExecutionRunId: string | undefined, startedVersion: number | undefined): WorkflowHandle<T> {
    return new ClientWorkflowHandle<T>(this.#host, required(workflowId, "workflowId"), runId, firstExecutionRunId, startedVersion)
  }
}

/** What a handle needs of its client: one per client, shared by its handles. */
interface HandleHost {
  readonly connection: Connection
  readonly interceptors: ReadonlyArray<WorkflowClientInterceptor>
  readonly run: <A>(effect: Effect.Effect<A, { readonly _tag: string }, Store>) => Promise<A>
  readonly updateHandle: <Ret>(workflowId: string, runId: string | undefined, updateId: string) => WorkflowUpdateHandle<Ret>
  readonly accepted: <Ret>(workflowId: string, runId: string, updateId: string) => Promise<WorkflowUpdateHandle<Ret>>
}

/**
 * A workflow handle. Its methods live on the prototype (a client may hold
 * thousands of handles; closures per handle cost about 1.5 KB each) and,
 * as Temporal's, are called on the handle.
 */
class ClientWorkflowHandle<T extends Workflow> implements WorkflowHandle<T> {
  readonly #host: HandleHost
  readonly #startedVersion: number | undefined

  constructor(
    host: HandleHost,
    readonly workflowId: string,
    readonly runId: string | undefined,
    readonly firstExecutionRunId: string | undefined,
    startedVersion: number | undefined,
  ) {
    this.#host = host
    this.#startedVersion = startedVersion
  }

  get #pinned(): { readonly runId?: string } {
    return this.runId === undefined ? {} : { runId: this.runId }
  }

  get #workflowExecution(): { readonly workflowId: string; readonly runId?: string } {
    return { workflowId: this.workflowId, ...this.#pinned }
  }

  get #firstRun(): { readonly firstExecutionRunId?: string } {
    return this.firstExecutionRunId === undefined ? {} : { firstExecutionRunId: this.firstExecutionRunId }
  }

  #intercepted<M extends "signal" | "query" | "terminate" | "cancel" | "describe">(method: M, next: Parameters<typeof composeInterceptors<WorkflowClientInterceptor, M>>[2]) {
    return composeInterceptors(this.#host.interceptors, method, next)
  }

  async result(): Promise<Result<T>> {
    return outcomeOf(await this.#host.run(asResultWaiter(awaitClosed(this.workflowId, undefined, this.#startedVersion)))) as Result<T>
  }

  async signal<Args extends Array<any>>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void> {
    const { connection, run } = this.#host
    const workflowId = this.workflowId
    const pinned = this.#pinned
    await this.#intercepted("signal", async (input) => {
      const name = required(input.signalName, "signal name")
      const payloads = encodeArgs(input.args, `signal ${name} args`)
      connection.payloads.check(payloads, `signal ${name} args`)
      const signalId = randomUUID()
      const headers = headersField(input.headers, "handle.signal")
      await run(sendToRunning(workflowId, () => ({ type: "Signal", ...pinned, signalId, name, args: payloads, ...headers })))
    })({ signalName: required(typeof def === "string" ? def : def?.name, "signal name"), args, workflowExecution: this.#workflowExecution, headers: {} })
  }

  async query<Ret, Args extends Array<any> = []>(def: QueryDefinition<Ret, Args> | string, ...args: Args): Promise<Ret> {
    return this.#intercepted("query", (input) => queryOnce(this.#host.connection, this.workflowId)(required(input.queryType, "query name"), input.args, input.headers))({
      queryType: required(typeof def === "string" ? def : def?.name, "query name"),
      args,
      workflowExecution: this.#workflowExecution,
      headers: {},
    }) as Promise<any>
  }

  async cancel(): Promise<void> {
    const pinned = this.#pinned
    await this.#intercepted("cancel", () => this.#host.run(sendToRunning(this.workflowId, () => ({ type: "CancelRequested", ...pinned }))))({
      workflowExecution: this.#workflowExecution,
      ...this.#firstRun,
    })
  }

  async terminate(reason = "terminated by client"): Promise<void> {
    const { connection, run } = this.#host
    await this.#intercepted("terminate", (input) => run(terminateWorkflow(this.workflowId, input.reason ?? reason, connection.retentionMs)))({
      workflowExecution: this.#workflowExecution,
      reason,
      ...this.#firstRun,
    })
  }

  async describe(): Promise<WorkflowExecutionDescription> {
    const { workflowId, runId } = this
    return this.#intercepted("describe", async () => {
      const state = await this.#host.run(retryBriefOutage(describeWorkflow(workflowId)))
      // One record per workflow id: a handle pinned to an older run cannot describe it (rather than describing another run).
      if (runId !== undefined && state.runId !== runId) {
        throw new WorkflowNotFoundError(`run ${runId} of workflow ${workflowId} is not its latest run (${state.runId}); HotMesh keeps the latest run's record only`, workflowId)
      }
      return describeState(state)
    })({ workflowExecution: this.#workflowExecution })
  }

  async executeUpdate(def: UpdateDefinition<any, any> | string, options?: WorkflowUpdateOptions & { readonly args?: Array<unknown> }): Promise<any> {
    checkOptions("handle.executeUpdate(def, options)", options, UPDATE_OPTIONS)
    const { updateId, sentTo } = await this.#sendUpdate(def, options, WorkflowUpdateStage.COMPLETED)
    return this.#host.updateHandle<any>(this.workflowId, sentTo, updateId).result()
  }

  async startUpdate(def: UpdateDefinition<any, any> | string, options: WorkflowUpdateOptions & { readonly args?: Array<unknown>; readonly waitForStage: string }): Promise<WorkflowUpdateHandle<any>> {
    checkOptions("handle.startUpdate(def, options)", options, START_UPDATE_OPTIONS)
    checkStage("handle.startUpdate(def, options)", options?.waitForStage)
    const { updateId, sentTo } = await this.#sendUpdate(def, options, WorkflowUpdateStage.ACCEPTED)
    return this.#host.accepted<any>(this.workflowId, sentTo, updateId)
  }

  getUpdateHandle<Ret>(updateId: string): WorkflowUpdateHandle<Ret> {
    return this.#host.updateHandle<Ret>(this.workflowId, this.runId, required(updateId, "updateId"))
  }

  async fetchHistory(): Promise<{ readonly workflowId: string; readonly runId: string; readonly workflowType: string; readonly events: ReadonlyArray<JournalEntry> }> {
    const { run } = this.#host
    const state = await run(retryBriefOutage(describeWorkflow(this.workflowId)))
    const events = await run(readJournal(this.workflowId, state.runId))
    return { workflowId: this.workflowId, runId: state.runId, workflowType: state.workflowType, events }
  }

  async #sendUpdate(
    def: UpdateDefinition<unknown, Array<any>> | string,
    options: (WorkflowUpdateOptions & { readonly args?: Array<unknown> }) | undefined,
    waitForStage: WorkflowUpdateStage,
  ): Promise<{ readonly updateId: string; readonly sentTo: string }> {
    const { connection, run, interceptors } = this.#host
    const { workflowId, runId } = this
    const send = composeInterceptors(interceptors, "startUpdate", async (input) => {
      const update = clientUpdate(connection, input.updateName, { ...input.options, args: input.args }, input.headers)
      return { updateId: update.updateId, workflowRunId: await run(sendUpdate(workflowId, runId, update)) }
    })
    const sent = await send({
      updateName: required(typeof def === "string" ? def : def?.name, "update name"),
      args: options?.args ?? [],
      workflowExecution: this.#workflowExecution,
      ...this.#firstRun,
      headers: {},
      options: updateOptionsOf(options, waitForStage),
    })
    return { updateId: sent.updateId, sentTo: sent.workflowRunId }
  }
}

const headersField = (headers: Headers, where: string): { readonly headers?: NonNullable<ReturnType<typeof storedHeaders>> } => {
  const stored = storedHeaders(headers, where)
  return stored === undefined ? {} : { headers: stored }
}

/** One query round trip: the answer, or Temporal's error for why there is none. */
const queryOnce = (connection: Connection, workflowId: string) => async (name: string, args: ReadonlyArray<unknown>, headers: Headers): Promise<unknown> => {
  const payloads = encodeArgs(args, `query ${name} args`)
  connection.payloads.check(payloads, `query ${name} args`)
  // An RPC deadline in real time (not the store's clock, which a test environment may hold still).
  const deadline = AbortSignal.timeout(QUERY_TIMEOUT_MS)
  const outcome = await connection.run(
    queryWorkflow(workflowId, randomUUID(), name, payloads, 2 ** 31 - 1, storedHeaders(headers, "handle.query")).pipe(Effect.mapError((error) => temporalError(error))),
    deadline,
  ).catch((error: unknown) => {
    if (!deadline.aborted) throw error
    throw new QueryFailedError(`query ${name} of workflow ${workflowId} got no answer within ${QUERY_TIMEOUT_MS} ms (is a worker polling its task queue?)`)
  })
  if (outcome.ok) return decode(outcome.result)
  if (outcome.failure.type === "QueryNotRegisteredError") throw new QueryNotRegisteredError(outcome.failure.message, name)
  if (outcome.failure.type === "WorkflowNotFoundError") throw new WorkflowNotFoundError(outcome.failure.message, workflowId)
  throw new QueryFailedError(outcome.failure.message, { cause: fromFailureInfo(outcome.failure) })
}

/** Options of `new Client`. */
export interface ClientOptions {
  /** Default: the embedded in-memory store's connection for `namespace`. */
  readonly connection?: Connection
  /** Must be the connection's namespace when both are given (default `"default"` without a connection). */
  readonly namespace?: string
  /** Temporal's `ClientInterceptors`: `{ workflow: [WorkflowClientInterceptor, ...] }`. */
  readonly interceptors?: ClientInterceptors
}

/** The client (Temporal's `Client`): `client.workflow.start/execute/getHandle/list/count`, `client.deadLetters`, `client.taskQueue(name)`. */
export class Client {
  readonly workflow: WorkflowClient
  /** The task queues' parked messages: list, retry, purge. */
  readonly deadLetters: DeadLetterClient
  /** The namespace's declared search-attribute keys, which list filters may name. */
  readonly searchAttributes: SearchAttributeClient
  /** Async activity completion by task token (Temporal's `client.activity`). */
  readonly activity: AsyncCompletionClient
  readonly connection: Connection
  constructor(options: ClientOptions = {}) {
    checkOptions("new Client(options)", options, CLIENT_OPTIONS, UNSUPPORTED_CLIENT)
    if (options.connection !== undefined && typeof (options.connection as Partial<Connection>).run !== "function") {
      throw new InvalidArgumentError({ message: "new Client({ connection }): connection must come from Connection.connect()" })
    }
    if (options.namespace !== undefined && (typeof options.namespace !== "string" || options.namespace.length === 0)) {
      throw new InvalidArgumentError({ message: "new Client({ namespace }): namespace must be a non-empty string" })
    }
    const connection = options.connection ?? Connection.embedded(options.namespace)
    checkNamespace("new Client(options)", options.namespace, connection)
    this.connection = connection
    checkOptions("new Client(options).interceptors", options.interceptors, ["workflow"], { schedule: "is a Temporal option HotMesh does not support yet (no schedules)" })
    const workflowInterceptors = options.interceptors?.workflow ?? []
    if (!Array.isArray(workflowInterceptors)) {
      throw new InvalidArgumentError({ message: "new Client({ interceptors }): interceptors.workflow must be an array of WorkflowClientInterceptor (Temporal's older factory object is not supported)" })
    }
    for (const interceptor of workflowInterceptors) {
      const unwired = ["startWithDetails"].find((method) => typeof (interceptor as Record<string, unknown>)[method] === "function")
      if (unwired !== undefined) throw new InvalidArgumentError({ message: `new Client({ interceptors }): ${unwired} is a Temporal client interceptor HotMesh does not support yet (implement start); it would never be called` })
    }
    this.workflow = new WorkflowClient(connection, workflowInterceptors)
    this.deadLetters = new DeadLetterClient(connection)
    this.searchAttributes = new SearchAttributeClient(connection)
    this.activity = new AsyncCompletionClient(connection)
  }

  /** A task queue, to describe what waits on it (streams, consumers, timers, dead letters). */
  taskQueue(name: string): TaskQueueClient {
    return new TaskQueueClient(this.connection, name)
  }
}
