/**
 * Search attributes (Temporal's shapes): typed, named values an execution
 * carries so that operators can find it (`client.workflow.list({ query })`).
 * Pure: the types, and the one check of a value against its key's type.
 *
 * Stored values are JSON-friendly: a `DATETIME` is kept as epoch
 * milliseconds, everything else as the user wrote it.
 */
import { InvalidArgumentError } from "./errors.ts"

/** Temporal's search-attribute types. */
export type SearchAttributeType = "KEYWORD" | "TEXT" | "INT" | "DOUBLE" | "BOOL" | "DATETIME" | "KEYWORD_LIST"

/** Every search-attribute type, for checks and enumerations. */
export const SEARCH_ATTRIBUTE_TYPES: ReadonlyArray<SearchAttributeType> = ["KEYWORD", "TEXT", "INT", "DOUBLE", "BOOL", "DATETIME", "KEYWORD_LIST"]

/** A search attribute's value as stored (a `DATETIME` as epoch ms). */
export type StoredAttributeValue = string | number | boolean | ReadonlyArray<string>

/** The search attributes of one execution, by name, as stored. */
export type StoredAttributes = Readonly<Record<string, { readonly type: SearchAttributeType; readonly value: StoredAttributeValue }>>

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Throws `InvalidArgumentError` unless `name` can be a search attribute's name. */
export const checkAttributeName = (name: unknown): string => {
  if (typeof name !== "string" || !NAME.test(name) || name.length > 64) {
    throw new InvalidArgumentError({
      message: `search attribute name must be letters, digits and _ (not starting with a digit, at most 64 characters); got ${JSON.stringify(name)}`,
    })
  }
  return name
}

/**
 * `value` checked against `type` and turned into its stored form: a
 * `DATETIME` accepts a `Date` or an ISO-8601 string and is kept as epoch ms;
 * an `INT` must be a safe integer; a `KEYWORD_LIST` an array of strings.
 * Throws `InvalidArgumentError` naming the attribute otherwise.
 */
export const toStoredValue = (name: string, type: SearchAttributeType, value: unknown): StoredAttributeValue => {
  const wrong = (expected: string): never => {
    throw new InvalidArgumentError({
      message: `search attribute ${name} is ${type}: expected ${expected}; got ${describe(value)}`,
    })
  }
  switch (type) {
    case "KEYWORD":
    case "TEXT":
      return typeof value === "string" ? value : wrong("a string")
    case "INT":
      return typeof value === "number" && Number.isSafeInteger(value) ? value : wrong("a safe integer")
    case "DOUBLE":
      return typeof value === "number" && Number.isFinite(value) ? value : wrong("a finite number")
    case "BOOL":
      return typeof value === "boolean" ? value : wrong("true or false")
    case "DATETIME": {
      const ms = value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN
      return Number.isFinite(ms) ? ms : wrong("a Date or an ISO-8601 date string")
    }
    case "KEYWORD_LIST":
      return Array.isArray(value) && value.every((item) => typeof item === "string") ? [...value] : wrong("an array of strings")
  }
}

const describe = (value: unknown): string => {
  if (value instanceof Date) return `Date(${Number.isFinite(value.getTime()) ? value.toISOString() : "invalid"})`
  if (Array.isArray(value)) return `array ${JSON.stringify(value)}`
  if (typeof value === "string") return JSON.stringify(value)
  return `${typeof value} ${String(value)}`
}

/** The words of a `TEXT` value, as `=` on a `TEXT` attribute matches them (lower-cased, split on non-word characters). */
export const textWords = (text: string): ReadonlyArray<string> => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word !== "")
