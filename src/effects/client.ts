/**
 * Client operations as Effect programs: start, signal, cancel, terminate,
 * query, describe, wait for a result, read the journal. A client never
 * touches a running workflow's state directly: it appends a message to the
 * workflow's stream (a start additionally creates the run's record,
 * atomically with its `Start` message, so a duplicate id is rejected at once).
 */
import { Clock, Data, Effect, Option } from "effect"
import type { TaskToken, WorkflowMessage } from "../core/messages.ts"
import type { Headers, Payload } from "../core/payload.ts"
import type { ExecutionState, NewRun, UpdateState } from "../core/state.ts"
import {
  type AlreadyRunning,
  type ClientSignal,
  type ClientUpdate,
  reduce,
  requestSignalWithStart,
  requestStart,
  requestUpdateWithStart,
  type ReuseRejected,
  type StartPolicies,
  type WorkflowIdConflictPolicy,
} from "../core/reduce.ts"
import { type CommitConflict, Store, type StoreError } from "../stores/Store.ts"
import { attemptStatus } from "./activityTasks.ts"
import { retryBriefOutage } from "./storeRetry.ts"
import { commitTransition, decodeExecution, loadExecution, loadJournal, NO_RECORD, retryConflicts, sendToWorkflow, takeQueryAnswer, type Versioned } from "./executions.ts"
import { nextWriteToken } from "./writeToken.ts"

/** `start` found a running execution with the same workflow id. */
export class WorkflowAlreadyRunning extends Data.TaggedError("WorkflowAlreadyRunning")<{ readonly workflowId: string; readonly workflowType: string }> {}

/** No execution with this id (or, for `requireRunning`, none running). */
export class WorkflowNotFound extends Data.TaggedError("WorkflowNotFound")<{ readonly workflowId: string; readonly message: string }> {}

/** An outcome sent with a task token for an attempt its workflow no longer waits for (retried, timed out, closed). */
export class ActivityNotFound extends Data.TaggedError("ActivityNotFound")<{ readonly message: string }> {}

/** A query got no answer in time (no worker for the task queue?). */
export class QueryTimedOut extends Data.TaggedError("QueryTimedOut")<{ readonly workflowId: string; readonly name: string; readonly timeoutMs: number }> {}

const CONFLICT_RETRIES = 20

/**
 * One client commit that may start a run (start, signal-with-start,
 * update-with-start). A new workflow id costs one round trip: the first
 * attempt assumes there is no record (also right for a record a store
 * rollback took away), and only a conflict makes it load one. `attempt`
 * gets the record, the time and the token of the write it may make (which
 * travels in the run's `Start`, so the worker's guess names it).
 */
const startCommit = <A, E>(
  workflowId: string,
  attempt: (current: Versioned, now: number, token: string) => Effect.Effect<A, E | CommitConflict | StoreError, Store>,
): Effect.Effect<A, E | CommitConflict | StoreError, Store> => {
  const once = (current: Versioned) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const token = yield* nextWriteToken
      return yield* attempt(current, now, token)
    })
  return retryBriefOutage(once({ ...NO_RECORD, state: undefined }).pipe(
    Effect.catchTag("CommitConflict", () => retryConflicts(Effect.flatMap(loadExecution(workflowId), once), CONFLICT_RETRIES)),
  ))
}

/** A start refused by its policies: the open run (conflict `FAIL`) or a closed one its reuse policy keeps. */
const refused = (run: NewRun, outcome: AlreadyRunning | ReuseRejected): WorkflowAlreadyRunning =>
  new WorkflowAlreadyRunning({ workflowId: run.workflowId, workflowType: ("alreadyRunning" in outcome ? outcome.alreadyRunning : outcome.reuseRejected).workflowType })

/** The run a start wrote, or the open one it used (`USE_EXISTING`: no `version`). */
export interface Started {
  readonly runId: string
  /** The version of the record the start wrote. */
  readonly version?: number
}

/**
 * Start a new run (`requestStart`, with Temporal's workflow-id policies);
 * fails with `WorkflowAlreadyRunning` when they refuse it. Idempotent by run
 * id (finding its own run open means an earlier attempt landed), so a brief
 * store outage is ridden out. A start that terminates the open run
 * (`TERMINATE_EXISTING`) expires it after `retentionMs`.
 */
