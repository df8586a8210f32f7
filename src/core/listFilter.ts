/**
 * Temporal's list-filter language, the SQL-like `query` of
 * `client.workflow.list` and `count`: parsed, checked against the fields it
 * names, and evaluated against one execution's visibility record. Pure.
 *
 *     WorkflowType = 'order' AND ExecutionStatus = 'Running'
 *       AND (CustomerId IN ('ada', 'bob') OR StartTime > '2026-12-01T00:00:00Z')
 *       ORDER BY StartTime DESC
 *
 * Operators: `=`, `!=`, `>`, `>=`, `<`, `<=`, `[NOT] IN (…)`,
 * `[NOT] BETWEEN … AND …`, `[NOT] STARTS_WITH`, `IS [NOT] NULL`, `AND`, `OR`,
 * parentheses, and one `ORDER BY StartTime|CloseTime [ASC|DESC]`. Keywords
 * are case-insensitive, field names are not. Every error is an
 * `InvalidArgumentError` that shows the query with a caret under the
 * offending token. (A grammar this small is clearer as a recursive-descent
 * parser than as a parser library's DSL.)
 */
import { InvalidArgumentError } from "./errors.ts"
import { type SearchAttributeType, type StoredAttributes, textWords } from "./searchAttributes.ts"
import type { WorkflowStatus } from "./state.ts"

/** What a list filter is evaluated against: one execution (its latest run), as the visibility index keeps it. */
export interface VisibilityRecord {
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  readonly taskQueue: string
  readonly status: WorkflowStatus
  readonly startTime: number
  readonly closeTime?: number
  readonly historyLength: number
  readonly attributes: StoredAttributes
}

/** Temporal's `ExecutionStatus` names, and the status each stands for. */
export const EXECUTION_STATUS_NAMES: Readonly<Record<string, string>> = {
  Running: "RUNNING",
  Completed: "COMPLETED",
  Failed: "FAILED",
  Canceled: "CANCELLED",
  Terminated: "TERMINATED",
  ContinuedAsNew: "CONTINUED_AS_NEW",
  TimedOut: "TIMED_OUT",
}

/** The built-in fields and their types (`ExecutionDuration` is milliseconds, written as a duration string). */
export const BUILT_IN_FIELDS: Readonly<Record<string, SearchAttributeType>> = {
  WorkflowId: "KEYWORD",
  WorkflowType: "KEYWORD",
  RunId: "KEYWORD",
  ExecutionStatus: "KEYWORD",
  TaskQueue: "KEYWORD",
  StartTime: "DATETIME",
  CloseTime: "DATETIME",
  ExecutionDuration: "INT",
  HistoryLength: "INT",
}

/** A field a filter names, with the type its values are checked against. */
export interface FieldRef {
  readonly name: string
  readonly type: SearchAttributeType
  readonly builtIn: boolean
}

/** A literal after checking: strings, numbers (DATETIME as epoch ms, durations as ms) and booleans. */
export type FilterValue = string | number | boolean

/** A checked filter expression. */
export type FilterExpr =
  | { readonly kind: "and" | "or"; readonly items: ReadonlyArray<FilterExpr> }
  | { readonly kind: "compare"; readonly field: FieldRef; readonly op: "=" | "!=" | ">" | ">=" | "<" | "<="; readonly value: FilterValue }
  | { readonly kind: "in"; readonly field: FieldRef; readonly values: ReadonlyArray<FilterValue>; readonly negated: boolean }
  | { readonly kind: "between"; readonly field: FieldRef; readonly low: FilterValue; readonly high: FilterValue; readonly negated: boolean }
  | { readonly kind: "startsWith"; readonly field: FieldRef; readonly prefix: string; readonly negated: boolean }
  | { readonly kind: "isNull"; readonly field: FieldRef; readonly negated: boolean }

/** A checked list filter: the condition (none: every execution) and the order. */
export interface ListFilter {
  readonly where?: FilterExpr
  readonly orderBy: { readonly field: "StartTime" | "CloseTime"; readonly direction: "ASC" | "DESC" }
  /** `GROUP BY ExecutionStatus` (for `count`). */
  readonly groupBy?: "ExecutionStatus"
}

