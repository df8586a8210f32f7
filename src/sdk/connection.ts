/**
 * `Connection`: a process's handle on a store. Every `Client` and `Worker`
 * built on the same connection shares its store and its Effect runtime.
 *
 * `Connection.connect()` with no options uses the embedded in-memory store
 * (one per namespace per process, so a worker and a client connected
 * separately in the same process see each other).
 */
import { Cause, Effect, Layer, Logger, type LogLevel as EffectLogLevel, ManagedRuntime, References } from "effect"
import { type Duration, toMillis } from "../core/duration.ts"
import { InvalidArgumentError } from "../core/errors.ts"
import { defaultPayloadLimits, type PayloadLimits } from "../core/payload.ts"
import { MAX_LANES } from "../core/lanes.ts"
import { makeMemoryStore, type MemoryStore, type MemoryStoreOptions } from "../stores/memory.ts"
import { clusterOptionsProblem, type RedisClusterOptions, type RedisInput } from "../stores/redis/connection.ts"
import { durabilityProblem } from "../stores/redis/durability.ts"
import { layerRedis } from "../stores/redis/layer.ts"
import { Store } from "../stores/Store.ts"
import { checkOptions, UNSUPPORTED_CONNECTION } from "./internal/options.ts"
import { installedLogger, type LogLevel as TemporalLogLevel } from "./runtime.ts"
import { PayloadGuard } from "./internal/payloadGuard.ts"
import { type MetricsSink, noMetrics } from "../effects/metrics.ts"
import { retryBriefOutage } from "../effects/storeRetry.ts"
import type { RunCacheStats } from "../effects/runCache.ts"
import { ConnectionMetrics } from "./metrics.ts"

/** Options of `Connection.connect`. */
export interface ConnectionOptions {
  /** Isolates tenants sharing one store. Default `"default"`. */
  readonly namespace?: string
  /**
   * Use Redis: a URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS),
   * ioredis options (`{ host, port, username, password, tls, db }`), an
   * existing ioredis client or `Cluster` (which `close()` leaves open), or a
   * Redis Cluster: `{ cluster: [{ host, port }, …], ...ioredis ClusterOptions }`
   * (per-node `username`, `password`, `tls` in `redisOptions`).
   */
  readonly redis?: RedisInput
  /** Redis: partitions of the namespace (fixed for its lifetime). Default 8. */
  readonly partitions?: number
  /** Redis: connecting fails after this long, naming the endpoint and the cause. Default 5 000 ms. */
  readonly connectTimeoutMs?: number
  /** Redis: a command with no reply for this long fails and is retried. Default 10 000 ms (blocking reads are exempt). */
  readonly commandTimeoutMs?: number
  /**
   * Redis: accept a server whose `maxmemory-policy` evicts keys. Refused by
   * default, because eviction deletes workflows without an error.
   */
  readonly allowEviction?: boolean
  /**
   * Redis with replicas: wait until `replicas` replicas have each commit
   * (`WAIT`, up to `timeoutMs`) before the step counts as done, so a failover
   * cannot lose it. Default off (asynchronous replication). See README,
   * "Running on Redis Cluster".
   */
  readonly durability?: { readonly replicas: number; readonly timeoutMs: number }
  /** A delivered message not acknowledged for this long is re-delivered to another consumer. Default 30 s. */
  readonly visibilityTimeoutMs?: number
  /** A message delivered more often than this goes to the dead-letter list. Default 10. */
  readonly maxDeliveries?: number
  /**
   * Fair sharing: lanes of every task queue's activity tasks (1..64). An
   * activity task waits in the lane of its workflow type, and workers take
   * from the lanes in turn, so a flood of one workflow type does not hold
   * back the tasks of another (docs/architecture.md, "Fair sharing"). Redis:
   * fixed for the namespace's lifetime and recorded in it like the partition
   * count; omitted, what the namespace records (1 for a new one). Default 1
   * (one FIFO, as before lanes).
   */
  readonly lanes?: number
  /** A custom backend: any layer providing the `Store` service. */
  readonly store?: Layer.Layer<Store, unknown>
  /** The least severe log entries this connection's workers print (Effect's logger). Default `"Info"`. */
  readonly logLevel?: ConnectionLogLevel
  /**
   * How long a closed execution (its record and journal) is kept before the
   * store deletes it (Temporal's namespace retention). Default `"7 days"`;
   * `Infinity` keeps everything.
   */
  readonly retention?: Duration | typeof Infinity
  /**
   * Size limits of what one durable call carries — an argument list (start,
   * signal, query, activity, child, continue-as-new), a result, heartbeat
   * details — in UTF-8 bytes of its JSON. Above `errorBytes` (default 2 MiB,
   * Temporal's blob size limit) the call is refused with
   * `PayloadSizeLimitError`; above `warnBytes` (default 256 KiB) a warning is
   * logged once per call site. `Infinity` turns a limit off. Give every
   * process of a namespace the same limits.
   */
  readonly payloadLimits?: { readonly errorBytes?: number; readonly warnBytes?: number }
  /**
   * Collect Prometheus metrics for `connection.metrics()` (default true);
   * false measures nothing (`metrics()` then rejects).
   */
  readonly metrics?: boolean
}