export const startWorkflow = Effect.fnUntraced(function* (run: NewRun, policies: StartPolicies = {}, retentionMs = Infinity) {
  return yield* startCommit(run.workflowId, (current, now, token): Effect.Effect<Started, WorkflowAlreadyRunning | CommitConflict | StoreError, Store> =>
    Effect.gen(function* () {
      // Our own run: an earlier attempt landed but its reply was lost.
      if (current.state?.runId === run.runId) return { runId: run.runId, version: current.version }
      const transition = requestStart(current.state, run, now, { version: current.version + 1, token }, policies)
      if ("existing" in transition) return { runId: transition.existing.runId }
      if ("alreadyRunning" in transition || "reuseRejected" in transition) return yield* refused(run, transition)
      return { runId: run.runId, version: (yield* commitTransition(undefined, current, current.state, transition, { now, retentionMs }, token)).version }
    }))
})

/**
 * Signal the open run of `run.workflowId`, or start `run` and signal it, in
 * one commit (`requestSignalWithStart`). A retry after a lost reply finds
 * its own run open and re-sends the signal under the same id, which the
 * reducer drops. Resolves to the run that received the signal.
 */
export const signalWithStartWorkflow = Effect.fnUntraced(function* (
  run: NewRun,
  signal: ClientSignal,
  policies: StartPolicies & { readonly conflict?: "USE_EXISTING" | "TERMINATE_EXISTING" } = {},
  retentionMs = Infinity,
) {
  return yield* startCommit(run.workflowId, (current, now, token): Effect.Effect<string, WorkflowAlreadyRunning | CommitConflict | StoreError, Store> =>
    Effect.gen(function* () {
      // Our own run (an earlier attempt landed): signal it, whatever the reuse policy says of it.
      const own = current.state?.runId === run.runId ? {} : policies
      const outcome = requestSignalWithStart(current.state, run, signal, now, { version: current.version + 1, token }, own)
      if ("reuseRejected" in outcome) return yield* refused(run, outcome)
      yield* commitTransition(undefined, current, current.state, outcome.transition, { now, retentionMs }, token)
      return outcome.signaledRunId
    }))
})

/**
 * Temporal's update-with-start in one commit (`requestUpdateWithStart`):
 * the update goes to the open run or to a new run right behind its `Start`,
 * by `policies`; `WorkflowAlreadyRunning` when they refuse the start. A retry
 * after a lost reply finds its own run open and re-sends the update under
 * the same id, which the reducer drops. Resolves to the run that got the update.
 */
export const updateWithStartWorkflow = Effect.fnUntraced(function* (
  run: NewRun,
  update: ClientUpdate,
  policies: StartPolicies & { readonly conflict: WorkflowIdConflictPolicy },
  retentionMs: number,
) {
  return yield* startCommit(run.workflowId, (current, now, token): Effect.Effect<string, WorkflowAlreadyRunning | CommitConflict | StoreError, Store> =>
    Effect.gen(function* () {
      const own = current.state?.runId === run.runId ? { conflict: "USE_EXISTING" as const } : {}
      const outcome = requestUpdateWithStart(current.state, run, update, now, { version: current.version + 1, token }, { ...policies, ...own })
      if ("alreadyRunning" in outcome || "reuseRejected" in outcome) return yield* refused(run, outcome)
      yield* commitTransition(undefined, current, current.state, outcome.transition, { now, retentionMs }, token)
      return outcome.updatedRunId
    }))
})

/** The state of `workflowId`'s latest run, or `WorkflowNotFound`. */
export const describeWorkflow = Effect.fnUntraced(function* (workflowId: string) {
  const { state } = yield* loadExecution(workflowId)
  if (state === undefined) return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} not found` })
  return state
})

/**
 * Append `message` to a running execution's stream; `WorkflowNotFound` if it
 * is not running. Rides out a brief store outage: signals carry an id the
 * reducer dedupes, and a second cancel request changes nothing.
 */
export const sendToRunning = Effect.fnUntraced(function* (workflowId: string, message: (state: ExecutionState) => WorkflowMessage) {
  return yield* retryBriefOutage(Effect.gen(function* () {
    const state = yield* describeWorkflow(workflowId)
    if (state.status !== "RUNNING") {
      return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} is not running (status ${state.status})` })
    }
    yield* sendToWorkflow(state.taskQueue, workflowId, message(state))
  }))
})

/** An activity named by its ids (Temporal's `FullActivityId`): its current attempt, in the latest run unless `runId` is given. */
export interface FullActivityId {
  readonly workflowId: string
  readonly runId?: string
  readonly activityId: string
}

