/**
 * Redis connections of one store: the command client (all scripts and plain
 * commands, pipelined by ioredis), and a pool of duplicated connections for
 * blocking commands (XREADGROUP BLOCK, BLPOP), each blocking call holding one
 * connection for its duration.
 *
 * Reconnection: ioredis reconnects with `retryStrategy` (exponential backoff,
 * capped at 2 s) and re-sends commands that were in flight
 * (`autoResendUnfulfilledCommands`), so a blocking read cut by a reconnect
 * resumes on the new connection. A command waiting through more than
 * `maxRetriesPerRequest` reconnect attempts fails with `StoreError`, which
 * callers retry. A re-sent script may run twice; every script is safe to
 * repeat (commit/complete see their ack already taken and change nothing;
 * appends are at-least-once).
 */
import { Effect, Exit, type Scope } from "effect"
import { Redis, type RedisOptions } from "ioredis"
import { StoreError } from "../Store.ts"
import { attempt, storeError } from "./scripts.ts"

/** How to reach Redis: a URL, ioredis options, or an existing client (which the store never closes). */
export type RedisInput = string | RedisOptions | Redis

/** Reconnect delay after `times` failed attempts: 50 ms doubling, capped at 2 s. */
export const reconnectDelay = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000)

/** ioredis options the store applies unless the caller set them. */
export const defaultRedisOptions: RedisOptions = {
  retryStrategy: reconnectDelay,
  maxRetriesPerRequest: 3,
  autoResendUnfulfilledCommands: true,
  enableOfflineQueue: true,
}

const isClient = (input: RedisInput): input is Redis =>
  typeof input === "object" && typeof (input as Partial<Redis>).duplicate === "function" &&
  typeof (input as Partial<Redis>).sendCommand === "function"

/**
 * Close a connection we own: QUIT (flushes replies), falling back to a hard
 * disconnect after 1 s. A connection that never became ready (refused, or a
 * server that does not answer) is dropped at once: a failed connect must not
 * wait on a QUIT nobody will answer.
 */
const close = (client: Redis): Effect.Effect<void> =>
  Effect.promise(async () => {
    if (client.status === "end") return
    if (client.status !== "ready") {
      client.disconnect()
      return
    }
    try {
      // Unref'd: a process that closed its store exits at once, not when the fallback would have fired.
      await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())])
    } catch {
      // already closing
    }
    client.disconnect()
  })

/** The last connection error of each client (ECONNREFUSED, ENOTFOUND, TLS, auth, ...), to name it in errors. */
const lastErrors = new WeakMap<Redis, Error>()

/**
 * Silence ioredis' "unhandled error event" (failures surface through the
 * commands that hit them), remembering the last error to name it.
 */
const quiet = (client: Redis): Redis => {
  client.on("error", (error: Error) => lastErrors.set(client, error))
  return client
}

/** Where `client` connects, for messages: `host:port`, a socket path, or "redis". */
export const endpointOf = (client: Redis): string => {
  const o = client.options
  if (typeof o.path === "string" && o.path !== "") return o.path
  return `${o.host ?? "localhost"}:${o.port ?? 6379}`
}

/**
 * The command client for `input`, closed with the scope unless the caller
 * passed its own client. Its commands fail after `commandTimeoutMs` without
 * a reply (a `StoreError` callers retry), unless the options set their own
 * `commandTimeout`.
 */
export const acquireClient = (input: RedisInput, commandTimeoutMs: number): Effect.Effect<Redis, StoreError, Scope.Scope> => {
  if (isClient(input)) return Effect.succeed(quiet(input))
  const defaults = { ...defaultRedisOptions, commandTimeout: commandTimeoutMs }
  return Effect.acquireRelease(
    Effect.try({
      try: () => quiet(typeof input === "string" ? new Redis(input, defaults) : new Redis({ ...defaults, ...input })),
      catch: storeError("connect"),
    }),
    close,
  )
}

/**
 * Check the server within `timeoutMs`: it answers, and runs Redis ≥ 6.2.
 * Failures name the endpoint and the cause (`connect ECONNREFUSED
 * 127.0.0.1:6390`, `timeout after 5 s waiting for 127.0.0.1:6390`).
 */
