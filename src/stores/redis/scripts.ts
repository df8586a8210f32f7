/**
 * Registering and calling the Lua scripts of `lua.ts`, and the one place
 * where their return codes become typed errors.
 *
 * Scripts are registered with ioredis `defineCommand`, which runs them with
 * EVALSHA and falls back to EVAL after a `NOSCRIPT` (script cache flushed,
 * failover), so each call is one round trip.
 */
import { Data, Effect } from "effect"
import type { Cluster, Redis } from "ioredis"
import { CommitConflict, StoreError } from "../Store.ts"
import { LUA, type ScriptName } from "./lua.ts"

/** Return codes of the scripts (first element of every reply; see lua.ts). */
export const ReplyCode = {
  ok: 0,
  versionConflict: 1,
  notPending: 2,
  noGroup: 3,
} as const

/** A script found a stream's consumer group missing (NOGROUP): create it and retry. */
export class MissingGroup extends Data.TaggedError("MissingGroup")<{ readonly stream: string }> {}

/** Observes every script invocation (name and KEYS) before it is sent; a diagnostics hook for tests. */
export type ScriptObserver = (name: ScriptName, keys: ReadonlyArray<string>) => void

/** Runs one script: `keys` are its KEYS, `args` its ARGV. Fails only with `StoreError`. */
export type RunScript = (
  name: ScriptName,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>,
) => Effect.Effect<ReadonlyArray<unknown>, StoreError>

const commandName = (name: ScriptName) => `hotmesh_${name}`

/** `StoreError` for a failed Redis call (ioredis error, script error, connection loss). */
export const storeError = (operation: string) => (cause: unknown): StoreError =>
  new StoreError({
    operation,
    message: cause instanceof Error ? cause.message : String(cause),
    cause,
  })

/**
 * A programming error (a bug here, not something Redis or the connection
 * did): `TypeError`, `RangeError`, `ReferenceError`, `SyntaxError`. Such a
 * failure is a defect, never a `StoreError` — retrying it cannot help.
 */
export const isBug = (cause: unknown): boolean =>
  cause instanceof TypeError || cause instanceof RangeError || cause instanceof ReferenceError || cause instanceof SyntaxError

/**
 * Wrap a Redis call: a rejection from Redis or the connection becomes
 * `StoreError{operation}`; a programming error (`isBug`) is a defect.
 */
export const attempt = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
  Effect.tryPromise({ try: f, catch: (cause) => cause }).pipe(
    Effect.catch((cause) => (isBug(cause) ? Effect.die(cause) : Effect.fail(storeError(operation)(cause)))),
  )

/** Any leftover script outcome (conflict, missing group) as a `StoreError` of `operation`. */
export const asStoreError = (operation: string) => (e: StoreError | CommitConflict | MissingGroup): StoreError =>
  e._tag === "StoreError"
    ? e
    : new StoreError({ operation, message: `unexpected script outcome ${e._tag}`, cause: e })

/** Define every script on `client` (idempotent: re-defining replaces the same source). */
export const registerScripts = (client: Redis | Cluster): void => {
  for (const [name, lua] of Object.entries(LUA)) {
    client.defineCommand(commandName(name as ScriptName), { lua })
  }
}

/**
 * A `RunScript` calling the scripts registered on `client`, reporting each
 * call to `observe`. Only the call itself can fail with `StoreError`; an
 * observer that throws, an unregistered script or a reply that breaks the
 * scripts' contract is a bug (a defect).
 */
export const makeRunScript = (client: Redis | Cluster, observe?: ScriptObserver): RunScript => (name, keys, args) =>
  Effect.suspend(() => {
    observe?.(name, keys)
    const command = (client as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>)[
      commandName(name)
    ]
    if (command === undefined) return Effect.die(new Error(`script ${name} is not registered`))
    return Effect.flatMap(attempt(`script:${name}`, () => command.call(client, keys.length, ...keys, ...args)), (reply) =>
      Array.isArray(reply) && typeof reply[0] === "number"
        ? Effect.succeed(reply as ReadonlyArray<unknown>)
        : Effect.die(new Error(`script ${name} returned a malformed reply: ${JSON.stringify(reply)}`)))
  })

/** What a code-bearing reply is about, so errors can name it. */
export interface ReplyContext {
  readonly operation: string
  /** For commit-like scripts: the execution key and the version the caller expected. */
  readonly commit?: { readonly key: string; readonly expectedVersion: number }
  /** For reading scripts: the stream, named in `MissingGroup`. */
  readonly stream?: string
}

/**
 * The single mapping of script return codes to outcomes: code 0 yields the
 * rest of the reply; 1 and 2 become `CommitConflict` (reason `version` /
 * `not-pending`, actual version from the reply); 3 becomes `MissingGroup`;
 * anything else is a `StoreError`.
 */
export const interpretReply = (
  reply: ReadonlyArray<unknown>,
  context: ReplyContext,
): Effect.Effect<ReadonlyArray<unknown>, StoreError | CommitConflict | MissingGroup> => {
  const code = reply[0]
  switch (code) {
    case ReplyCode.ok:
      return Effect.succeed(reply.slice(1))
    case ReplyCode.versionConflict:
    case ReplyCode.notPending:
      return Effect.fail(
        new CommitConflict({
          key: context.commit?.key ?? "",
          expectedVersion: context.commit?.expectedVersion ?? 0,
          actualVersion: Number(reply[1] ?? 0),
          reason: code === ReplyCode.versionConflict ? "version" : "not-pending",
        }),
      )
    case ReplyCode.noGroup:
      return Effect.fail(new MissingGroup({ stream: context.stream ?? "" }))
    default:
      return Effect.fail(
        new StoreError({ operation: context.operation, message: `unknown script return code ${String(code)}` }),
      )
  }
}

/** Run a script that only ever returns code 0; yields the reply after the code. */
export const runOk = (
  runScript: RunScript,
  name: ScriptName,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>,
): Effect.Effect<ReadonlyArray<unknown>, StoreError> =>
  runScript(name, keys, args).pipe(
    Effect.flatMap((reply) => interpretReply(reply, { operation: name })),
    Effect.mapError(asStoreError(name)),
  )
