/**
 * Payloads: the values that cross a durable boundary (workflow and activity
 * arguments and results, signal and query arguments, failure details).
 *
 * A payload is JSON text (or `undefined` for "no value"), so every backend
 * stores it as a string and no process shares mutable objects with another.
 * `encode` rejects what JSON would silently drop or mangle — functions,
 * symbols, bigints, cycles, non-finite numbers — and names where it found it.
 */
import { DataConverterError, PayloadSizeLimitError } from "./errors.ts"

/** Encoded value: JSON text, or `undefined` for `undefined`. */
export type Payload = string | undefined

/**
 * Temporal's headers: named payloads that interceptors attach to a start, an
 * activity, a child, a continue-as-new, a signal or a query (context
 * propagation, tracing). They travel in the messages and the journal.
 */
export type Headers = Readonly<Record<string, string>>

const describe = (value: unknown): string => {
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`
  if (typeof value === "symbol") return `a symbol (${String(value)})`
  if (typeof value === "bigint") return "a bigint"
  if (typeof value === "number") return String(value)
  return typeof value
}

const check = (value: unknown, path: string, seen: Set<object>): void => {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined":
      return
    case "number":
      if (!Number.isFinite(value)) throw fail(path, describe(value))
      return
    case "object": {
      if (value === null) return
      if (seen.has(value)) throw fail(path, "a circular reference")
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") return
      seen.add(value)
      if (Array.isArray(value)) {
        value.forEach((item, index) => check(item, `${path}[${index}]`, seen))
      } else if (value instanceof Map || value instanceof Set) {
        throw fail(path, `a ${value.constructor.name} (convert it to an array or object)`)
      } else {
        for (const key of Object.keys(value)) check((value as Record<string, unknown>)[key], `${path}.${key}`, seen)
      }
      seen.delete(value)
      return
    }
    default:
      throw fail(path, describe(value))
  }
}

const fail = (path: string, what: string) =>
  new DataConverterError({ path, message: `${path} cannot be serialized: it is ${what}` })

/**
 * Encode `value` as a payload. `label` names the value in errors, e.g.
 * `"args[1]"` or `"result of activity charge"`. Throws `DataConverterError`.
 */
export const encode = (value: unknown, label: string): Payload => {
  check(value, label, new Set())
  return value === undefined ? undefined : JSON.stringify(value)
}

/**
 * Decode a payload produced by `encode`. A `null` where a payload was
 * expected is an `undefined` that went through JSON (an argument list's
 * `[undefined]` is stored as `[null]`), so it decodes as `undefined` too: an
 * argument reads the same whether its list was kept as a value (the embedded
 * store) or read back from text.
 */
export const decode = (payload: Payload): unknown => (payload === undefined || (payload as Payload | null) === null ? undefined : JSON.parse(payload))

/** Encode an argument list, naming each argument (`args[0]`, ...) in errors. */
export const encodeArgs = (args: ReadonlyArray<unknown>, label = "args"): Array<Payload> =>
  args.map((arg, index) => encode(arg, `${label}[${index}]`))

/** Decode an argument list. */
export const decodeArgs = (payloads: ReadonlyArray<Payload>): Array<unknown> => payloads.map(decode)

/**
 * Size limits of a payload set — everything one durable call carries: an
 * argument list (all its arguments together, as Temporal measures a
 * command's input), a result, or heartbeat details. In UTF-8 bytes of the
 * encoded JSON. `Infinity` turns a limit off.
 */
export interface PayloadLimits {
  /** Above this a call is refused (`PayloadSizeLimitError`). Default 2 MiB (Temporal's blob size limit). */
  readonly errorBytes: number
  /** Above this a warning is logged (once per call site). Default 256 KiB. */
  readonly warnBytes: number
}

/** Temporal's defaults: refuse above 2 MiB, warn above 256 KiB. */
export const defaultPayloadLimits: PayloadLimits = { errorBytes: 2 * 1024 * 1024, warnBytes: 256 * 1024 }

/** UTF-8 length of `text`, without allocating. */
const utf8Length = (text: string): number => {
  let bytes = text.length
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x80) continue
    if (code < 0x800) bytes += 1
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      // A surrogate pair: 2 code units, 4 bytes.
      bytes += 2
      index++
    } else bytes += 2
  }
  return bytes
}

/** Encoded size of a payload set in bytes (`undefined` payloads are free). */
export const payloadBytes = (payloads: ReadonlyArray<Payload>): number => {
  let bytes = 0
  for (const payload of payloads) if (payload !== undefined) bytes += utf8Length(payload)
  return bytes
}

/**
 * Check a payload set against `limits`: `"ok"`, `"warn"` (above
 * `warnBytes`), or throws `PayloadSizeLimitError` naming `label`, the size
 * and the limit. Sets far below both limits cost no byte count.
 */
export const checkPayloadSize = (payloads: ReadonlyArray<Payload>, label: string, limits: PayloadLimits): "ok" | "warn" => {
  let units = 0
  for (const payload of payloads) if (payload !== undefined) units += payload.length
  // A UTF-16 code unit is 1 to 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units).
  if (units * 3 <= limits.warnBytes && units * 3 <= limits.errorBytes) return "ok"
  const bytes = payloadBytes(payloads)
  if (bytes > limits.errorBytes) {
    throw new PayloadSizeLimitError({
      message: `${label} is ${bytes} bytes, over the payload size limit of ${limits.errorBytes} bytes ` +
        "(Connection.connect({ payloadLimits: { errorBytes } })); store large data elsewhere and pass a reference",
      label,
      sizeBytes: bytes,
      limitBytes: limits.errorBytes,
    })
  }
  return bytes > limits.warnBytes ? "warn" : "ok"
}
