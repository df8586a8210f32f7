/**
 * `Client`: start workflows and talk to them (Temporal's `Client`).
 * Every call is a message on the workflow's stream; nothing here runs
 * workflow or activity code.
 */
import { randomUUID } from "node:crypto"
import { asResultWaiter } from "../effects/progressProbe.ts"
import { retryBriefOutage } from "../effects/storeRetry.ts"
import { Effect } from "effect"
import { InvalidArgumentError } from "../core/errors.ts"
import type { JournalEntry } from "../core/journal.ts"
import { decode, encodeArgs } from "../core/payload.ts"
import type { ExecutionState, WorkflowStatus } from "../core/state.ts"
import {
  awaitClosed,
  describeWorkflow,
  queryWorkflow,
  readJournal,
  sendToRunning,
  signalWithStartWorkflow,
  startWorkflow,
  terminateWorkflow,
} from "../effects/client.ts"
import type { Store } from "../stores/Store.ts"
import { checkNamespace, Connection } from "./connection.ts"
import { checkOptions, UNSUPPORTED_CLIENT, UNSUPPORTED_CLIENT_START } from "./internal/options.ts"
import { AsyncCompletionClient } from "./asyncCompletion.ts"
import { DeadLetterClient } from "./deadLetters.ts"
import {
  QueryFailedError,
  QueryNotRegisteredError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "./errors.ts"
import { fromFailureInfo } from "./failures.ts"
import type { QueryDefinition, SignalDefinition, Workflow } from "./workflow/api.ts"

/** Options of `client.workflow.start` / `execute`. */
export interface WorkflowStartOptions<Args extends Array<any> = Array<any>> {
  readonly taskQueue: string
  readonly workflowId: string
  readonly args?: Args
}

/** Options of `client.workflow.signalWithStart` (Temporal's `WorkflowSignalWithStartOptions`). */
export interface WorkflowSignalWithStartOptions<Args extends Array<any> = Array<any>, SignalArgs extends Array<any> = Array<any>> extends WorkflowStartOptions<Args> {
  readonly signal: SignalDefinition<SignalArgs> | string
  readonly signalArgs?: SignalArgs
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
   * was dispatched (`STARTED`).
   */
  readonly pendingActivities: ReadonlyArray<{
    readonly activityId: string
    readonly activityType: string
    readonly attempt: number
    readonly state: "SCHEDULED" | "STARTED"
    readonly lastFailure?: { readonly type?: string; readonly message: string }
  }>
  /** Why the workflow's last task failed (unknown type, a bug, non-determinism); it is being retried. */
  readonly taskFailure?: { readonly type: string; readonly message: string; readonly attempt: number }
  readonly parent?: { readonly workflowId: string; readonly runId: string }
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
  /** The run's journal (history) as JSON-serializable data. */
  fetchHistory(): Promise<{ readonly workflowId: string; readonly runId: string; readonly workflowType: string; readonly events: ReadonlyArray<JournalEntry> }>
}

const QUERY_TIMEOUT_MS = 10_000
const START_OPTIONS = ["taskQueue", "workflowId", "args"] satisfies Array<keyof WorkflowStartOptions>
const SIGNAL_WITH_START_OPTIONS = [...START_OPTIONS, "signal", "signalArgs"] satisfies Array<keyof WorkflowSignalWithStartOptions>
const CLIENT_OPTIONS = ["connection", "namespace"] satisfies Array<keyof ClientOptions>

const required = (value: unknown, name: string): string => {
  if (typeof value !== "string" || value.length === 0) throw new InvalidArgumentError({ message: `${name} is required and must be a non-empty string` })
  return value
}

const workflowTypeOf = (workflow: Workflow | string): string =>
  required(typeof workflow === "string" ? workflow : typeof workflow === "function" ? workflow.name : undefined, "workflow type (a named function or a string)")

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
    state: activity.dispatched ? "STARTED" as const : "SCHEDULED" as const,
    ...(activity.lastFailure === undefined
      ? {}
      : { lastFailure: { ...(activity.lastFailure.type === undefined ? {} : { type: activity.lastFailure.type }), message: activity.lastFailure.message } }),
  })),
  ...(state.taskFailure === undefined
    ? {}
    : { taskFailure: { type: state.taskFailure.type, message: state.taskFailure.message, attempt: state.taskFailure.attempt } }),
  ...(state.parent === undefined ? {} : { parent: { workflowId: state.parent.workflowId, runId: state.parent.runId } }),
})

/** The result of a closed run, or the `WorkflowFailedError` it ended with. */
export const outcomeOf = (state: ExecutionState): unknown => {
  if (state.status === "COMPLETED") return decode(state.result)
  const cause = state.failure === undefined ? undefined : fromFailureInfo(state.failure)
  throw new WorkflowFailedError(`Workflow execution ${state.status.toLowerCase()}: ${state.workflowId}`, cause, state.status)
}