/** Temporal's default order is by close time, open executions first, then start time; HotMesh's: newest start first. */
export const DEFAULT_ORDER: ListFilter["orderBy"] = { field: "StartTime", direction: "DESC" }

// ---------------------------------------------------------------- tokens

type TokenKind = "ident" | "string" | "number" | "op" | "(" | ")" | "," | "end"

interface Token {
  readonly kind: TokenKind
  readonly text: string
  /** The literal's value for strings (unescaped) and numbers. */
  readonly value?: string | number
  readonly at: number
}

const KEYWORDS = new Set(["AND", "OR", "NOT", "IN", "BETWEEN", "STARTS_WITH", "IS", "NULL", "ORDER", "GROUP", "BY", "ASC", "DESC", "TRUE", "FALSE"])

const fail = (query: string, at: number, length: number, message: string): never => {
  const column = at + 1
  throw new InvalidArgumentError({
    message: `invalid list filter at column ${column}: ${message}\n  ${query}\n  ${" ".repeat(at)}${"^".repeat(Math.max(1, length))}`,
  })
}

const tokenize = (query: string): ReadonlyArray<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < query.length) {
    const c = query[i] as string
    if (/\s/.test(c)) {
      i++
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c, text: c, at: i })
      i++
    } else if (c === "'" || c === '"') {
      let j = i + 1
      let text = ""
      for (;;) {
        if (j >= query.length) fail(query, i, query.length - i, "this string is not closed")
        const d = query[j] as string
        if (d === c && query[j + 1] === c) {
          text += c
          j += 2
        } else if (d === c) {
          break
        } else {
          text += d
          j++
        }
      }
      tokens.push({ kind: "string", text: query.slice(i, j + 1), value: text, at: i })
      i = j + 1
    } else if (c === "`") {
      const end = query.indexOf("`", i + 1)
      if (end < 0) fail(query, i, query.length - i, "this quoted name is not closed")
      tokens.push({ kind: "ident", text: query.slice(i + 1, end), at: i })
      i = end + 1
    } else if (/[-0-9.]/.test(c)) {
      const match = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(query.slice(i))
      if (match === null) fail(query, i, 1, `unexpected ${JSON.stringify(c)}`)
      const text = (match as RegExpExecArray)[0]
      tokens.push({ kind: "number", text, value: Number(text), at: i })
      i += text.length
    } else if (/[=!<>]/.test(c)) {
      const two = query.slice(i, i + 2)
      const op = ["!=", ">=", "<=", "<>"].includes(two) ? two : c
      if (op === "!") fail(query, i, 1, "unexpected '!' (did you mean '!='?)")
      tokens.push({ kind: "op", text: op === "<>" ? "!=" : op, at: i })
      i += op.length
    } else if (/[A-Za-z_]/.test(c)) {
      const text = (/^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i)) as RegExpExecArray)[0]
      tokens.push({ kind: "ident", text, at: i })
      i += text.length
    } else {
      fail(query, i, 1, `unexpected ${JSON.stringify(c)}`)
    }
  }
  tokens.push({ kind: "end", text: "", at: query.length })
  return tokens
}

// ---------------------------------------------------------------- parser

/** A raw literal, before it is checked against its field's type. */
type Literal = { readonly token: Token; readonly value: string | number | boolean }

type Raw =
  | { readonly kind: "and" | "or"; readonly items: ReadonlyArray<Raw> }
  | { readonly kind: "compare"; readonly field: Token; readonly op: string; readonly value: Literal }
  | { readonly kind: "in"; readonly field: Token; readonly values: ReadonlyArray<Literal>; readonly negated: boolean }
  | { readonly kind: "between"; readonly field: Token; readonly low: Literal; readonly high: Literal; readonly negated: boolean }
  | { readonly kind: "startsWith"; readonly field: Token; readonly prefix: Literal; readonly negated: boolean }
  | { readonly kind: "isNull"; readonly field: Token; readonly negated: boolean }

const describeToken = (token: Token): string => (token.kind === "end" ? "the end of the query" : `'${token.text}'`)

class Parser {
  private i = 0
  constructor(private readonly query: string, private readonly tokens: ReadonlyArray<Token>) {}

  private get peek(): Token {
    return this.tokens[this.i] as Token
  }

  private isKeyword(word: string, token: Token = this.peek): boolean {
    return token.kind === "ident" && token.text.toUpperCase() === word
  }

