/**
 * Where workflow and activity `log` calls go: the logger of
 * `Runtime.install`, or else a `DefaultLogger` at `"INFO"` (as in Temporal).
 */
import { DefaultLogger, installedLogger, type LogLevel, type LogMetadata } from "../runtime.ts"

/** The five leveled methods of `log` in workflow and activity code. */
export interface LeveledLog {
  trace(message: string, meta?: LogMetadata): void
  debug(message: string, meta?: LogMetadata): void
  info(message: string, meta?: LogMetadata): void
  warn(message: string, meta?: LogMetadata): void
  error(message: string, meta?: LogMetadata): void
}

let fallback: DefaultLogger | undefined

/** Hand one entry to the installed logger (or the default one). */
export const emit = (level: LogLevel, message: string, meta: LogMetadata): void => {
  const logger = installedLogger() ?? (fallback ??= new DefaultLogger("INFO"))
  logger.log(level, message, meta)
}

/** A `LeveledLog` whose entries carry `attributes()` (read at each call; `undefined`: drop the entry). */
export const leveledLog = (attributes: () => LogMetadata | undefined, send: (level: LogLevel, message: string, meta: LogMetadata) => void = emit): LeveledLog => {
  const at = (level: LogLevel) => (message: string, meta?: LogMetadata) => {
    const base = attributes()
    if (base !== undefined) send(level, message, meta === undefined ? base : { ...base, ...meta })
  }
  return { trace: at("TRACE"), debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") }
}