/**
 * Report on an activity attempt from outside its worker (async completion):
 * append `message(token)` to its workflow's stream if the attempt `target`
 * names (a task token, or ids naming the current attempt) is still the one the
 * workflow waits for, else `ActivityNotFound`. An attempt that stops being
 * current between the check and the append is safe: the reducer ignores
 * outcomes of attempts that are not current. Says whether the workflow has
 * asked to cancel the activity (its outcome is still taken).
 */
export const sendToActivityAttempt = Effect.fnUntraced(function* (
  target: Omit<TaskToken, "namespace"> | FullActivityId,
  message: (token: Pick<TaskToken, "runId" | "seq" | "attempt">) => WorkflowMessage,
) {
  return yield* retryBriefOutage(Effect.gen(function* () {
    const { state } = yield* loadExecution(target.workflowId)
    const token = "seq" in target ? target : currentAttempt(state, target)
    const status = token === undefined ? "gone" : attemptStatus(state, token)
    if (state === undefined || token === undefined || status === "gone") {
      const which = "seq" in target ? `${target.seq} (attempt ${target.attempt})` : target.activityId
      return yield* new ActivityNotFound({
        message: `activity ${which} of workflow ${target.workflowId}${target.runId === undefined ? "" : ` run ${target.runId}`} is not running: ` +
          `it was retried, timed out, completed or cancelled, or its workflow closed`,
      })
    }
    yield* sendToWorkflow(state.taskQueue, target.workflowId, message({ runId: token.runId, seq: token.seq, attempt: token.attempt }))
    // The workflow asked to cancel the activity: a heartbeat tells its async completer (Temporal's ActivityCancelledError).
    return { cancelRequested: status === "cancelRequested" }
  }))
})

/** The current attempt of the activity `id` names, if its run is the one asked for. */
const currentAttempt = (state: ExecutionState | undefined, id: FullActivityId) => {
  const seq = Number(id.activityId)
  const activity = state?.activities[seq]
  if (state === undefined || activity === undefined || (id.runId !== undefined && id.runId !== state.runId)) return undefined
  return { runId: state.runId, seq, attempt: activity.attempt }
}

/**
 * Terminate a running execution at once: the client runs the same pure
 * transition a worker would (`reduce(state, Terminate)`) and commits it with
 * the version and write token it loaded, so it works with no worker polling
 * and is done when it returns. A worker racing it — or one whose cached state
 * predates a store rollback — loses the commit and sees TERMINATED.
 */
export const terminateWorkflow = Effect.fnUntraced(function* (workflowId: string, reason: string, retentionMs: number) {
  const attempt = Effect.gen(function* () {
    const loaded = yield* loadExecution(workflowId)
    const { state } = loaded
    if (state === undefined) return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} not found` })
    if (state.status !== "RUNNING") {
      return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} is not running (status ${state.status})` })
    }
    const now = yield* Clock.currentTimeMillis
    const transition = reduce(state, { type: "Terminate", runId: state.runId, reason }, now)
    yield* commitTransition(undefined, loaded, state, transition, { now, retentionMs })
  })
  return yield* retryConflicts(attempt, CONFLICT_RETRIES)
})

/** Ask the workflow a query and wait for the answer from a worker. */
export const queryWorkflow = Effect.fnUntraced(function* (
  workflowId: string,
  queryId: string,
  name: string,
  args: ReadonlyArray<Payload>,
  timeoutMs: number,
  headers?: Headers,
) {
  const state = yield* describeWorkflow(workflowId)
  yield* sendToWorkflow(state.taskQueue, workflowId, { type: "Query", runId: state.runId, queryId, name, args, ...(headers === undefined ? {} : { headers }) })
  const reply = yield* takeQueryAnswer(queryId, timeoutMs)
  if (Option.isNone(reply)) return yield* new QueryTimedOut({ workflowId, name, timeoutMs })
  return reply.value
})

const alreadyCompleted = (workflowId: string) => new WorkflowNotFound({ workflowId, message: `workflow execution already completed: ${workflowId}` })

/**
 * Send an update to the open run of `workflowId` (run `runId` if given) and
 * resolve to that run. An update id the run already knows is not sent again:
 * its waiter gets the first update's outcome. On a closed run (or another
 * run than `runId`) `WorkflowNotFound`, as Temporal's "workflow execution
 * already completed".
 */