  private next(): Token {
    const token = this.peek
    if (token.kind !== "end") this.i++
    return token
  }

  private error(expected: string, token: Token = this.peek): never {
    return fail(this.query, token.at, token.text.length, `expected ${expected}, found ${describeToken(token)}`)
  }

  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) this.error(word)
    this.next()
  }

  private expect(kind: TokenKind, what: string): Token {
    if (this.peek.kind !== kind) this.error(what)
    return this.next()
  }

  parse(): { readonly where?: Raw; readonly groupBy?: Token; readonly orderBy?: { readonly field: Token; readonly direction: "ASC" | "DESC" } } {
    const where = this.peek.kind === "end" || this.isKeyword("ORDER") || this.isKeyword("GROUP") ? undefined : this.or()
    let groupBy: Token | undefined
    if (this.isKeyword("GROUP")) {
      this.next()
      this.expectKeyword("BY")
      groupBy = this.field()
    }
    let orderBy: { field: Token; direction: "ASC" | "DESC" } | undefined
    if (this.isKeyword("ORDER")) {
      this.next()
      this.expectKeyword("BY")
      const field = this.field()
      let direction: "ASC" | "DESC" = "ASC"
      if (this.isKeyword("ASC") || this.isKeyword("DESC")) direction = this.next().text.toUpperCase() as "ASC" | "DESC"
      orderBy = { field, direction }
    }
    if (this.peek.kind !== "end") this.error(where === undefined ? "a condition, GROUP BY or ORDER BY" : "AND, OR, GROUP BY, ORDER BY or the end of the query")
    return { ...(where === undefined ? {} : { where }), ...(groupBy === undefined ? {} : { groupBy }), ...(orderBy === undefined ? {} : { orderBy }) }
  }

  private or(): Raw {
    const items = [this.and()]
    while (this.isKeyword("OR")) {
      this.next()
      items.push(this.and())
    }
    return items.length === 1 ? (items[0] as Raw) : { kind: "or", items }
  }

  private and(): Raw {
    const items = [this.primary()]
    while (this.isKeyword("AND")) {
      this.next()
      items.push(this.primary())
    }
    return items.length === 1 ? (items[0] as Raw) : { kind: "and", items }
  }

  private primary(): Raw {
    if (this.peek.kind === "(") {
      this.next()
      const inner = this.or()
      this.expect(")", "')'")
      return inner
    }
    return this.predicate()
  }

  private field(): Token {
    const token = this.peek
    if (token.kind !== "ident" || (KEYWORDS.has(token.text.toUpperCase()) && this.query[token.at] !== "`")) this.error("a field name")
    return this.next()
  }

  private literal(): Literal {
    const token = this.peek
    if (token.kind === "string" || token.kind === "number") return { token: this.next(), value: token.value as string | number }
    if (this.isKeyword("TRUE") || this.isKeyword("FALSE")) return { token: this.next(), value: token.text.toUpperCase() === "TRUE" }
    return this.error("a value (a 'quoted string', a number, true or false)")
  }

  private predicate(): Raw {
    const field = this.field()
    const token = this.peek
    if (token.kind === "op") {
      this.next()
      return { kind: "compare", field, op: token.text, value: this.literal() }
    }
    if (this.isKeyword("IS")) {
      this.next()
      const negated = this.isKeyword("NOT")
      if (negated) this.next()
      this.expectKeyword("NULL")
      return { kind: "isNull", field, negated }
    }
    const negated = this.isKeyword("NOT")
    if (negated) this.next()
    if (this.isKeyword("IN")) {
      this.next()
      this.expect("(", "'(' after IN")
      const values = [this.literal()]
      while (this.peek.kind === ",") {
        this.next()
        values.push(this.literal())
      }
      this.expect(")", "',' or ')'")
      return { kind: "in", field, values, negated }
    }
    if (this.isKeyword("BETWEEN")) {
      this.next()
      const low = this.literal()
      this.expectKeyword("AND")
      return { kind: "between", field, low, high: this.literal(), negated }
    }
    if (this.isKeyword("STARTS_WITH")) {
      this.next()
      return { kind: "startsWith", field, prefix: this.literal(), negated }
    }
    return this.error(negated ? "IN, BETWEEN or STARTS_WITH after NOT" : "an operator (=, !=, >, >=, <, <=, IN, BETWEEN, STARTS_WITH, IS NULL)")
  }
}

