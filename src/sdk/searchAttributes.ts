/**
 * Typed search attributes and the memo, in Temporal's shapes:
 * `defineSearchAttributeKey(name, SearchAttributeType.KEYWORD)`, pairs
 * `{ key, value }`, `TypedSearchAttributes`. Values are checked against their
 * key's type at the call (`InvalidArgumentError`) and stored with it.
 */
import { InvalidArgumentError } from "../core/errors.ts"
import type { AttributeUpdates, MemoUpdates } from "../core/journal.ts"
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

/** The attributes as a plain `{ name: value }` record, as the CLI and the dashboard print them. */
export const attributeRecord = (attributes: TypedSearchAttributes) =>
  Object.fromEntries(attributes.getAll().map((pair) => [pair.key.name, pair.value]))

/** Typed search attributes as start options take them: pairs or a `TypedSearchAttributes`. */
export type TypedSearchAttributesInput = ReadonlyArray<SearchAttributePair> | TypedSearchAttributes

/** `input` checked and in its stored form; `label` names the call in errors. */
export const storedAttributes = (input: TypedSearchAttributesInput | undefined, label: string): StoredAttributes | undefined => {
  if (input === undefined) return undefined
  const pairs = input instanceof TypedSearchAttributes ? input.getAll() : input
  if (!Array.isArray(pairs)) throw new InvalidArgumentError({ message: `${label}: typedSearchAttributes must be an array of { key, value } or a TypedSearchAttributes` })
  const stored: Record<string, StoredAttributes[string]> = {}
  for (const pair of pairs as ReadonlyArray<SearchAttributePair>) {
    const key = checkedKey(pair, label, "typedSearchAttributes")
    stored[key.name] = { type: key.type, value: toStoredValue(key.name, key.type, pair.value) }
  }
  return stored
}

/** `upsertSearchAttributes`' pairs checked and in their stored form (`null`: remove the key). */
export const storedAttributeUpdates = (updates: ReadonlyArray<SearchAttributeUpdatePair>, label: string): AttributeUpdates => {
  if (!Array.isArray(updates)) throw new InvalidArgumentError({ message: `${label}: pass an array of { key, value } (value null removes the key)` })
  const stored: Record<string, AttributeUpdates[string]> = {}
  for (const pair of updates) {
    const key = checkedKey(pair, label, "update")
    stored[key.name] = pair.value === null ? null : { type: key.type, value: toStoredValue(key.name, key.type, pair.value) }
  }
  return stored
}

const checkedKey = (pair: { readonly key?: SearchAttributeKey } | undefined, label: string, what: string): SearchAttributeKey => {
  const key = pair?.key
  if (key === undefined || typeof key.name !== "string" || !TYPES.has(key.type)) {
    throw new InvalidArgumentError({ message: `${label}: each ${what} entry needs a key from defineSearchAttributeKey(name, type)` })
  }
  checkAttributeName(key.name)
  return key
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
  checkMemo(memo, label)
  return Object.fromEntries(Object.entries(memo).map(([name, value]) => [name, encode(value, `${label} memo.${name}`)]))
}

/** `upsertMemo`'s memo encoded; a `null` or `undefined` value removes its key (as in Temporal). */
export const encodedMemoUpdates = (memo: Record<string, unknown>, label: string): MemoUpdates => {
  checkMemo(memo, label)
  return Object.fromEntries(Object.entries(memo).map(([name, value]) => [name, value === null || value === undefined ? null : encode(value, `${label} memo.${name}`)!]))
}

const checkMemo = (memo: unknown, label: string): void => {
  if (memo === null || typeof memo !== "object" || Array.isArray(memo)) throw new InvalidArgumentError({ message: `${label}: memo must be an object` })
}

/** A start's initial search attributes and memo, in their stored form. */
export interface StartVisibility {
  readonly searchAttributes?: StoredAttributes
  readonly memo?: Readonly<Record<string, Payload>>
}

/** A start's (client, child) `typedSearchAttributes` and `memo` options, checked and encoded; `label` names the call in errors. */
export const visibilityOf = (options: { readonly typedSearchAttributes?: TypedSearchAttributesInput; readonly memo?: Record<string, unknown> }, label: string): StartVisibility => {
  const searchAttributes = storedAttributes(options.typedSearchAttributes, label)
  const memo = encodedMemo(options.memo, label)
  return { ...(searchAttributes === undefined ? {} : { searchAttributes }), ...(memo === undefined ? {} : { memo }) }
}

/** A stored memo decoded. */
export const decodedMemo = (memo: Readonly<Record<string, Payload>> | undefined): Record<string, unknown> | undefined =>
  memo === undefined ? undefined : Object.fromEntries(Object.entries(memo).map(([name, value]) => [name, decode(value)]))
