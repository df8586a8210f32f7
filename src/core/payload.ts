/**
 * Payloads: the values that cross a durable boundary (workflow and activity
 * arguments and results, signal and query arguments, failure details).
 *
 * A payload is JSON text (or `undefined` for "no value"), so every backend
 * stores it as a string and no process shares mutable objects with another.
 * `encode` rejects what JSON would silently drop or mangle — functions,
 * symbols, bigints, cycles, non-finite numbers — and names where it found it.
 */
import { DataConverterError } from "./errors.ts"

/** Encoded value: JSON text, or `undefined` for `undefined`. */
export type Payload = string | undefined

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

/** Decode a payload produced by `encode`. */
export const decode = (payload: Payload): unknown => (payload === undefined ? undefined : JSON.parse(payload))

/** Encode an argument list, naming each argument (`args[0]`, ...) in errors. */
export const encodeArgs = (args: ReadonlyArray<unknown>, label = "args"): Array<Payload> =>
  args.map((arg, index) => encode(arg, `${label}[${index}]`))

/** Decode an argument list. */
export const decodeArgs = (payloads: ReadonlyArray<Payload>): Array<unknown> => payloads.map(decode)