// ---------------------------------------------------------------- checking

/**
 * Parses `query` and checks it against the built-in fields and `attributes`
 * (the namespace's declared search-attribute keys): an unknown field, a value
 * of the wrong type or an operator its type does not support is an
 * `InvalidArgumentError` pointing at it. An empty query selects everything.
 */
export const parseListFilter = (query: string, attributes: Readonly<Record<string, SearchAttributeType>> = {}): ListFilter => {
  const raw = new Parser(query, tokenize(query)).parse()
  const at = (token: Token, message: string): never => fail(query, token.at, token.text.length, message)

  const fieldOf = (token: Token): FieldRef => {
    const builtIn = BUILT_IN_FIELDS[token.text]
    if (builtIn !== undefined) return { name: token.text, type: builtIn, builtIn: true }
    const custom = attributes[token.text]
    if (custom !== undefined) return { name: token.text, type: custom, builtIn: false }
    const known = [...Object.keys(BUILT_IN_FIELDS), ...Object.keys(attributes)]
    const hint = known.find((name) => name.toLowerCase() === token.text.toLowerCase())
    return at(token, `unknown field ${token.text}${hint === undefined ? " (not a built-in field nor a declared search attribute)" : ` (did you mean ${hint}?)`}`)
  }

  const valueOf = (field: FieldRef, literal: Literal): FilterValue => {
    const { token, value } = literal
    const expect = (what: string): never => at(token, `${field.name} is ${field.name === "ExecutionDuration" ? "a duration" : field.type}: expected ${what}`)
    if (field.name === "ExecutionStatus") {
      const status = typeof value === "string" ? EXECUTION_STATUS_NAMES[value] : undefined
      return status ?? expect(`one of ${Object.keys(EXECUTION_STATUS_NAMES).map((name) => `'${name}'`).join(", ")}`)
    }
    if (field.name === "ExecutionDuration") {
      const ms = typeof value === "string" ? durationMs(value) : undefined
      return ms ?? expect("a duration string such as '90s', '5m' or '2h'")
    }
    switch (field.type) {
      case "KEYWORD":
      case "TEXT":
      case "KEYWORD_LIST":
        return typeof value === "string" ? value : expect("a 'quoted string'")
      case "INT":
        return typeof value === "number" && Number.isSafeInteger(value) ? value : expect("an integer")
      case "DOUBLE":
        return typeof value === "number" ? value : expect("a number")
      case "BOOL":
        return typeof value === "boolean" ? value : expect("true or false")
      case "DATETIME": {
        const ms = typeof value === "string" ? Date.parse(value) : Number.NaN
        return Number.isFinite(ms) ? ms : expect("an ISO-8601 date in quotes, such as '2026-12-01T00:00:00Z'")
      }
    }
  }

  const check = (node: Raw): FilterExpr => {
    switch (node.kind) {
      case "and":
      case "or":
        return { kind: node.kind, items: node.items.map(check) }
      case "compare": {
        const field = fieldOf(node.field)
        const ordered = node.op !== "=" && node.op !== "!="
        if (ordered && (field.type === "TEXT" || field.type === "BOOL" || field.type === "KEYWORD_LIST")) {
          at(node.field, `${field.name} is ${field.type}: it supports = and != only, not ${node.op}`)
        }
        return { kind: "compare", field, op: node.op as "=", value: valueOf(field, node.value) }
      }
      case "in":
        return { kind: "in", field: fieldOf(node.field), values: node.values.map((value) => valueOf(fieldOf(node.field), value)), negated: node.negated }
      case "between": {
        const field = fieldOf(node.field)
        if (field.type === "TEXT" || field.type === "BOOL" || field.type === "KEYWORD_LIST") at(node.field, `${field.name} is ${field.type}: BETWEEN needs an ordered type`)
        return { kind: "between", field, low: valueOf(field, node.low), high: valueOf(field, node.high), negated: node.negated }
      }
      case "startsWith": {
        const field = fieldOf(node.field)
        if (field.type !== "KEYWORD" && field.type !== "KEYWORD_LIST") at(node.field, `${field.name} is ${field.type}: STARTS_WITH needs a KEYWORD`)
        if (field.name === "ExecutionStatus") at(node.field, "ExecutionStatus does not support STARTS_WITH; use = or IN")
        return { kind: "startsWith", field, prefix: valueOf(field, node.prefix) as string, negated: node.negated }
      }
      case "isNull":
        return { kind: "isNull", field: fieldOf(node.field), negated: node.negated }
    }
  }

  let orderBy = DEFAULT_ORDER
  if (raw.orderBy !== undefined) {
    const name = raw.orderBy.field.text
    if (name !== "StartTime" && name !== "CloseTime") at(raw.orderBy.field, `ORDER BY supports StartTime and CloseTime, not ${name}`)
    orderBy = { field: name as "StartTime", direction: raw.orderBy.direction }
  }
  if (raw.groupBy !== undefined && raw.groupBy.text !== "ExecutionStatus") at(raw.groupBy, `GROUP BY supports ExecutionStatus only, not ${raw.groupBy.text}`)
  return { ...(raw.where === undefined ? {} : { where: check(raw.where) }), orderBy, ...(raw.groupBy === undefined ? {} : { groupBy: "ExecutionStatus" as const }) }
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/

const durationMs = (text: string): number | undefined => {
  const match = DURATION.exec(text)
  if (match === null) return undefined
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms"]
  return Number(match[1]) * unit
}

// ---------------------------------------------------------------- evaluation

type Present = string | number | boolean | ReadonlyArray<string>

const fieldValue = (record: VisibilityRecord, field: FieldRef): Present | undefined => {
  if (!field.builtIn) return record.attributes[field.name]?.value
  switch (field.name) {
    case "WorkflowId":
      return record.workflowId
    case "WorkflowType":
      return record.workflowType
    case "RunId":
      return record.runId
    case "ExecutionStatus":
      return record.status
    case "TaskQueue":
      return record.taskQueue
    case "StartTime":
      return record.startTime
    case "CloseTime":
      return record.closeTime
    case "ExecutionDuration":
      return record.closeTime === undefined ? undefined : record.closeTime - record.startTime
    default:
      return record.historyLength
  }
}

const equals = (field: FieldRef, actual: Present, expected: FilterValue): boolean => {
  if (Array.isArray(actual)) return actual.includes(expected as string)
  if (field.type === "TEXT" && typeof actual === "string" && typeof expected === "string") {
    const words = new Set(textWords(actual))
    return textWords(expected).some((word) => words.has(word))
  }
  return actual === expected
}

const order = (actual: Present, expected: FilterValue): number =>
  typeof actual === "number" && typeof expected === "number" ? actual - expected : String(actual) < String(expected) ? -1 : String(actual) > String(expected) ? 1 : 0

/** Whether `record` satisfies `expr` (SQL-like: a condition on a missing value is false, except `IS NULL`). */
export const matchesFilter = (expr: FilterExpr | undefined, record: VisibilityRecord): boolean => {
  if (expr === undefined) return true
  switch (expr.kind) {
    case "and":
      return expr.items.every((item) => matchesFilter(item, record))
    case "or":
      return expr.items.some((item) => matchesFilter(item, record))
    case "isNull":
      return (fieldValue(record, expr.field) === undefined) !== expr.negated
  }
  const actual = fieldValue(record, expr.field)
  if (actual === undefined) return false
  switch (expr.kind) {
    case "compare":
      switch (expr.op) {
        case "=":
          return equals(expr.field, actual, expr.value)
        case "!=":
          return !equals(expr.field, actual, expr.value)
        case ">":
          return order(actual, expr.value) > 0
        case ">=":
          return order(actual, expr.value) >= 0
        case "<":
          return order(actual, expr.value) < 0
        default:
          return order(actual, expr.value) <= 0
      }
    case "in":
      return expr.values.some((value) => equals(expr.field, actual, value)) !== expr.negated
    case "between":
      return (order(actual, expr.low) >= 0 && order(actual, expr.high) <= 0) !== expr.negated
    case "startsWith": {
      const values = Array.isArray(actual) ? actual : [String(actual)]
      return values.some((value) => value.startsWith(expr.prefix)) !== expr.negated
    }
  }
}
