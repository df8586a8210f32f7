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
import { Effect, Exit, type Result, type Scope } from "effect"
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis"
import { StoreError } from "../Store.ts"
import { attempt, storeError } from "./scripts.ts"
import { keySlot } from "./slot.ts"

/**
 * A Redis Cluster to connect to: its startup nodes, and any ioredis
 * `ClusterOptions` (per-node connection options — `username`, `password`,
 * `tls` — go in `redisOptions`, as with ioredis).
 */
export interface RedisClusterOptions extends ClusterOptions {
  readonly cluster: ReadonlyArray<{ readonly host: string; readonly port: number }>
}

/**
 * How to reach Redis: a URL, ioredis options, an existing client or
 * `Cluster` (which the store never closes), or `{ cluster: [...nodes], ...ClusterOptions }`.
 */
export type RedisInput = string | RedisOptions | Redis | Cluster | RedisClusterOptions

/** The command client of a store: one Redis, or a Cluster routing each command by its first key's slot. */
export type CommandClient = Redis | Cluster

/** Whether `client` is an ioredis `Cluster` (by its `isCluster` mark, not `instanceof`: module copies differ). */
export const isCluster = (client: CommandClient): client is Cluster => (client as Partial<Cluster>).isCluster === true

/**
 * ioredis `ClusterOptions` the store accepts. `scaleReads` (reading from
 * replicas would read stale state) and `redisOptions.db` (a cluster has one
 * database) are refused; anything else unknown is refused by name.
 */
const CLUSTER_OPTIONS = new Set([
  "cluster", "clusterRetryStrategy", "enableOfflineQueue", "enableReadyCheck", "maxRedirections", "retryDelayOnFailover",
  "retryDelayOnClusterDown", "retryDelayOnTryAgain", "retryDelayOnMoved", "slotsRefreshTimeout", "slotsRefreshInterval",
  "clusterNodeRetryStrategy", "redisOptions", "lazyConnect", "useSRVRecords", "resolveSrv", "dnsLookup", "natMap",
  "enableAutoPipelining", "autoPipeliningIgnoredCommands", "scripts", "keyPrefix", "showFriendlyErrorStack", "scaleReads",
])

/** Why `input`'s cluster options cannot be used, or undefined. */
export const clusterOptionsProblem = (input: RedisClusterOptions): string | undefined => {
  if (!Array.isArray(input.cluster) || input.cluster.length === 0) return "redis.cluster must be a non-empty array of { host, port }"
  for (const node of input.cluster) {
    if (typeof node !== "object" || node === null || typeof node.host !== "string" || !Number.isInteger(node.port)) {
      return `redis.cluster: each node must be { host, port }, got ${JSON.stringify(node)}`
    }
  }
  const unknown = Object.keys(input).filter((k) => !CLUSTER_OPTIONS.has(k))
  if (unknown.length > 0) {
    return `unknown Redis Cluster option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} ` +
      "(per-node options such as username, password and tls go in redis.redisOptions)"
  }
  if (input.scaleReads !== undefined && input.scaleReads !== "master") return `redis.scaleReads ${JSON.stringify(input.scaleReads)} is not supported: reads from replicas may see stale workflow state (use "master")`
  if (input.keyPrefix !== undefined) return "redis.keyPrefix is not supported: the namespace already prefixes every key"
  const db = input.redisOptions?.db
  if (db !== undefined && db !== 0) return `redis.redisOptions.db ${db} is not supported: a Redis Cluster has database 0 only`
  return undefined
}

const isClusterOptions = (input: RedisInput): input is RedisClusterOptions =>
  typeof input === "object" && input !== null && "cluster" in input && !isClient(input)

/** Reconnect delay after `times` failed attempts: 50 ms doubling, capped at 2 s. */
export const reconnectDelay = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000)

/** ioredis options the store applies unless the caller set them. */
export const defaultRedisOptions: RedisOptions = {
  retryStrategy: reconnectDelay,
  maxRetriesPerRequest: 3,
  autoResendUnfulfilledCommands: true,
  enableOfflineQueue: true,
}

