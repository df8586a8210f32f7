/**
 * Errors raised by pure core code. They are plain tagged data (no Effect
 * runtime); the SDK re-exports them under Temporal's names where those exist.
 */
import { Data } from "effect"

/** A caller passed an invalid option or argument (bad duration, bad retry policy, ...). */
export class InvalidArgumentError extends Data.TaggedError("InvalidArgumentError")<{ readonly message: string }> {}

/** A value crossing a durable boundary cannot be serialized (function, symbol, cycle, bigint, ...). */
export class DataConverterError extends Data.TaggedError("DataConverterError")<{ readonly message: string; readonly path: string }> {}

/**
 * A payload set (an argument list, a result, heartbeat details) is larger than
 * the connection's `payloadLimits.errorBytes` (Temporal: `BlobSizeLimitError`).
 * `label` names it (`"start workflow order args"`, `"result of activity charge"`).
 */
export class PayloadSizeLimitError extends Data.TaggedError("PayloadSizeLimitError")<{
  readonly message: string
  readonly label: string
  readonly sizeBytes: number
  readonly limitBytes: number
}> {}
