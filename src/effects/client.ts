/**
 * Client operations as Effect programs: start, signal, cancel, terminate,
 * query, describe, wait for a result, read the journal. A client never
 * touches a running workflow's state directly: it appends a message to the
 * workflow's stream (a start additionally creates the run's record,
 * atomically with its `Start` message, so a duplicate id is rejected at once).
 */
import { Clock, Data, Effect, Option } from "effect"
import type { JournalEntry } from "../core/journal.ts"
import { encodeMessage, type WorkflowMessage } from "../core/messages.ts"
import type { Payload } from "../core/payload.ts"
import { decodeState, encodeState, type ExecutionState, initialState, isRunning, type NewRun } from "../core/state.ts"
import { Store, type StoreError } from "../stores/Store.ts"
import { reduce } from "../core/reduce.ts"
import type { QueryOutcome } from "./executors.ts"
import { toCommit } from "./internal/writes.ts"

/** `start` found a running execution with the same workflow id. */
export class WorkflowAlreadyRunning extends Data.TaggedError("WorkflowAlreadyRunning")<{ readonly workflowId: string; readonly workflowType: string }> {}

/** No execution with this id (or, for `requireRunning`, none running). */
export class WorkflowNotFound extends Data.TaggedError("WorkflowNotFound")<{ readonly workflowId: string; readonly message: string }> {}

/** A query got no answer in time (no worker for the task queue?). */
export class QueryTimedOut extends Data.TaggedError("QueryTimedOut")<{ readonly workflowId: string; readonly name: string; readonly timeoutMs: number }> {}

/** Load and decode an execution's state. */
export const loadState = Effect.fnUntraced(function* (workflowId: string) {
  const store = yield* Store
  const record = yield* store.load(workflowId)
  return Option.map(record, (r) => ({ version: r.version, state: decodeState(r.state) }))
})

/** Start a new run; fails with `WorkflowAlreadyRunning` while one is open. */
export const startWorkflow = Effect.fn("Client.start")(function* (run: NewRun) {
  const store = yield* Store
  const start: WorkflowMessage = { type: "Start", ...run }
  const attempt = Effect.gen(function* () {
    const current = yield* loadState(run.workflowId)
    if (Option.isSome(current) && isRunning(current.value.state)) {
      return yield* new WorkflowAlreadyRunning({ workflowId: run.workflowId, workflowType: current.value.state.workflowType })
    }
    const now = yield* Clock.currentTimeMillis
    yield* store.commit({
      key: run.workflowId,
      expectedVersion: Option.match(current, { onNone: () => 0, onSome: (c) => c.version }),
      state: encodeState(initialState(run, now)),
      messages: [{ stream: { kind: "workflow", taskQueue: run.taskQueue }, key: run.workflowId, body: encodeMessage(start) }],
    })
  })
  return yield* attempt.pipe(Effect.retry({ while: (error) => error._tag === "CommitConflict", times: 20 }))
})

/** The state of `workflowId`'s latest run, or `WorkflowNotFound`. */
export const describeWorkflow = Effect.fn("Client.describe")(function* (workflowId: string) {
  const current = yield* loadState(workflowId)
  if (Option.isNone(current)) return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} not found` })
  return current.value.state
})

/** Append `message` to a running execution's stream; `WorkflowNotFound` if it is not running. */
export const sendToRunning = Effect.fn("Client.send")(function* (workflowId: string, message: (state: ExecutionState) => WorkflowMessage) {
  const store = yield* Store
  const state = yield* describeWorkflow(workflowId)
  if (state.status !== "RUNNING") {
    return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} is not running (status ${state.status})` })
  }
  yield* store.append([{ stream: { kind: "workflow", taskQueue: state.taskQueue }, key: workflowId, body: encodeMessage(message(state)) }])
})

/**
 * Terminate a running execution at once: the client runs the same pure
 * transition a worker would (`reduce(state, Terminate)`) and commits it with
 * the version it loaded, so it works with no worker polling and is done when
 * it returns. A worker racing it loses on the version and sees TERMINATED.
 */
export const terminateWorkflow = Effect.fn("Client.terminate")(function* (workflowId: string, reason: string, retentionMs: number) {
  const store = yield* Store
  const attempt = Effect.gen(function* () {
    const current = yield* loadState(workflowId)
    if (Option.isNone(current)) return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} not found` })
    const { state, version } = current.value
    if (state.status !== "RUNNING") {
      return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} is not running (status ${state.status})` })
    }
    const now = yield* Clock.currentTimeMillis
    const transition = reduce(state, { type: "Terminate", runId: state.runId, reason }, now)
    yield* store.commit(toCommit(undefined, version, state, transition, { now, retentionMs }))
  })
  return yield* attempt.pipe(Effect.retry({ while: (error) => error._tag === "CommitConflict", times: 20 }))
})

/** Ask the workflow a query and wait for the answer from a worker. */
export const queryWorkflow = Effect.fn("Client.query")(function* (
  workflowId: string,
  queryId: string,
  name: string,
  args: ReadonlyArray<Payload>,
  timeoutMs: number,
) {
  const store = yield* Store
  const state = yield* describeWorkflow(workflowId)
  const query: WorkflowMessage = { type: "Query", runId: state.runId, queryId, name, args }
  yield* store.append([{ stream: { kind: "workflow", taskQueue: state.taskQueue }, key: workflowId, body: encodeMessage(query) }])
  const reply = yield* store.takeReply(queryId, timeoutMs)
  if (Option.isNone(reply)) return yield* new QueryTimedOut({ workflowId, name, timeoutMs })
  return JSON.parse(reply.value) as QueryOutcome
})

/**
 * Wait until the latest run (or run `runId`) closes and return its final
 * state. Wakes on the store's notification; re-checks at least every
 * `pollMs` so a lost notification only costs latency.
 */
export const awaitClosed = (workflowId: string, runId: string | undefined, pollMs = 1000): Effect.Effect<ExecutionState, StoreError | WorkflowNotFound, Store> =>
  Effect.gen(function* () {
    const store = yield* Store
    for (;;) {
      const current = yield* loadState(workflowId)
      if (Option.isNone(current)) return yield* new WorkflowNotFound({ workflowId, message: `workflow ${workflowId} not found` })
      const { state, version } = current.value
      if (runId !== undefined && state.runId !== runId) {
        return yield* new WorkflowNotFound({ workflowId, message: `run ${runId} of workflow ${workflowId} is no longer the latest run` })
      }
      if (state.status !== "RUNNING") return state
      yield* store.awaitUpdate(workflowId, version, pollMs)
    }
  })

/** The journal of a run (default: the latest). */
export const readJournal = Effect.fn("Client.journal")(function* (workflowId: string, runId?: string) {
  const store = yield* Store
  const state = yield* describeWorkflow(workflowId)
  const entries = yield* store.loadJournal(workflowId, runId ?? state.runId)
  return entries.map((entry) => JSON.parse(entry) as JournalEntry)
})
