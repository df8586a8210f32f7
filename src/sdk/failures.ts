/**
 * User-facing errors, under Temporal's names, and their mapping to and from
 * `FailureInfo` (the serializable form in `src/core`).
 *
 * Recognise them by `name` (or the `is*` helpers), not only `instanceof`:
 * a failure that crossed a process boundary is rebuilt from data, and a
 * bundler may load two copies of this module.
 */
import type { FailureInfo } from "../core/failure.ts"
import { InvalidArgumentError } from "../core/errors.ts"
import { decode, encode } from "../core/payload.ts"
import { checkOptions } from "./internal/options.ts"

/** Base class of failures that cross a durable boundary (Temporal's `TemporalFailure`). */
export class TemporalFailure extends Error {
  override readonly cause: Error | undefined
  constructor(message: string, cause?: Error) {
    super(message)
    this.cause = cause
    this.name = new.target.name
  }
}

/**
 * Temporal's application-failure categories: a `BENIGN` failure is expected
 * (a declined card, a "not yet"), so the worker logs its attempts at debug
 * level instead of as warnings. Retries are unaffected.
 */
export const ApplicationFailureCategory = {
  BENIGN: "BENIGN",
} as const
/** One of `ApplicationFailureCategory`'s values. */
export type ApplicationFailureCategory = (typeof ApplicationFailureCategory)[keyof typeof ApplicationFailureCategory]

/** Options of `ApplicationFailure.create`. */
export interface ApplicationFailureOptions {
  readonly message?: string
  readonly type?: string
  readonly nonRetryable?: boolean
  readonly details?: ReadonlyArray<unknown>
  readonly cause?: Error
  readonly category?: ApplicationFailureCategory
}

const APPLICATION_FAILURE_OPTIONS = ["message", "type", "nonRetryable", "details", "cause", "category"] satisfies Array<keyof ApplicationFailureOptions>

/** A failure raised by user code (workflow or activity); `type` drives `nonRetryableErrorTypes`. */
export class ApplicationFailure extends TemporalFailure {
  constructor(
    message: string,
    readonly type?: string,
    readonly nonRetryable = false,
    readonly details: ReadonlyArray<unknown> = [],
    cause?: Error,
    readonly category?: ApplicationFailureCategory,
  ) {
    super(message, cause)
  }
  /** A failure from options. */
  static create(options: ApplicationFailureOptions): ApplicationFailure {
    checkOptions("ApplicationFailure.create(options)", options, APPLICATION_FAILURE_OPTIONS, {
      nextRetryDelay: "is a Temporal option HotMesh does not support yet: the activity's retry policy sets the delay",
    })
    if (options.category !== undefined && !Object.values(ApplicationFailureCategory).includes(options.category)) {
      throw new InvalidArgumentError({ message: `ApplicationFailure.create: category must be one of ${Object.values(ApplicationFailureCategory).join(", ")}; got ${JSON.stringify(options.category)}` })
    }
    return new ApplicationFailure(options.message ?? "", options.type, options.nonRetryable ?? false, options.details ?? [], options.cause, options.category)
  }
  /** A failure the retry policy may retry. */
  static retryable(message: string, type?: string, ...details: Array<unknown>): ApplicationFailure {
    return new ApplicationFailure(message, type ?? "Error", false, details)
  }
  /** A failure that is never retried, whatever the retry policy says. */
  static nonRetryable(message: string, type?: string, ...details: Array<unknown>): ApplicationFailure {
    return new ApplicationFailure(message, type ?? "Error", true, details)
  }
  /** Wrap any thrown value; an `ApplicationFailure` is returned as is. */
  static fromError(error: unknown): ApplicationFailure {
    if (error instanceof ApplicationFailure) return error
    if (error instanceof Error) {
      const failure = new ApplicationFailure(error.message, error.name, false)
      if (error.stack !== undefined) failure.stack = error.stack
      return failure
    }
    return new ApplicationFailure(String(error), "Error", false)
  }
}

/** An activity reached a final failure; `cause` says why (ApplicationFailure, TimeoutFailure, CancelledFailure). */
export class ActivityFailure extends TemporalFailure {
  constructor(message: string, readonly activityType: string, cause?: Error) {
    super(message, cause)
  }
}

/** A child workflow failed, was cancelled or terminated; `cause` says which. */
export class ChildWorkflowFailure extends TemporalFailure {
  constructor(message: string, readonly workflowType: string, readonly workflowId: string, cause?: Error) {
    super(message, cause)
  }
}

