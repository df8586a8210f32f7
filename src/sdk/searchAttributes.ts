/**
 * Typed search attributes and the memo, in Temporal's shapes:
 * `defineSearchAttributeKey(name, SearchAttributeType.KEYWORD)`, pairs
 * `{ key, value }`, `TypedSearchAttributes`. Values are checked against their
 * key's type at the call (`InvalidArgumentError`) and stored with it.
 */
import { InvalidArgumentError } from "../core/errors.ts"
import { decode, encode, type Payload } from "../core/payload.ts"
import { checkAttributeName, type StoredAttributes, toStoredValue } from "../core/searchAttributes.ts"

/** Temporal's search-attribute types. */
export const SearchAttributeType = {
  TEXT: "TEXT",
  KEYWORD: "KEYWORD",
  INT: "INT",
  DOUBLE: "DOUBLE",
  BOOL: "BOOL",
  DATETIME: "DATETIME",
  KEYWORD_LIST: "KEYWORD_LIST",
} as const
/** One of `SearchAttributeType`'s values. */
export type SearchAttributeType = (typeof SearchAttributeType)[keyof typeof SearchAttributeType]

/** The value type of each search-attribute type. */
export interface IndexedValueTypeMapping {
  TEXT: string
  KEYWORD: string
  INT: number
  DOUBLE: number
  BOOL: boolean
  DATETIME: Date
  KEYWORD_LIST: Array<string>
}

/** A typed search-attribute key. */
export interface SearchAttributeKey<T extends SearchAttributeType = SearchAttributeType> {
  readonly name: string
  readonly type: T
}

/** A key and its value. */
export type SearchAttributePair<T extends SearchAttributeType = SearchAttributeType> = {
  [K in T]: { readonly key: SearchAttributeKey<K>; readonly value: IndexedValueTypeMapping[K] }
}[T]

/** A key and its new value, or `null` to remove it (`upsertSearchAttributes`). */
export type SearchAttributeUpdatePair<T extends SearchAttributeType = SearchAttributeType> = {
  [K in T]: { readonly key: SearchAttributeKey<K>; readonly value: IndexedValueTypeMapping[K] | null }
}[T]

const TYPES = new Set<string>(Object.values(SearchAttributeType))

/** A search-attribute key (Temporal's `defineSearchAttributeKey`). */
export const defineSearchAttributeKey = <T extends SearchAttributeType>(name: string, type: T): SearchAttributeKey<T> => {
  checkAttributeName(name)
  if (!TYPES.has(type)) throw new InvalidArgumentError({ message: `search attribute ${name}: unknown type ${String(type)}; use one of ${[...TYPES].join(", ")}` })
  return { name, type }
}

/** A set of typed search attributes (Temporal's `TypedSearchAttributes`): immutable, with copies for updates. */
export class TypedSearchAttributes {
  readonly #pairs: ReadonlyArray<SearchAttributePair>
  constructor(pairs: ReadonlyArray<SearchAttributePair> = []) {
    this.#pairs = pairs
  }
  /** The value of `key`, if set with that key's type. */
  get<T extends SearchAttributeType>(key: SearchAttributeKey<T>): IndexedValueTypeMapping[T] | undefined {
    const pair = this.#pairs.find((p) => p.key.name === key.name && p.key.type === key.type)
    return pair?.value as IndexedValueTypeMapping[T] | undefined
  }
  /** Every pair, sorted by key name. */
  getAll(): Array<SearchAttributePair> {
    return [...this.#pairs].sort((a, b) => (a.key.name < b.key.name ? -1 : a.key.name > b.key.name ? 1 : 0))
  }
  /** A copy with `updates` applied (a `null` value removes the key). */
  updateCopy(updates: ReadonlyArray<SearchAttributeUpdatePair>): TypedSearchAttributes {
    const byName = new Map(this.#pairs.map((p) => [p.key.name, p] as const))
    for (const update of updates) {
      if (update.value === null) byName.delete(update.key.name)
      else byName.set(update.key.name, update as SearchAttributePair)
    }
    return new TypedSearchAttributes([...byName.values()])
  }
}

/** Typed search attributes as start options take them: pairs or a `TypedSearchAttributes`. */
export type TypedSearchAttributesInput = ReadonlyArray<SearchAttributePair> | TypedSearchAttributes

/** `input` checked and in its stored form; `label` names the call in errors. */
export const storedAttributes = (input: TypedSearchAttributesInput | undefined, label: string): StoredAttributes | undefined => {
  if (input === undefined) return undefined
  const pairs = input instanceof TypedSearchAttributes ? input.getAll() : input
  if (!Array.isArray(pairs)) throw new InvalidArgumentError({ message: `${label}: typedSearchAttributes must be an array of { key, value } or a TypedSearchAttributes` })
  const stored: Record<string, StoredAttributes[string]> = {}
  for (const pair of pairs as ReadonlyArray<SearchAttributePair>) {
    const key = pair?.key
    if (key === undefined || typeof key.name !== "string" || !TYPES.has(key.type)) {
      throw new InvalidArgumentError({ message: `${label}: each typedSearchAttributes entry needs a key from defineSearchAttributeKey(name, type)` })
    }
    checkAttributeName(key.name)
    stored[key.name] = { type: key.type, value: toStoredValue(key.name, key.type, pair.value) }
  }
  return stored
}

/** Stored attributes back as Temporal's `TypedSearchAttributes`. */
export const typedAttributesOf = (stored: StoredAttributes | undefined): TypedSearchAttributes =>
  new TypedSearchAttributes(Object.entries(stored ?? {}).map(([name, { type, value }]) => ({
    key: { name, type },
    value: type === "DATETIME" ? new Date(value as number) : Array.isArray(value) ? [...value] : value,
  }) as SearchAttributePair))

/** A memo as start options take it, encoded (each value a payload); `label` names the call in errors. */
export const encodedMemo = (memo: Record<string, unknown> | undefined, label: string): Readonly<Record<string, Payload>> | undefined => {
  if (memo === undefined) return undefined
  if (memo === null || typeof memo !== "object" || Array.isArray(memo)) throw new InvalidArgumentError({ message: `${label}: memo must be an object` })
  return Object.fromEntries(Object.entries(memo).map(([name, value]) => [name, encode(value, `${label} memo.${name}`)]))
}

/** A stored memo decoded. */
export const decodedMemo = (memo: Readonly<Record<string, Payload>> | undefined): Record<string, unknown> | undefined =>
  memo === undefined ? undefined : Object.fromEntries(Object.entries(memo).map(([name, value]) => [name, decode(value)]))
