/**
 * Logging, in Temporal's shapes: `Runtime.install({ logger })`,
 * `DefaultLogger`, and the `Logger` that receives the workflow `log` and
 * activity `log` calls and the runtime's own lines (the workers' warnings and
 * errors, which otherwise go to Effect's default logger).
 *
 * One runtime per process, as in Temporal. Installing a logger is optional:
 * without one, `log` calls and the runtime's lines print through Effect's
 * default logger at the connection's `logLevel`.
 */
import { InvalidArgumentError } from "../core/errors.ts"
import { checkOptions } from "./internal/options.ts"

/** Temporal's log levels, least severe first. */
export type LogLevel = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR"

/** Structured fields of a log entry. */
export type LogMetadata = Record<string | symbol, unknown>

/** One log entry, as `DefaultLogger` hands it to its log function. */
export interface LogEntry {
  readonly level: LogLevel
  readonly message: string
  readonly meta?: LogMetadata
  /** Wall-clock time of the entry, in nanoseconds since the epoch. */
  readonly timestampNanos: bigint
}

/** What receives log entries (Temporal's `Logger`). */
export interface Logger {
  log(level: LogLevel, message: string, meta?: LogMetadata): void
  trace(message: string, meta?: LogMetadata): void
  debug(message: string, meta?: LogMetadata): void
  info(message: string, meta?: LogMetadata): void
  warn(message: string, meta?: LogMetadata): void
  error(message: string, meta?: LogMetadata): void
}

/** Severity order of `LogLevel`s. */
export const LOG_LEVELS: ReadonlyArray<LogLevel> = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]

const severity = (level: LogLevel): number => LOG_LEVELS.indexOf(level)

const defaultLogFunction = (entry: LogEntry): void => {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()
  const line = `${time} [${entry.level}] ${entry.message}`
  const meta = entry.meta === undefined || Object.keys(entry.meta).length === 0 ? "" : ` ${safeJson(entry.meta)}`
  const write = entry.level === "ERROR" ? console.error : entry.level === "WARN" ? console.warn : console.log
  write(line + meta)
}

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v))
  } catch {
    return String(value)
  }
}

/**
 * Temporal's `DefaultLogger`: drops entries below `level`, hands the rest to
 * `logFunction` (default: one line on the console, with the metadata as JSON).
 */
export class DefaultLogger implements Logger {
  readonly #threshold: number

  constructor(
    readonly level: LogLevel = "INFO",
    protected readonly logFunction: (entry: LogEntry) => void = defaultLogFunction,
  ) {
    if (!LOG_LEVELS.includes(level)) throw new InvalidArgumentError({ message: `DefaultLogger: level must be one of ${LOG_LEVELS.join(", ")}; got ${JSON.stringify(level)}` })
    this.#threshold = severity(level)
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (severity(level) < this.#threshold) return
    const timestampNanos = BigInt(Date.now()) * 1_000_000n
    this.logFunction(meta === undefined ? { level, message, timestampNanos } : { level, message, meta, timestampNanos })
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log("TRACE", message, meta)
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log("DEBUG", message, meta)
  }
  info(message: string, meta?: LogMetadata): void {
    this.log("INFO", message, meta)
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log("WARN", message, meta)
  }
  error(message: string, meta?: LogMetadata): void {
    this.log("ERROR", message, meta)
  }
}

/** Options of `Runtime.install`. */
export interface RuntimeOptions {
  /** Receives workflow and activity `log` calls and the runtime's own lines. */
  readonly logger?: Logger
}

let installed: Runtime | undefined

/** The process's runtime (Temporal's `Runtime`): for now, where logs go. */
export class Runtime {
  private constructor(
    /** The installed logger; `undefined` means Effect's default logger at the connection's `logLevel`. */
    readonly logger: Logger | undefined,
  ) {}

  /**
   * Install the process's runtime. Call it before creating workers (as in
   * Temporal); installing again replaces the logger for what runs next.
   */
  static install(options: RuntimeOptions = {}): Runtime {
    checkOptions("Runtime.install(options)", options, ["logger"], {
      shutdownSignals: "is a Temporal option HotMesh does not support yet: call worker.shutdown() from your own signal handler",
      telemetryOptions: "is a Temporal option HotMesh does not support yet",
    })
    const logger = options.logger
    if (logger !== undefined && (typeof logger !== "object" || typeof logger.log !== "function")) {
      throw new InvalidArgumentError({ message: "Runtime.install: logger must implement Logger (log, trace, debug, info, warn, error)" })
    }
    installed = new Runtime(logger)
    return installed
  }

  /** The installed runtime (one with no logger when none was installed). */
  static instance(): Runtime {
    return installed ?? new Runtime(undefined)
  }
}

/** The installed logger, if any (internal: workflow and activity `log`, the connection's Effect logger). */
export const installedLogger = (): Logger | undefined => installed?.logger