/** The payload limits of `options` with defaults filled in; `InvalidArgumentError` for a bad value. */
export const payloadLimitsOf = (limits: ConnectionOptions["payloadLimits"]): PayloadLimits => {
  if (limits === undefined) return defaultPayloadLimits
  const invalid = (message: string) => new InvalidArgumentError({ message: `Connection.connect: payloadLimits.${message}` })
  if (typeof limits !== "object" || limits === null) throw new InvalidArgumentError({ message: "Connection.connect: payloadLimits must be an object { errorBytes?, warnBytes? }" })
  for (const name of ["errorBytes", "warnBytes"] as const) {
    const value = limits[name]
    if (value !== undefined && !(value === Infinity || (Number.isInteger(value) && value > 0))) throw invalid(`${name} must be a positive integer number of bytes or Infinity; got ${value}`)
  }
  const errorBytes = limits.errorBytes ?? defaultPayloadLimits.errorBytes
  const warnBytes = limits.warnBytes ?? Math.min(defaultPayloadLimits.warnBytes, errorBytes)
  if (warnBytes > errorBytes) throw invalid(`warnBytes (${warnBytes}) must not be above errorBytes (${errorBytes})`)
  return { errorBytes, warnBytes }
}

/** The retention of `options` in ms (`Infinity`: forever). */
export const retentionOf = (retention: Duration | undefined, fallback: number): number =>
  retention === undefined ? fallback : retention === Infinity ? Infinity : toMillis(retention, "retention")

/**
 * The least severe lines a connection's workers print: Effect's level names,
 * or Temporal's (`"INFO"`, ...), which mean the same.
 */
export type ConnectionLogLevel = "All" | "Fatal" | "Error" | "Warn" | "Info" | "Debug" | "Trace" | "None" | TemporalLogLevel

const EFFECT_LEVEL: Readonly<Record<TemporalLogLevel, EffectLogLevel.LogLevel>> = { TRACE: "Trace", DEBUG: "Debug", INFO: "Info", WARN: "Warn", ERROR: "Error" }
const TEMPORAL_LEVEL: Readonly<Record<EffectLogLevel.LogLevel, TemporalLogLevel>> = {
  All: "TRACE", Trace: "TRACE", Debug: "DEBUG", Info: "INFO", Warn: "WARN", Error: "ERROR", Fatal: "ERROR", None: "ERROR",
}

const toEffectLevel = (level: ConnectionLogLevel): EffectLogLevel.LogLevel => (level in EFFECT_LEVEL ? EFFECT_LEVEL[level as TemporalLogLevel] : (level as EffectLogLevel.LogLevel))

/**
 * The runtime's own lines go to the logger of `Runtime.install` when one is
 * installed (at the time of the line), else to Effect's default logger.
 */
const runtimeLogger = Logger.make((options) => {
  const logger = installedLogger()
  if (logger === undefined) return Logger.defaultLogger.log(options)
  const parts = Array.isArray(options.message) ? options.message : [options.message]
  const message = parts.map((part) => (typeof part === "string" ? part : part instanceof Error ? part.message : String(part))).join(" ")
  const meta: Record<string, unknown> = { sdkComponent: "worker" }
  if (options.cause.reasons.length > 0) meta["error"] = Cause.pretty(options.cause)
  logger.log(TEMPORAL_LEVEL[options.logLevel], message, meta)
})