const isClient = (input: RedisInput): input is Redis | Cluster =>
  typeof input === "object" && typeof (input as Partial<Redis>).duplicate === "function" &&
  typeof (input as Partial<Redis>).sendCommand === "function"

/**
 * Close a connection we own: QUIT (flushes replies), falling back to a hard
 * disconnect after 1 s. A connection that never became ready (refused, or a
 * server that does not answer) is dropped at once: a failed connect must not
 * wait on a QUIT nobody will answer.
 */
const close = (client: CommandClient): Effect.Effect<void> =>
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
const lastErrors = new WeakMap<CommandClient, Error>()

/**
 * Silence ioredis' "unhandled error event" (failures surface through the
 * commands that hit them), remembering the last error to name it.
 */
const quiet = <C extends CommandClient>(client: C): C => {
  client.on("error", (error: Error) => lastErrors.set(client, error))
  if (isCluster(client)) client.on("node error", (error: Error) => lastErrors.set(client, error))
  return client
}

/** Where `client` connects, for messages: `host:port`, a socket path, or "redis"; a cluster's startup nodes. */
export const endpointOf = (client: CommandClient): string => {
  if (isCluster(client)) {
    const startup = (client as unknown as { startupNodes?: ReadonlyArray<{ host?: string; port?: number }> }).startupNodes ?? []
    return `cluster ${startup.map((n) => `${n.host ?? "localhost"}:${n.port ?? 6379}`).join(",")}`
  }
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
export const acquireClient = (input: RedisInput, commandTimeoutMs: number): Effect.Effect<CommandClient, StoreError, Scope.Scope> => {
  if (isClient(input)) return Effect.succeed(quiet(input))
  const defaults = { ...defaultRedisOptions, commandTimeout: commandTimeoutMs }
  if (isClusterOptions(input)) {
    const problem = clusterOptionsProblem(input)
    if (problem !== undefined) return Effect.fail(new StoreError({ operation: "connect", message: problem }))
    const { cluster: startupNodes, redisOptions, ...clusterOptions } = input
    const { retryStrategy: _r, enableOfflineQueue: _e, ...nodeDefaults } = defaults
    return Effect.acquireRelease(
      Effect.try({
        try: () =>
          quiet(new Cluster(startupNodes.map((n) => ({ host: n.host, port: n.port })), {
            clusterRetryStrategy: reconnectDelay,
            enableOfflineQueue: true,
            ...clusterOptions,
            redisOptions: { ...nodeDefaults, ...redisOptions },
          })),
        catch: storeError("connect"),
      }),
      close,
    )
  }
  return Effect.acquireRelease(
    Effect.try({
      try: () => quiet(typeof input === "string" ? new Redis(input, defaults) : new Redis({ ...defaults, ...input })),
      catch: storeError("connect"),
    }),
    close,
  )
}

/** `host:port` of a node connection (the key ioredis' slot map uses). */
export const nodeKeyOf = (node: Redis): string => `${node.options.host ?? "localhost"}:${node.options.port ?? 6379}`

/**
 * Run `fn` on every master: the one server, or each master of a cluster
 * (ioredis' own connection to it, after the slot map is known). For what
 * must be on every node — `FUNCTION LOAD`, `SCRIPT LOAD`, `INFO` checks.
 */
export const forEachMaster = async <A>(client: CommandClient, fn: (node: Redis) => Promise<A>): Promise<Array<A>> => {
  if (!isCluster(client)) return [await fn(client)]
  await readyCluster(client)
  return Promise.all(client.nodes("master").map(fn))
}

/** Resolve once `cluster` is ready (its slot map loaded); reject if it ends first. */
const readyCluster = (cluster: Cluster): Promise<void> =>
  cluster.status === "ready"
    ? Promise.resolve()
    : new Promise((resolve, reject) => {
      if (cluster.status === "wait") cluster.connect().catch(() => {})
      const onReady = () => {
        cluster.off("end", onEnd)
        resolve()
      }
      const onEnd = () => {
        cluster.off("ready", onReady)
        reject(new Error(lastErrors.get(cluster)?.message ?? "the cluster connection ended"))
      }
      cluster.once("ready", onReady)
      cluster.once("end", onEnd)
    })

/**
 * The master owning `slot` (its `host:port`), from ioredis' slot map;
 * undefined on a single server or while the map does not know the slot.
 */
export const masterOfSlot = (client: CommandClient, slot: number): string | undefined =>
  isCluster(client) ? client.slots[slot]?.[0] : undefined

/** ioredis' connection to the node `key` (`host:port`), or undefined (not a cluster node, or gone). */
export const nodeClient = (client: CommandClient, key: string | undefined): Redis | undefined => {
  if (!isCluster(client)) return client
  if (key === undefined) return undefined
  return client.nodes("all").find((n) => nodeKeyOf(n) === key)
}

/** Errors after which the slot map must be reloaded: the cluster's layout changed under us. */
export const isTopologyError = (error: unknown): boolean => {
  const message = error instanceof Error ? error.message : typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  return /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b|Connection is closed|ECONNREFUSED|READONLY/.test(message)
}

/**
 * Check the server within `timeoutMs`: it answers, and runs Redis ≥ 6.2.
 * Failures name the endpoint and the cause (`connect ECONNREFUSED
 * 127.0.0.1:6390`, `timeout after 5 s waiting for 127.0.0.1:6390`).
 */
export const checkServer = (client: CommandClient, timeoutMs: number, allowEviction = false): Effect.Effect<void, StoreError> =>
  (isCluster(client)
    ? Effect.flatMap(attempt("connect", () => readyCluster(client)), () =>
      Effect.forEach(client.nodes("master"), (node) => checkServerVersion(node, allowEviction), { discard: true }))
    : checkServerVersion(client, allowEviction)).pipe(
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

/** One blocking command of a `BlockingPool.gather`: run on a connection to `node` (undefined: the one server). */
export interface BlockingCall<A> {
  readonly node: string | undefined
  readonly run: (connection: Redis) => Promise<A>
}

/** Duplicated connections for blocking commands, per node on a cluster. */
export interface BlockingPool {
  /**
   * Run `f` on a connection of its own (to master `node` on a cluster). If
   * `f` fails or the fiber is interrupted, the connection is disconnected (a
   * blocked command cannot be taken back) rather than returned to the pool.
   */
  readonly use: <A>(operation: string, f: (connection: Redis) => Promise<A>, node?: string) => Effect.Effect<A, StoreError>
  /**
   * Run blocking `calls` at once, each on a connection of its own; as soon
   * as one returns a `hit`, the others still blocked are ended with
   * `CLIENT UNBLOCK` (as if their timeout had passed: nothing they read is
   * dropped, their connections stay usable); a call not sent yet by then is
   * not sent and yields `none`. One outcome per call, in order.
   */
  readonly gather: <A>(
    operation: string,
    calls: ReadonlyArray<BlockingCall<A>>,
    hit: (a: A) => boolean,
    none: A,
  ) => Effect.Effect<Array<Result.Result<A, StoreError>>>
}

/** A pool of connections duplicated from `base` (per master on a cluster), all closed with the scope. Keeps at most `maxIdle` idle per node. */
export const acquireBlockingPool = (base: CommandClient, maxIdle = isCluster(base) ? 64 : 8): Effect.Effect<BlockingPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const idle = new Map<string, Array<Redis>>()
    const all = new Set<Redis>()
    const ids = new WeakMap<Redis, number>()
    let closed = false
    const drop = (c: Redis) => {
      all.delete(c)
      c.disconnect()
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        idle.clear()
        for (const c of all) c.disconnect()
        all.clear()
      })
    )
    const make = (node: string | undefined): Redis => {
      if (!isCluster(base)) return base.duplicate({ commandTimeout: undefined })
      const source = nodeClient(base, node)
      if (source === undefined) {
        base.refreshSlotsCache()
        throw new Error(`CLUSTERDOWN node ${node ?? "(unknown)"} is not a master of the slot map (refreshing it)`)
      }
      // A node connection does not reconnect (ioredis' cluster default): after a failover the slot map names another node.
      return source.duplicate({ commandTimeout: undefined, lazyConnect: false })
    }
    const take = (operation: string, node: string | undefined): Effect.Effect<Redis, StoreError> =>
      Effect.suspend(() => {
        if (closed) return Effect.fail(new StoreError({ operation, message: "the store is closed" }))
        const list = idle.get(node ?? "")
        let c = list?.pop()
        while (c !== undefined && c.status === "end") {
          all.delete(c)
          c = list?.pop()
        }
        if (c === undefined) {
          try {
            // Blocking reads wait as long as they ask: no command timeout on these.
            c = quiet(make(node))
            const made = c
            made.on("close", () => ids.delete(made))
          } catch (cause) {
            return Effect.fail(storeError(operation)(cause))
          }
        }
        all.add(c)
        return Effect.succeed(c)
      })
    const use = <A>(operation: string, f: (c: Redis) => Promise<A>, node?: string): Effect.Effect<A, StoreError> =>
      Effect.acquireUseRelease(
        take(operation, node),
        (c) => attempt(operation, () => f(c)),
        (c, exit) =>
          Effect.sync(() => {
            const list = idle.get(node ?? "") ?? []
            if (Exit.isSuccess(exit) && !closed && list.length < maxIdle) {
              list.push(c)
              idle.set(node ?? "", list)
            } else drop(c)
          }),
      )
    const clientId = async (c: Redis): Promise<number> => {
      const known = ids.get(c)
      if (known !== undefined) return known
      const id = Number(await c.client("ID"))
      ids.set(c, id)
      return id
    }
    const gather: BlockingPool["gather"] = (operation, calls, hit, none) =>
      Effect.suspend(() => {
        const blocked = new Map<number, { readonly node: string | undefined; readonly id: number }>()
        let woken = false
        const unblock = async (i: number, node: string | undefined, id: number) => {
          // A command not blocked yet ignores CLIENT UNBLOCK (0): try again until it has returned.
          for (let tries = 0; blocked.has(i) && tries < 500; tries++) {
            const via = nodeClient(base, node)
            if (via === undefined) return
            const n = await via.call("CLIENT", "UNBLOCK", String(id)).catch(() => -1)
            if (n === -1) return
            if (n === 1) return
            await new Promise((resolve) => setTimeout(resolve, 1))
          }
        }
        const wakeOthers = () => {
          if (woken) return
          woken = true
          for (const [i, { node, id }] of blocked) void unblock(i, node, id)
        }
        return Effect.forEach(
          calls,
          (call, i) =>
            Effect.result(use(operation, async (c) => {
              const id = await clientId(c)
              // Late (another call returned a hit while this one was connecting): do not block at all.
              if (woken) return none
              blocked.set(i, { node: call.node, id })
              try {
                const reply = await call.run(c)
                if (hit(reply)) wakeOthers()
                return reply
              } finally {
                blocked.delete(i)
              }
            }, call.node).pipe(Effect.tapError(() => Effect.sync(() => {
              blocked.delete(i)
            })))),
          { concurrency: "unbounded" },
        )
      })
    return { use, gather }
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

