/**
 * What every `hotmesh` command shares: the global options (`--redis`,
 * `--namespace`, `--output`), the connection they name, output in either
 * format, the confirmation of batch operations, and the one-line errors
 * with their exit codes.
 */
import { createInterface } from "node:readline/promises"
import Table from "cli-table3"
import type { Command } from "commander"
import { Client } from "../sdk/client.ts"
import { Connection } from "../sdk/connection.ts"

/** Exit codes: 0 done, 1 the operation failed (or part of a batch did), 2 bad input (usage, a malformed query). */
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

/** A failure the CLI reports in one line and exits with `code`. */
export class CliError extends Error {
  constructor(message: string, readonly code: number = EXIT_FAILED) {
    super(message)
  }
}

/** `--output`: a table (or lines) for people, JSON for scripts. */
export type OutputFormat = "table" | "json"

/** The global options, as commander parsed them. */
export interface GlobalOptions {
  readonly redis?: string
  readonly namespace: string
  readonly output: OutputFormat
}

/** How long connecting to Redis may take before the CLI gives up (a closed port, a wrong password). */
const CONNECT_TIMEOUT_MS = 3_000

/** The global options of `command` (set on the root program). */
export const globalsOf = (command: Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>()

/**
 * Run `body` with a client on the store the global options name, closing
 * the connection afterwards. Without a Redis URL it refuses: the embedded
 * store lives in one process, so there would be nothing to operate on.
 */
export const withClient = async <A>(command: Command, body: (client: Client, globals: GlobalOptions) => Promise<A>): Promise<A> => {
  const globals = globalsOf(command)
  const redis = globals.redis ?? ""
  if (redis === "") throw new CliError("no Redis store given: pass --redis URL or set HOTMESH_REDIS_URL", EXIT_USAGE)
  const connection = await Connection.connect({ redis, namespace: globals.namespace, connectTimeoutMs: CONNECT_TIMEOUT_MS, logLevel: "None" })
  try {
    return await body(new Client({ connection }), globals)
  } finally {
    await connection.close()
  }
}

/** Dates as ISO strings, `undefined` fields dropped: what `--output json` prints. */
export const jsonOf = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (v instanceof Date ? v.toISOString() : v), 2)

/** Print `value` as JSON (json output) or `table()` (table output). */
export const print = (globals: GlobalOptions, value: unknown, table: () => string): void => {
  process.stdout.write(`${globals.output === "json" ? jsonOf(value) : table()}\n`)
}

/** No rule between rows: one line per row, easy to read and to grep. */
const COMPACT = { chars: { "mid": "", "left-mid": "", "mid-mid": "", "right-mid": "" }, style: { head: [], border: [] } }

/** A table with `head` columns and `rows`. */
export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>): string => {
  const t = new Table({ head: [...head], ...COMPACT })
  for (const row of rows) t.push(row.map(String))
  return t.toString()
}

/** A two-column table of `field: value` pairs (undefined values left out). */
export const fields = (pairs: ReadonlyArray<readonly [string, unknown]>): string => {
  const t = new Table(COMPACT)
  for (const [name, value] of pairs) if (value !== undefined) t.push({ [name]: cell(value) })
  return t.toString()
}

/** How a value reads in a table cell. */
export const cell = (value: unknown): string =>
  value instanceof Date ? value.toISOString() : typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value)

/** A JSON argument given on the command line (`-i '{"a":1}'`), or a usage error naming it. */
export const parseJson = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new CliError(`${what} is not JSON: ${(error as Error).message}`, EXIT_USAGE)
  }
}

/** Commander's collector for a repeatable option. */
export const collect = (value: string, previous: ReadonlyArray<string> = []): Array<string> => [...previous, value]

/**
 * Ask before a destructive operation: `--yes` skips the question; otherwise
 * it is asked on a terminal (y/N, default no), and refused without one — a
 * script must say `--yes`.
 */
export const confirm = async (question: string, yes: boolean | undefined): Promise<void> => {
  if (yes === true) return
  if (!process.stdin.isTTY) throw new CliError(`${question} — refused: stdin is not a terminal; pass --yes to confirm`, EXIT_USAGE)
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await prompt.question(`${question} [y/N] `)
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError("aborted", EXIT_FAILED)
  } finally {
    prompt.close()
  }
}

/**
 * How an error is reported, and its exit code: one line — except a
 * malformed list filter, whose first line says what is wrong and whose next
 * two show the query with a caret under the offending token.
 */
export const reportOf = (error: unknown): { readonly text: string; readonly code: number } => {
  const invalid = isTagged(error, "InvalidArgumentError")
  const code = error instanceof CliError ? error.code : invalid ? EXIT_USAGE : EXIT_FAILED
  const message = withCauses(error)
  const caret = invalid && /^invalid list filter/.test(message)
  return { text: caret ? message : message.split("\n").map((line) => line.trim()).filter((line) => line !== "").join(" — "), code }
}

/** The error's message followed by its causes' (`Workflow Update failed: a name is required`), each once. */
const withCauses = (error: unknown): string => {
  const parts: Array<string> = []
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const text = e instanceof Error ? e.message : typeof e === "object" ? "" : String(e)
    if (text !== "" && !parts.some((part) => part.includes(text))) parts.push(text)
    if (!(e instanceof Error)) break
  }
  return parts.join(": ")
}

const isTagged = (error: unknown, tag: string): boolean =>
  typeof error === "object" && error !== null && ((error as { _tag?: unknown })._tag === tag || (error as { name?: unknown }).name === tag)