/** Workflow operations (`client.workflow`). */
export class WorkflowClient {
  constructor(private readonly connection: Connection) {}

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
    checkOptions("client.workflow.start(workflow, options)", options, START_OPTIONS, UNSUPPORTED_CLIENT_START)
    const workflowType = workflowTypeOf(workflow)
    const workflowId = required(options?.workflowId, "workflowId")
    const taskQueue = required(options.taskQueue, "taskQueue")
    const args = encodeArgs(options.args ?? [])
    this.connection.payloads.check(args, `start workflow ${workflowType} args`)
    const runId = randomUUID()
    const version = await this.run(startWorkflow({ workflowId, runId, workflowType, taskQueue, args }))
    return this.#handle<T>(workflowId, undefined, runId, version)
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
    checkOptions("client.workflow.signalWithStart(workflow, options)", options, SIGNAL_WITH_START_OPTIONS, UNSUPPORTED_CLIENT_START)
    const workflowType = workflowTypeOf(workflow)
    const workflowId = required(options?.workflowId, "workflowId")
    const taskQueue = required(options.taskQueue, "taskQueue")
    const name = required(typeof options.signal === "string" ? options.signal : options.signal?.name, "signal")
    const args = encodeArgs(options.args ?? [])
    const signalArgs = encodeArgs(options.signalArgs ?? [], `signal ${name} args`)
    const runId = randomUUID()
    const signaledRunId = await this.run(signalWithStartWorkflow({ workflowId, runId, workflowType, taskQueue, args }, { signalId: randomUUID(), name, args: signalArgs }))
    return { ...this.#handle<T>(workflowId, undefined, signaledRunId === runId ? runId : undefined, undefined), signaledRunId }
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
    required(workflowId, "workflowId")
    const connection = this.connection
    const run = <A>(effect: Effect.Effect<A, { readonly _tag: string }, Store>) => this.run(effect)
    const pinned = runId === undefined ? {} : { runId }
    return {
      workflowId,
      runId,
      firstExecutionRunId,
      async result() {
        return outcomeOf(await run(asResultWaiter(awaitClosed(workflowId, undefined, startedVersion)))) as Result<T>
      },
      async signal(def, ...args) {
        const name = required(typeof def === "string" ? def : def?.name, "signal name")
        const payloads = encodeArgs(args, `signal ${name} args`)
        connection.payloads.check(payloads, `signal ${name} args`)
        const signalId = randomUUID()
        await run(sendToRunning(workflowId, () => ({ type: "Signal", ...pinned, signalId, name, args: payloads })))
      },
      async query(def, ...args) {
        const name = required(typeof def === "string" ? def : def?.name, "query name")
        const payloads = encodeArgs(args, `query ${name} args`)
        connection.payloads.check(payloads, `query ${name} args`)
        // An RPC deadline in real time (not the store's clock, which a test environment may hold still).
        const deadline = AbortSignal.timeout(QUERY_TIMEOUT_MS)
        const outcome = await connection.run(
          queryWorkflow(workflowId, randomUUID(), name, payloads, 2 ** 31 - 1).pipe(Effect.mapError((error) => temporalError(error))),
          deadline,
        ).catch((error: unknown) => {
          if (!deadline.aborted) throw error
          throw new QueryFailedError(`query ${name} of workflow ${workflowId} got no answer within ${QUERY_TIMEOUT_MS} ms (is a worker polling its task queue?)`)
        })
        if (outcome.ok) return decode(outcome.result) as any
        if (outcome.failure.type === "QueryNotRegisteredError") throw new QueryNotRegisteredError(outcome.failure.message, name)
        if (outcome.failure.type === "WorkflowNotFoundError") throw new WorkflowNotFoundError(outcome.failure.message, workflowId)
        throw new QueryFailedError(outcome.failure.message, { cause: fromFailureInfo(outcome.failure) })
      },
      async cancel() {
        await run(sendToRunning(workflowId, () => ({ type: "CancelRequested", ...pinned })))
      },
      async terminate(reason = "terminated by client") {
        await run(terminateWorkflow(workflowId, reason, connection.retentionMs))
      },
      async describe() {
        return describeState(await run(retryBriefOutage(describeWorkflow(workflowId))))
      },
      async fetchHistory() {
        const state = await run(retryBriefOutage(describeWorkflow(workflowId)))
        const events = await run(readJournal(workflowId, state.runId))
        return { workflowId, runId: state.runId, workflowType: state.workflowType, events }
      },
    }
  }
}

/** Options of `new Client`. */
export interface ClientOptions {
  /** Default: the embedded in-memory store's connection for `namespace`. */
  readonly connection?: Connection
  /** Must be the connection's namespace when both are given (default `"default"` without a connection). */
  readonly namespace?: string
}

/** The client (Temporal's `Client`): `client.workflow.start/execute/getHandle`, and `client.deadLetters`. */
export class Client {
  readonly workflow: WorkflowClient
  /** The task queues' parked messages: list, retry, purge. */
  readonly deadLetters: DeadLetterClient
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
    this.workflow = new WorkflowClient(connection)
    this.deadLetters = new DeadLetterClient(connection)
    this.activity = new AsyncCompletionClient(connection)
  }
}