export const sendUpdate = Effect.fnUntraced(function* (workflowId: string, runId: string | undefined, update: ClientUpdate) {
  return yield* retryBriefOutage(Effect.gen(function* () {
    const state = yield* describeWorkflow(workflowId)
    if (runId !== undefined && state.runId !== runId) return yield* alreadyCompleted(workflowId)
    if (state.updates?.some((known) => known.id === update.updateId) === true) return state.runId
    if (state.status !== "RUNNING") return yield* alreadyCompleted(workflowId)
    yield* sendToWorkflow(state.taskQueue, workflowId, { type: "Update", runId: state.runId, ...update })
    return state.runId
  }))
})

/**
 * The first re-check of a waiter without a notification; doubling to
 * `MAX_POLL_MS`. It is a last resort: a notification lost while the
 * subscriber reconnects wakes every waiter anyway, and a wait that starts
 * after the notifying commit returns at once. With 1 s, most waiters of a
 * busy worker re-read their record at least once for nothing (3,000 workflows
 * started at once: 5,865 of 9,000 results cost one or two extra reads).
 */
const FIRST_POLL_MS = 5000
const MAX_POLL_MS = 30_000

/**
 * Load `workflowId`'s record until `settled` finds what the caller waits
 * for in its state. Wakes on the store's notification (`awaitUpdate`);
 * without one it re-checks after 5 s, then less and less often (up to every
 * 30 s), so many waiters on long workflows do not poll the store in step.
 * `knownVersion` (a version just written, of an open run) skips the first load.
 */
const watchExecution = <A>(
  workflowId: string,
  settled: (state: ExecutionState) => Effect.Effect<A | undefined, WorkflowNotFound>,
  knownVersion?: number,
): Effect.Effect<A, StoreError | WorkflowNotFound, Store> =>
  Effect.gen(function* () {
    const store = yield* Store
    let pollMs = FIRST_POLL_MS
    // A result may be awaited for days: each store call rides out a brief outage on its own.
    // A wake that brings the notifying commit's record (a store may send it along) saves the load.
    let woken = knownVersion === undefined ? undefined : yield* retryBriefOutage(store.awaitUpdate(workflowId, knownVersion, pollMs))
    for (;;) {
      const { state, version } = woken ? yield* decodeExecution(workflowId, woken) : yield* retryBriefOutage(loadExecution(workflowId))
      if (state === undefined) return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} not found` })
      const found = yield* settled(state)
      if (found !== undefined) return found
      woken = yield* retryBriefOutage(store.awaitUpdate(workflowId, version, pollMs))
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS)
    }
  })

/**
 * Wait until the latest run (or run `runId`) closes and return its final
 * state. `startedVersion` (the version a start just wrote) skips the first
 * load: the run is open.
 */
export const awaitClosed = (
  workflowId: string,
  runId: string | undefined,
  startedVersion?: number,
): Effect.Effect<ExecutionState, StoreError | WorkflowNotFound, Store> =>
  watchExecution(workflowId, (state) => {
    if (runId !== undefined && state.runId !== runId) {
      return Effect.fail(new WorkflowNotFound({ workflowId, message: `run ${runId} of workflow ${workflowId} is no longer the latest run` }))
    }
    return Effect.succeed(state.status !== "RUNNING" ? state : undefined)
  }, startedVersion)

/**
 * Wait until update `updateId` of run `runId` (default: the latest run)
 * reaches `stage` — `ACCEPTED` also settles on a rejection, which completes
 * it at once — and return it. The outcome is in the run's state, committed
 * with the step that produced it, so it survives any worker crash. A run
 * that closes (or is replaced) first abandons the update: `WorkflowNotFound`.
 */
export const awaitUpdateStage = (
  workflowId: string,
  runId: string | undefined,
  updateId: string,
  stage: "ACCEPTED" | "COMPLETED",
): Effect.Effect<UpdateState, StoreError | WorkflowNotFound, Store> =>
  watchExecution(workflowId, (state) => {
    if (runId !== undefined && state.runId !== runId) return Effect.fail(alreadyCompleted(workflowId))
    const update = state.updates?.find((known) => known.id === updateId)
    if (update !== undefined && (update.stage === "COMPLETED" || (stage === "ACCEPTED" && update.stage === "ACCEPTED"))) return Effect.succeed(update)
    return state.status === "RUNNING" ? Effect.succeed(undefined) : Effect.fail(alreadyCompleted(workflowId))
  })

/** The journal of a run (default: the latest), riding out a brief store outage. */
export const readJournal = Effect.fnUntraced(function* (workflowId: string, runId?: string) {
  const state = yield* retryBriefOutage(describeWorkflow(workflowId))
  return yield* retryBriefOutage(loadJournal(workflowId, runId ?? state.runId))
})
