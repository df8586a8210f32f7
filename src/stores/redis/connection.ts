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
import { storeError } from "./scripts.ts"

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

/** Close a connection we own: QUIT (flushes replies), falling back to a hard disconnect. */
const close = (client: Redis): Effect.Effect<void> =>
  Effect.promise(async () => {
    if (client.status === "end") return
    try {
      await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, 1_000))])
    } catch {
      // already closing
    }
    client.disconnect()
  })

/** Silence ioredis' "unhandled error event": failures surface through the commands that hit them. */
const quiet = (client: Redis): Redis => {
  client.on("error", () => {})
  return client
}

/** The command client for `input`, closed with the scope unless the caller passed its own client. */
export const acquireClient = (input: RedisInput): Effect.Effect<Redis, StoreError, Scope.Scope> => {
  if (isClient(input)) return Effect.succeed(input)
  return Effect.acquireRelease(
    Effect.try({
      try: () =>
        quiet(
          typeof input === "string"
            ? new Redis(input, defaultRedisOptions)
            : new Redis({ ...defaultRedisOptions, ...input }),
        ),
      catch: storeError("connect"),
    }),
    close,
  )
}

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
            c = quiet(base.duplicate())
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
        (c) => Effect.tryPromise({ try: () => f(c), catch: storeError(operation) }),
        (c, exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit) && !closed && idle.length < maxIdle) idle.push(c)
            else drop(c)
          }),
      )
    return { use }
  })

/** Fail with `StoreError` unless the server runs Redis ≥ 6.2 (XAUTOCLAIM, XADD MINID, ...). */
export const checkServerVersion = (client: Redis): Effect.Effect<void, StoreError> =>
  Effect.flatMap(
    Effect.tryPromise({ try: () => client.info("server"), catch: storeError("connect") }),
    (info) => {
      const version = /redis_version:(\d+)\.(\d+)/.exec(info)
      const major = Number(version?.[1] ?? 0)
      const minor = Number(version?.[2] ?? 0)
      return major > 6 || (major === 6 && minor >= 2)
        ? Effect.void
        : Effect.fail(new StoreError({ operation: "connect", message: `Redis >= 6.2 required, server is ${version?.[0] ?? "unknown"}` }))
    },
  )