/** Keys of one slot, and the master serving it (undefined: not known yet; the one server). */
export interface SlotGroup {
  readonly node: string | undefined
  /** Indices into the keys given to `groupBySlot`. */
  readonly indices: ReadonlyArray<number>
}

const slotCache = new Map<string, number>()

/**
 * `keys` grouped for multi-key commands: on a cluster one group per slot (a
 * multi-key command is refused with CROSSSLOT unless all its keys share one
 * slot, even on one node), each with its master from the current slot map —
 * so every read follows the layout as it is now (after MOVED, a failover,
 * a reshard); on a single server one group of all.
 */
export const groupBySlot = (client: CommandClient, keys: ReadonlyArray<string>): Array<SlotGroup> => {
  if (!isCluster(client)) return [{ node: undefined, indices: keys.map((_, i) => i) }]
  const bySlot = new Map<number, Array<number>>()
  keys.forEach((key, i) => {
    let slot = slotCache.get(key)
    if (slot === undefined) {
      slot = keySlot(key)
      if (slotCache.size > 100_000) slotCache.clear()
      slotCache.set(key, slot)
    }
    const list = bySlot.get(slot)
    if (list === undefined) bySlot.set(slot, [i])
    else list.push(i)
  })
  return [...bySlot].map(([slot, indices]) => ({ node: masterOfSlot(client, slot), indices }))
}