/**
 * The runtime layer of a connection: its store, its logging threshold, and
 * its logger — provided to the store's own construction too, so fibers the
 * store forks (the Redis outbox relay, the notifier) log the same way.
 */
export const connectionLayer = <E>(store: Layer.Layer<Store, E>, logLevel: ConnectionLogLevel | undefined): Layer.Layer<Store, E> => {
  const logging = Logger.layer([runtimeLogger])
  const logs = logLevel === undefined ? logging : Layer.merge(logging, Layer.succeed(References.MinimumLogLevel, toEffectLevel(logLevel)))
  return store.pipe(Layer.provideMerge(logs))
}

const CONNECTION_OPTIONS = [
  "namespace", "redis", "partitions", "connectTimeoutMs", "commandTimeoutMs", "allowEviction", "visibilityTimeoutMs", "maxDeliveries", "lanes", "store",
  "logLevel", "retention", "payloadLimits", "durability", "metrics",
] satisfies Array<keyof ConnectionOptions>

const REDIS_ONLY = ["partitions", "connectTimeoutMs", "commandTimeoutMs", "allowEviction", "durability"] as const

/** Refuse options that cannot work, naming them (`InvalidArgumentError`), before anything connects. */
const validate = (options: ConnectionOptions, namespace: string): void => {
  checkOptions("Connection.connect(options)", options, CONNECTION_OPTIONS, UNSUPPORTED_CONNECTION)
  const invalid = (message: string) => new InvalidArgumentError({ message: `Connection.connect: ${message}` })
  if (typeof namespace !== "string" || !/^[^{}:\s]+$/.test(namespace)) {
    throw invalid(`invalid namespace ${JSON.stringify(namespace)}: use a non-empty name without "{", "}", ":" or whitespace`)
  }
  const integer = (name: "partitions" | "maxDeliveries" | "lanes", min: number, max = Infinity) => {
    const value = options[name]
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      throw invalid(`${name} must be an integer ${max === Infinity ? `≥ ${min}` : `in ${min}..${max}`}; got ${value}`)
    }
  }
  integer("partitions", 1, 4096)
  if (options.durability !== undefined) {
    const problem = durabilityProblem(options.durability)
    if (problem !== undefined) throw invalid(problem)
  }
  integer("maxDeliveries", 1)
  integer("lanes", 1, MAX_LANES)
  for (const name of ["visibilityTimeoutMs", "connectTimeoutMs", "commandTimeoutMs"] as const) {
    const value = options[name]
    if (value !== undefined && !(typeof value === "number" && value > 0 && Number.isFinite(value))) throw invalid(`${name} must be a positive number of ms; got ${value}`)
  }
}

const storeLayer = (options: ConnectionOptions, namespace: string): Layer.Layer<Store, unknown> => {
  validate(options, namespace)
  if (options.store !== undefined) {
    const ignored = (["redis", ...REDIS_ONLY, "visibilityTimeoutMs", "maxDeliveries", "lanes"] as const).filter((name) => options[name] !== undefined)
    if (ignored.length > 0) {
      throw new InvalidArgumentError({ message: `Connection.connect: ${ignored.join(", ")} cannot be combined with a custom store (configure the store's layer instead)` })
    }
    return options.store
  }
  if (options.redis !== undefined) {
    if (typeof options.redis === "object" && options.redis !== null && "cluster" in options.redis && typeof (options.redis as { duplicate?: unknown }).duplicate !== "function") {
      const problem = clusterOptionsProblem(options.redis as RedisClusterOptions)
      if (problem !== undefined) throw new InvalidArgumentError({ message: `Connection.connect: ${problem}` })
    }
    return layerRedis({
      redis: options.redis,
      namespace,
      ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
      ...(options.visibilityTimeoutMs === undefined ? {} : { visibilityTimeoutMs: options.visibilityTimeoutMs }),
      ...(options.maxDeliveries === undefined ? {} : { maxDeliveries: options.maxDeliveries }),
      ...(options.lanes === undefined ? {} : { lanes: options.lanes }),
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
      ...(options.allowEviction === undefined ? {} : { allowEviction: options.allowEviction }),
      ...(options.durability === undefined ? {} : { durability: options.durability }),
    })
  }
  const redisOnly = REDIS_ONLY.filter((name) => options[name] !== undefined)
  if (redisOnly.length > 0) {
    throw new InvalidArgumentError({ message: `Connection.connect: ${redisOnly.join(", ")} applies to Redis only (the embedded store is in memory)` })
  }
  return Layer.succeed(Store, embeddedStore(namespace, options))
}