export const checkServer = (client: Redis, timeoutMs: number, allowEviction = false): Effect.Effect<void, StoreError> =>
  checkServerVersion(client, allowEviction).pipe(
    Effect.timeoutOrElse({
      duration: timeoutMs,
      orElse: () => {
        const cause = lastErrors.get(client)
        return Effect.fail(new StoreError({
          operation: "connect",
          message: cause === undefined
            ? `timeout after ${timeoutMs / 1000} s waiting for ${endpointOf(client)} (no answer to INFO)`
            : `cannot connect to ${endpointOf(client)}: ${cause.message}`,
          cause,
        }))
      },
    }),
    Effect.mapError((error) => {
      const cause = lastErrors.get(client)
      return error.message.includes(endpointOf(client)) || error.message.startsWith("Redis >=") || error.message.includes("maxmemory-policy")
        ? error
        : new StoreError({ operation: "connect", message: `cannot connect to ${endpointOf(client)}: ${cause?.message ?? error.message}`, cause: cause ?? error })
    }),
  )

/** Duplicated connections for blocking commands. */
export interface BlockingPool {
  /**
   * Run `f` on a connection of its own. If `f` fails or the fiber is
   * interrupted, the connection is disconnected (a blocked command cannot be
   * taken back) rather than returned to the pool.
   */
  readonly use: <A>(operation: string, f: (connection: Redis) => Promise<A>) => Effect.Effect<A, StoreError>
}

/** A pool of connections duplicated from `base`, all closed with the scope. Keeps at most `maxIdle` idle. */
export const acquireBlockingPool = (base: Redis, maxIdle = 8): Effect.Effect<BlockingPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const idle: Array<Redis> = []
    const all = new Set<Redis>()
    let closed = false
    const drop = (c: Redis) => {
      all.delete(c)
      c.disconnect()
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        idle.length = 0
        for (const c of all) c.disconnect()
        all.clear()
      })
    )
    const take = (operation: string): Effect.Effect<Redis, StoreError> =>
      Effect.suspend(() => {
        if (closed) return Effect.fail(new StoreError({ operation, message: "the store is closed" }))
        let c = idle.pop()
        while (c !== undefined && c.status === "end") {
          all.delete(c)
          c = idle.pop()
        }
        if (c === undefined) {
          try {
            // Blocking reads wait as long as they ask: no command timeout on these.
            c = quiet(base.duplicate({ commandTimeout: undefined }))
          } catch (cause) {
            return Effect.fail(storeError(operation)(cause))
          }
        }
        all.add(c)
        return Effect.succeed(c)
      })
    const use = <A>(operation: string, f: (c: Redis) => Promise<A>): Effect.Effect<A, StoreError> =>
      Effect.acquireUseRelease(
        take(operation),
        (c) => attempt(operation, () => f(c)),
        (c, exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit) && !closed && idle.length < maxIdle) idle.push(c)
            else drop(c)
          }),
      )
    return { use }
  })

/** The eviction policies that never delete a key on their own. */
const NO_EVICTION = new Set(["noeviction"])

/**
 * Fail with `StoreError` unless the server runs Redis ≥ 6.2 (XAUTOCLAIM,
 * XADD MINID, ...) and — unless `allowEviction` — its `maxmemory-policy` is
 * `noeviction`: an evicting Redis deletes acknowledged workflows, streams and
 * the namespace's configuration without a word (BullMQ warns likewise).
 */
export const checkServerVersion = (client: Redis, allowEviction = false): Effect.Effect<void, StoreError> =>
  Effect.flatMap(
    Effect.tryPromise({ try: () => client.info(), catch: storeError("connect") }),
    (info) => {
      const version = /redis_version:(\d+)\.(\d+)/.exec(info)
      const major = Number(version?.[1] ?? 0)
      const minor = Number(version?.[2] ?? 0)
      if (!(major > 6 || (major === 6 && minor >= 2))) {
        return Effect.fail(new StoreError({ operation: "connect", message: `Redis >= 6.2 required, server is ${version?.[0] ?? "unknown"}` }))
      }
      const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1]
      if (!allowEviction && policy !== undefined && !NO_EVICTION.has(policy)) {
        return Effect.fail(new StoreError({
          operation: "connect",
          message: `Redis at ${endpointOf(client)} runs maxmemory-policy ${policy}, which deletes keys when memory runs out: ` +
            "workflows would be lost without an error. Set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction), " +
            "or pass allowEviction: true if you accept that risk.",
        }))
      }
      return Effect.void
    },
  )
