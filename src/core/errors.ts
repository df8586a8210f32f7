/**
 * Errors raised by pure core code. They are plain tagged data (no Effect
 * runtime); the SDK re-exports them under Temporal's names where those exist.
 */
import { Data } from "effect"

/** A caller passed an invalid option or argument (bad duration, bad retry policy, ...). */
export class InvalidArgumentError extends Data.TaggedError("InvalidArgumentError")<{ readonly message: string }> {}

/** A value crossing a durable boundary cannot be serialized (function, symbol, cycle, bigint, ...). */
export class DataConverterError extends Data.TaggedError("DataConverterError")<{ readonly message: string; readonly path: string }> {}