const SEVEN_DAYS = 7 * 86_400_000

/** The embedded stores of this process, one per namespace, with the options they were made with. */
const embedded = new Map<string, { readonly store: MemoryStore; readonly options: MemoryStoreOptions }>()

/**
 * The shared embedded store of `namespace` in this process. A later
 * connection that asks for different store options is refused (the store
 * exists already; its options cannot change under the first connection).
 */
const embeddedStore = (namespace: string, options: ConnectionOptions): MemoryStore => {
  const wanted: MemoryStoreOptions = {
    ...(options.visibilityTimeoutMs === undefined ? {} : { visibilityTimeoutMs: options.visibilityTimeoutMs }),
    ...(options.maxDeliveries === undefined ? {} : { maxDeliveries: options.maxDeliveries }),
    ...(options.lanes === undefined ? {} : { lanes: options.lanes }),
  }
  const existing = embedded.get(namespace)
  if (existing === undefined) {
    const store = Effect.runSync(makeMemoryStore(wanted))
    embedded.set(namespace, { store, options: wanted })
    return store
  }
  for (const name of ["visibilityTimeoutMs", "maxDeliveries", "lanes"] as const) {
    if (wanted[name] !== undefined && wanted[name] !== existing.options[name]) {
      throw new InvalidArgumentError({
        message: `Connection.connect: the embedded store of namespace "${namespace}" already runs in this process with ${name} ` +
          `${existing.options[name] ?? "(default)"}; it cannot be reopened with ${name} ${wanted[name]} (use another namespace)`,
      })
    }
  }
  return existing.store
}

