/**
 * Client- and worker-side errors, under Temporal's names.
 */
import type { WorkflowStatus } from "../core/state.ts"

/** `handle.result()` of a workflow that did not complete; `cause` is the workflow's failure. */
export class WorkflowFailedError extends Error {
  override readonly name = "WorkflowFailedError"
  constructor(message: string, override readonly cause: Error | undefined, readonly status: WorkflowStatus) {
    super(message)
  }
}

/** `start` with a workflow id whose execution is still running. */
export class WorkflowExecutionAlreadyStartedError extends Error {
  override readonly name = "WorkflowExecutionAlreadyStartedError"
  constructor(readonly workflowId: string, readonly workflowType: string) {
    super(`Workflow execution already started: ${workflowId} (${workflowType})`)
  }
}

/** No execution with this workflow id (or it is not running, for signals). */
export class WorkflowNotFoundError extends Error {
  override readonly name = "WorkflowNotFoundError"
  constructor(message: string, readonly workflowId: string) {
    super(message)
  }
}

/** An update was rejected (its validator threw, or no handler) or its handler failed; `cause` is that failure. */
export class WorkflowUpdateFailedError extends Error {
  override readonly name = "WorkflowUpdateFailedError"
  constructor(message: string, override readonly cause: Error | undefined) {
    super(message)
  }
}

/**
 * `client.activity.complete/fail/heartbeat/reportCancellation` with a task
 * token of an attempt its workflow no longer waits for: retried, timed out,
 * completed, cancelled, or its workflow closed.
 */
export class ActivityNotFoundError extends Error {
  override readonly name = "ActivityNotFoundError"
}

/**
 * `client.activity.heartbeat` of an attempt whose workflow asked to cancel
 * the activity (Temporal's `ActivityCancelledError`): the heartbeat was
 * recorded; the async completer should stop and `reportCancellation` (or
 * complete or fail — the outcome is still taken).
 */
export class ActivityCancelledError extends Error {
  override readonly name = "ActivityCancelledError"
}

/** A query name the workflow has no handler for. */
export class QueryNotRegisteredError extends Error {
  override readonly name = "QueryNotRegisteredError"
  constructor(message: string, readonly queryName: string) {
    super(message)
  }
}

/** A query failed inside the workflow, or was not answered in time. */
export class QueryFailedError extends Error {
  override readonly name = "QueryFailedError"
}

/**
 * Replayed workflow code made a different durable call than its journal
 * records. The workflow is not failed: its task is retried until code that
 * agrees with the journal is deployed.
 */
export class DeterminismViolationError extends Error {
  override readonly name = "DeterminismViolationError"
}

/** The workflow's type is not registered on the worker that picked up its task. */
export class UnknownWorkflowTypeError extends Error {
  override readonly name = "UnknownWorkflowTypeError"
}

/** `client.deadLetters.retry` of a dead letter that does not exist (already retried or purged, or a wrong id). */
export class DeadLetterNotFoundError extends Error {
  override readonly name = "DeadLetterNotFoundError"
  constructor(message: string, readonly taskQueue: string, readonly kind: "workflow" | "activity", readonly id: string) {
    super(message)
  }
}