/** A cancellation (workflow cancel request, scope cancellation, activity cancellation). */
export class CancelledFailure extends TemporalFailure {
  constructor(message = "Cancelled", readonly details: ReadonlyArray<unknown> = [], cause?: Error) {
    super(message, cause)
  }
}

/** The workflow was terminated. */
export class TerminatedFailure extends TemporalFailure {}

/** A timeout (activity start-to-close, schedule-to-close, heartbeat). */
export class TimeoutFailure extends TemporalFailure {
  constructor(message: string, readonly timeoutType: string) {
    super(message)
  }
}

/** True when `error` is, or was caused by, a cancellation (Temporal's `isCancellation`). */
export const isCancellation = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false
  if (error.name === "CancelledFailure") return true
  return (error.name === "ActivityFailure" || error.name === "ChildWorkflowFailure") && isCancellation(error.cause)
}

/** True for the Temporal failure classes (which fail a workflow rather than its task). */
export const isTemporalFailure = (error: unknown): error is TemporalFailure =>
  error instanceof Error &&
  [
    "ApplicationFailure",
    "ActivityFailure",
    "ChildWorkflowFailure",
    "CancelledFailure",
    "TerminatedFailure",
    "TimeoutFailure",
    "WorkflowExecutionAlreadyStartedError",
  ].includes(error.name)

const safeDetails = (details: ReadonlyArray<unknown>) =>
  details.map((detail, index) => {
    try {
      return encode(detail, `details[${index}]`)
    } catch {
      return encode(String(detail), `details[${index}]`)
    }
  })

/** The serializable form of a thrown value. Anything that is not a TemporalFailure becomes an application failure typed by its class name. */
export const toFailureInfo = (error: unknown): FailureInfo => {
  if (!(error instanceof Error)) return { kind: "application", type: "Error", message: String(error) }
  const cause = error.cause instanceof Error ? { cause: toFailureInfo(error.cause) } : {}
  const stack = error.stack === undefined ? {} : { stack: error.stack }
  switch (error.name) {
    case "ActivityFailure":
      return { kind: "activity", message: error.message, activityType: (error as ActivityFailure).activityType, ...cause }
    case "ChildWorkflowFailure": {
      const child = error as ChildWorkflowFailure
      return { kind: "child", message: error.message, workflowType: child.workflowType, workflowId: child.workflowId, ...cause }
    }
    case "CancelledFailure":
      return { kind: "cancelled", message: error.message, details: safeDetails((error as CancelledFailure).details), ...cause }
    case "TerminatedFailure":
      return { kind: "terminated", message: error.message, ...cause }
    case "TimeoutFailure":
      return { kind: "timeout", message: error.message, timeoutType: (error as TimeoutFailure).timeoutType as "START_TO_CLOSE", ...cause }
    case "ApplicationFailure": {
      const failure = error as ApplicationFailure
      return {
        kind: "application",
        message: error.message,
        type: failure.type ?? "Error",
        nonRetryable: failure.nonRetryable,
        details: safeDetails(failure.details ?? []),
        ...(failure.category === undefined ? {} : { category: failure.category }),
        ...stack,
        ...cause,
      }
    }
    default:
      return { kind: "application", message: error.message, type: error.name, ...stack, ...cause }
  }
}

/** Rebuild the error class of a failure (and its cause chain). */
export const fromFailureInfo = (info: FailureInfo): TemporalFailure => {
  const cause = info.cause === undefined ? undefined : fromFailureInfo(info.cause)
  let error: TemporalFailure
  switch (info.kind) {
    case "activity":
      error = new ActivityFailure(info.message, info.activityType ?? "unknown", cause)
      break
    case "child":
      error = new ChildWorkflowFailure(info.message, info.workflowType ?? "unknown", info.workflowId ?? "unknown", cause)
      break
    case "cancelled":
      error = new CancelledFailure(info.message, (info.details ?? []).map(decode), cause)
      break
    case "terminated":
      error = new TerminatedFailure(info.message, cause)
      break
    case "timeout":
      error = new TimeoutFailure(info.message, info.timeoutType ?? "START_TO_CLOSE")
      break
    case "application":
      error = new ApplicationFailure(info.message, info.type, info.nonRetryable ?? false, (info.details ?? []).map(decode), cause, info.category)
      break
  }
  if (info.stack !== undefined) error.stack = info.stack
  return error
}