/** A connection to a store. */
export class Connection {
  #closed = false
  /** Internal: the payload size limits every client call and worker of this connection applies. */
  readonly payloads: PayloadGuard
  /** Internal: use `Connection.connect`. */
  constructor(
    readonly runtime: ManagedRuntime.ManagedRuntime<Store, unknown>,
    readonly namespace: string,
    /** How long closed executions are kept (ms; `Infinity`: forever). */
    readonly retentionMs: number = SEVEN_DAYS,
    payloadLimits: PayloadLimits = defaultPayloadLimits,
    metrics = true,
  ) {
    this.payloads = new PayloadGuard(payloadLimits, (message) => {
      if (!this.#closed) this.runtime.runFork(Effect.logWarning(message))
    })
    this.#metrics = metrics ? new ConnectionMetrics(namespace) : undefined
  }

  readonly #metrics: ConnectionMetrics | undefined

  /** Internal: the sink the workers of this connection report to. */
  get metricsSink(): MetricsSink {
    return this.#metrics ?? noMetrics
  }

  /** Internal: register a running worker with the metrics (its task queue is scraped, its cache reported). */
  addMetricsSource(source: { readonly taskQueue: string; readonly cacheStats: () => RunCacheStats }): () => void {
    return this.#metrics?.addSource(source) ?? (() => undefined)
  }

  /** Whether this connection collects metrics (`Connection.connect({ metrics })`, default true). */
  get metricsEnabled(): boolean {
    return this.#metrics !== undefined
  }

  /**
   * This connection's metrics as Prometheus text (one registry per
   * connection): what its workers did (steps, task and activity latencies,
   * failures, retries, timers, conflicts, store errors), and — read from the
   * store now — stream depth, pending work and dead letters of the task
   * queues its workers poll (and of `options.taskQueues`, e.g. for a
   * dashboard process that runs no worker), and the due timers. See README "Metrics".
   */
  async metrics(options: { readonly taskQueues?: ReadonlyArray<string> } = {}): Promise<string> {
    const metrics = this.#metrics
    if (metrics === undefined) throw new InvalidArgumentError({ message: "connection.metrics(): this connection was made with metrics: false" })
    checkOptions("connection.metrics(options)", options, ["taskQueues"])
    const extra = options.taskQueues ?? []
    if (!Array.isArray(extra) || extra.some((name) => typeof name !== "string" || name.length === 0)) {
      throw new InvalidArgumentError({ message: "connection.metrics(options): taskQueues must be an array of task queue names" })
    }
    const taskQueues = [...new Set([...metrics.taskQueues, ...extra])]
    const snapshot = await this.run(retryBriefOutage(Effect.gen(function* () {
      const store = yield* Store
      const queues = yield* Effect.forEach(taskQueues, (taskQueue) =>
        Effect.map(
          Effect.forEach(["workflow", "activity"] as const, (kind) => Effect.map(store.describeStream({ kind, taskQueue }), (d) => ({ kind, ...d }))),
          (streams) => ({ taskQueue, streams }),
        ))
      return { taskQueues: queues, timersDue: yield* store.dueTimers }
    })))
    return metrics.text(snapshot)
  }

  /** Connect to the embedded in-memory store (default) or the store of `options.store`. */
  static async connect(options: ConnectionOptions = {}): Promise<Connection> {
    const namespace = options.namespace ?? "default"
    const retentionMs = retentionOf(options.retention, SEVEN_DAYS)
    const payloadLimits = payloadLimitsOf(options.payloadLimits)
    if (options.metrics !== undefined && typeof options.metrics !== "boolean") throw new InvalidArgumentError({ message: "Connection.connect: metrics must be true or false" })
    const connection = new Connection(
      ManagedRuntime.make(connectionLayer(storeLayer(options, namespace), options.logLevel)),
      namespace,
      retentionMs,
      payloadLimits,
      options.metrics ?? true,
    )
    try {
      await connection.runtime.context()
    } catch (error) {
      await connection.runtime.dispose()
      throw error
    }
    return connection
  }

  /**
   * The embedded store's connection for `namespace`, made synchronously
   * (for `new Client()` without a connection). Internal.
   */
  static embedded(namespace = "default"): Connection {
    return new Connection(ManagedRuntime.make(connectionLayer(storeLayer({ namespace }, namespace), undefined)), namespace, SEVEN_DAYS)
  }

  /** Run a store program on this connection. Internal. */
  run<A, E>(effect: Effect.Effect<A, E, Store>, signal?: AbortSignal): Promise<A> {
    if (this.#closed) return Promise.reject(new Error("Connection is closed"))
    return this.runtime.runPromise(effect, signal === undefined ? undefined : { signal })
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** Release the connection's resources (store clients, fibers), shutting down workers still running on it first. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // Workers still running on this connection shut down first (their run() resolves), then the store goes.
    await Promise.allSettled([...this.#running].map((shutdown) => shutdown()))
    await this.runtime.dispose()
  }

  readonly #running = new Set<() => Promise<void>>()

  /** Internal: a running worker's shutdown, called by `close()`; the returned function unregisters it. */
  whileRunning(shutdown: () => Promise<void>): () => void {
    this.#running.add(shutdown)
    return () => this.#running.delete(shutdown)
  }
}

/**
 * Temporal's name for the connection workers use: the same as `Connection`
 * (HotMesh has one kind of connection, to the store).
 */
export const NativeConnection = Connection
/** The type of `NativeConnection` (a `Connection`). */
export type NativeConnection = Connection

/** `namespace` given next to a connection must be the connection's (it is never ignored). */
export const checkNamespace = (where: string, namespace: unknown, connection: Connection): void => {
  if (namespace !== undefined && namespace !== connection.namespace) {
    throw new InvalidArgumentError({
      message: `${where}: namespace ${JSON.stringify(namespace)} is not the connection's (${JSON.stringify(connection.namespace)}); the namespace is chosen by Connection.connect({ namespace })`,
    })
  }
}
