/**
 * `Worker`: runs workflow code and activities for one task queue (Temporal's
 * `Worker`). A worker is three loops on the connection's runtime — workflow
 * tasks, activity tasks, timers — and holds nothing that is not also in the
 * store: kill it at any point and another worker carries on.
 */
import { hostname } from "node:os"
import { pathToFileURL } from "node:url"
import { Cause, Effect, Exit, Fiber, Semaphore } from "effect"
import { type Duration, toMillis } from "../core/duration.ts"
import { InvalidArgumentError } from "../core/errors.ts"
import { runActivityTasks } from "../effects/activityTasks.ts"
import { Handoff } from "../effects/handoff.ts"
import { Metrics } from "../effects/metrics.ts"
import { makeTimerAlarm } from "../effects/timers.ts"
import { runWorkflowTasks } from "../effects/workflowTasks.ts"
import { Store } from "../stores/Store.ts"
import { retryStoreErrors } from "../effects/storeRetry.ts"
import { checkNamespace, Connection } from "./connection.ts"
import { checkOptions, UNSUPPORTED_WORKER } from "./internal/options.ts"
import { type Activities, makeActivityExecutor } from "./internal/activityExecutor.ts"
import { makeWorkflowExecutor, replayRun } from "./internal/workflowExecutor.ts"
import { UnknownWorkflowTypeError } from "./errors.ts"
import { initialState } from "../core/state.ts"
import type { JournalEntry } from "../core/journal.ts"
import type { ActivityInterceptorsFactory, WorkerInterceptors, WorkflowInterceptorsFactory } from "./interceptors.ts"

/** A recorded history, as `handle.fetchHistory()` returns it. */
export interface WorkflowHistory {
  readonly workflowId: string
  readonly runId: string
  readonly workflowType: string
  readonly events: ReadonlyArray<JournalEntry>
}
import { installDeterminism } from "./workflow/internal/determinism.ts"
import type { WorkflowFunction, WorkflowRun } from "./workflow/internal/run.ts"
import { RunCache, type RunCacheStats } from "../effects/runCache.ts"

/** Options of `Worker.create` (Temporal's `WorkerOptions`, in part). */
export interface WorkerOptions {
  /** Defaults to the embedded in-memory store's connection. */
  readonly connection?: Connection
  readonly taskQueue: string
  /** Workflow functions by type name (a module namespace works: non-functions are ignored). */
  readonly workflows?: Readonly<Record<string, unknown>>
  /** A module whose exported functions are the workflows (e.g. `require.resolve("./workflows")`). */
  readonly workflowsPath?: string
  /** What `bundleWorkflowCode({ workflowsPath })` returned: the same as passing `workflowsPath`. */
  readonly workflowBundle?: WorkflowBundle
  /** Must be the connection's namespace when given (Temporal's option; the namespace is the connection's). */
  readonly namespace?: string
  readonly activities?: object
  /** Default 100. */
  readonly maxConcurrentActivityTaskExecutions?: number
  /** Local activities (`proxyLocalActivities`) this worker runs at once; default 100. */
  readonly maxConcurrentLocalActivityExecutions?: number
  /** `false`: this worker polls no activity tasks, its `activities` serve local activities only (default `true`). */
  readonly enableNonLocalActivities?: boolean
  /**
   * This worker's own limit on activity tasks started per second (Temporal's
   * option; a token bucket in this process). Default: none.
   */
  readonly maxActivitiesPerSecond?: number
  /**
   * The task queue's limit on activity tasks started per second, across every
   * worker of the namespace (Temporal's option): set as the queue's `rate`
   * when the worker starts, as `client.taskQueue(q).setLimits({ rate })`
   * does — the last worker started wins, as in Temporal. Default: leave the
   * queue's limits as they are.
   */
  readonly maxTaskQueueActivitiesPerSecond?: number
  /**
   * Live workflow runs kept in memory; default 10,000 (least recently used
   * are evicted and later replayed). 0 keeps none: every step replays the
   * history (slow; a way to test replay).
   */
  readonly maxCachedWorkflows?: number
  /**
   * Memory budget of the live-run cache, in bytes (an estimate: encoded state,
   * plus a fixed allowance per run and per history entry); default 256 MiB.
   */
  readonly maxCachedWorkflowBytes?: number
  /** History length from which `workflowInfo().continueAsNewSuggested` is true; default 10,000. */
  readonly continueAsNewSuggestedAt?: number
  /** Workflow messages read per batch; default 64. */
  readonly maxWorkflowTaskBatch?: number
  /** Names this worker's consumers in the store; default `host-pid-random`. */
  readonly identity?: string
  /**
   * How long `shutdown()` lets the workflow tasks in progress finish (ms or a
   * duration string); past it they are interrupted, and their messages stay
   * pending for re-delivery (a step that did not commit changed nothing).
   * Running activities are cancelled at once either way. Default 10 s.
   */
  readonly shutdownGraceTime?: Duration
  /** Workflow interceptor modules and activity interceptor factories (Temporal's `WorkerInterceptors`). */
  readonly interceptors?: WorkerInterceptors
}

const WORKER_OPTIONS = [
  "connection", "taskQueue", "namespace", "workflows", "workflowsPath", "workflowBundle", "activities", "maxConcurrentActivityTaskExecutions", "maxConcurrentLocalActivityExecutions", "enableNonLocalActivities", "maxActivitiesPerSecond", "maxTaskQueueActivitiesPerSecond", "maxCachedWorkflows",
  "maxCachedWorkflowBytes", "continueAsNewSuggestedAt", "maxWorkflowTaskBatch", "identity", "shutdownGraceTime", "interceptors",
] satisfies Array<keyof WorkerOptions>
const REPLAY_OPTIONS = ["workflows", "workflowsPath", "workflowBundle", "interceptors"] satisfies Array<keyof WorkerOptions>

/**
 * What `bundleWorkflowCode` returns (Temporal's `WorkflowBundleWithSourceMap`
 * in shape). HotMesh does not bundle or sandbox workflow code: the bundle
 * names the module, which the worker imports.
 */
export interface WorkflowBundle {
  readonly code: string
  readonly sourceMap: string
  readonly workflowsPath: string
  /** `bundleWorkflowCode`'s `workflowInterceptorModules`: added to the worker's `interceptors.workflowModules`. */
  readonly workflowInterceptorModules?: ReadonlyArray<string>
}
/** Temporal's name for the bundle type. */
export type WorkflowBundleWithSourceMap = WorkflowBundle

/**
 * Temporal's `bundleWorkflowCode({ workflowsPath })`, for an unchanged
 * worker setup: resolves to a bundle that `Worker.create({ workflowBundle })`
 * accepts. Nothing is bundled (no sandbox): the worker imports `workflowsPath`.
 */
export const bundleWorkflowCode = async (options: { readonly workflowsPath: string; readonly workflowInterceptorModules?: ReadonlyArray<string> }): Promise<WorkflowBundle> => {
  checkOptions("bundleWorkflowCode(options)", options, ["workflowsPath", "workflowInterceptorModules"], {
    webpackConfigHook: "does not apply: HotMesh does not bundle workflow code",
    payloadConverterPath: "is a Temporal option HotMesh does not support yet: payloads are JSON",
    failureConverterPath: "is a Temporal option HotMesh does not support yet",
    ignoreModules: "does not apply: HotMesh does not bundle workflow code",
  })
  if (typeof options?.workflowsPath !== "string" || options.workflowsPath.length === 0) {
    throw new InvalidArgumentError({ message: "bundleWorkflowCode: workflowsPath is required" })
  }
  return {
    code: "",
    sourceMap: "",
    workflowsPath: options.workflowsPath,
    ...(options.workflowInterceptorModules === undefined ? {} : { workflowInterceptorModules: [...options.workflowInterceptorModules] }),
  }
}

/** The `workflowsPath` of `options`, from `workflowsPath` or a `workflowBundle` made by `bundleWorkflowCode`. */
const workflowsPathOf = (where: string, options: Pick<WorkerOptions, "workflowsPath" | "workflowBundle">): string | undefined => {
  const bundle = options.workflowBundle
  if (bundle === undefined) return options.workflowsPath
  if (typeof bundle !== "object" || bundle === null || typeof bundle.workflowsPath !== "string") {
    throw new InvalidArgumentError({
      message: `${where}: workflowBundle must come from HotMesh's bundleWorkflowCode({ workflowsPath }) (HotMesh does not run bundled code); or pass workflowsPath`,
    })
  }
  if (options.workflowsPath !== undefined && options.workflowsPath !== bundle.workflowsPath) {
    throw new InvalidArgumentError({ message: `${where}: workflowsPath and workflowBundle name different modules` })
  }
  return bundle.workflowsPath
}

/** The workflow interceptor factories (each module's `interceptors` export) and the activity ones. */
const loadInterceptors = async (
  where: string,
  interceptors: WorkerInterceptors | undefined,
  bundle: WorkflowBundle | undefined,
): Promise<{ readonly workflow: Array<WorkflowInterceptorsFactory>; readonly activity: Array<ActivityInterceptorsFactory> }> => {
  checkOptions(`${where}: interceptors`, interceptors, ["workflowModules", "activity"], {
    activityInbound: "is Temporal's deprecated form: pass activity: [(ctx) => ({ inbound })]",
    client: "is a Temporal option HotMesh does not support yet: give the Client its interceptors",
    nexus: "is a Temporal option HotMesh does not support yet",
  })
  const workflow: Array<WorkflowInterceptorsFactory> = []
  for (const path of [...(bundle?.workflowInterceptorModules ?? []), ...(interceptors?.workflowModules ?? [])]) {
    if (typeof path !== "string") throw new InvalidArgumentError({ message: `${where}: interceptors.workflowModules must be module paths` })
    const factory = ((await import(pathToFileURL(path).href)) as { readonly interceptors?: unknown }).interceptors
    if (typeof factory !== "function") throw new InvalidArgumentError({ message: `${where}: workflow interceptor module ${path} must export an \`interceptors\` function (WorkflowInterceptorsFactory)` })
    workflow.push(factory as WorkflowInterceptorsFactory)
  }
  const activity = [...(interceptors?.activity ?? [])]
  if (activity.some((factory) => typeof factory !== "function")) throw new InvalidArgumentError({ message: `${where}: interceptors.activity must be factories ((ctx) => ({ inbound?, outbound? }))` })
  return { workflow, activity }
}

/** Temporal's worker states. */
export type WorkerState = "INITIALIZED" | "RUNNING" | "STOPPING" | "STOPPED"

/** The functions of `workflows` and of the `workflowsPath` module; other exports (signal definitions, ...) are ignored. */
const loadWorkflows = async (where: string, options: Pick<WorkerOptions, "workflows" | "workflowsPath" | "workflowBundle">): Promise<Record<string, WorkflowFunction>> => {
  const sources: Array<Record<string, unknown>> = [{ ...(options.workflows ?? {}) }]
  const workflowsPath = workflowsPathOf(where, options)
  if (workflowsPath !== undefined) {
    sources.push((await import(pathToFileURL(workflowsPath).href)) as Record<string, unknown>)
  }
  const workflows: Record<string, WorkflowFunction> = {}
  for (const source of sources) {
    for (const [name, value] of Object.entries(source)) if (typeof value === "function") workflows[name] = value as WorkflowFunction
  }
  return workflows
}

const atLeast = (min: number) => (value: number | undefined, fallback: number, name: string): number => {
  const result = value ?? fallback
  if (!Number.isInteger(result) || result < min) {
    throw new InvalidArgumentError({ message: `${name} must be an integer ≥ ${min}; got ${value}` })
  }
  return result
}
const positive = atLeast(1)
/** A rate option: absent, or a finite number > 0. */
const rateOption = (value: number | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError({ message: `${name} must be a number > 0; got ${value}` })
  return value
}

/** A worker for one task queue. */
export class Worker {
  #state: WorkerState = "INITIALIZED"
  #fiber: Fiber.Fiber<unknown, unknown> | undefined
  #stopped: Promise<void> | undefined

  private constructor(
    readonly connection: Connection,
    readonly options: WorkerOptions,
    private readonly program: Effect.Effect<unknown, never, Store>,
    private readonly cache: RunCache<WorkflowRun>,
  ) {}

  /** Validate options, load workflows, and build a worker (not yet running). */
  static async create(options: WorkerOptions): Promise<Worker> {
    checkOptions("Worker.create(options)", options, WORKER_OPTIONS, UNSUPPORTED_WORKER)
    if (typeof options?.taskQueue !== "string" || options.taskQueue.length === 0) {
      throw new InvalidArgumentError({ message: "Worker.create: taskQueue is required" })
    }
    installDeterminism()
    const connection = options.connection ?? (await Connection.connect(options.namespace === undefined ? {} : { namespace: options.namespace }))
    checkNamespace("Worker.create", options.namespace, connection)
    const workflows = await loadWorkflows("Worker.create", options)
    const interceptors = await loadInterceptors("Worker.create", options.interceptors, options.workflowBundle)
    const activities = (options.activities ?? {}) as Activities
    const identity = options.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
    const maxConcurrent = positive(options.maxConcurrentActivityTaskExecutions, 100, "maxConcurrentActivityTaskExecutions")
    const maxConcurrentLocal = positive(options.maxConcurrentLocalActivityExecutions, 100, "maxConcurrentLocalActivityExecutions")
    if (options.enableNonLocalActivities !== undefined && typeof options.enableNonLocalActivities !== "boolean") {
      throw new InvalidArgumentError({ message: `Worker.create: enableNonLocalActivities must be a boolean; got ${JSON.stringify(options.enableNonLocalActivities)}` })
    }
    const maxPerSecond = rateOption(options.maxActivitiesPerSecond, "maxActivitiesPerSecond")
    const queueRate = rateOption(options.maxTaskQueueActivitiesPerSecond, "maxTaskQueueActivitiesPerSecond")
    const maxCachedWorkflows = atLeast(0)(options.maxCachedWorkflows, 10_000, "maxCachedWorkflows")
    const batchSize = positive(options.maxWorkflowTaskBatch, 64, "maxWorkflowTaskBatch")
    const shutdownGraceMs = toMillis(options.shutdownGraceTime ?? 10_000, "shutdownGraceTime")
    const cache = new RunCache<WorkflowRun>({
      maxEntries: maxCachedWorkflows,
      maxBytes: positive(options.maxCachedWorkflowBytes, 256 * 1024 * 1024, "maxCachedWorkflowBytes"),
    })
    const activityExecutor = makeActivityExecutor(activities, options.taskQueue, connection.namespace, connection.payloads, interceptors.activity)
    const program = Effect.gen(function* () {
      if (queueRate !== undefined) {
        const store = yield* Store
        yield* retryStoreErrors("maxTaskQueueActivitiesPerSecond", store.changeQueueLimits(options.taskQueue, { rate: queueRate }))
      }
      const alarm = yield* makeTimerAlarm
      // Steps hand the activity tasks they schedule to this worker's activity loop, and back (handoff.ts).
      const handoff = new Handoff()
      const loops = [alarm.run]
      if (Object.keys(workflows).length > 0) {
        loops.push(runWorkflowTasks({
          taskQueue: options.taskQueue,
          consumer: `${identity}/wf`,
          cache,
          executor: makeWorkflowExecutor({
            workflows,
            namespace: connection.namespace,
            ...(options.continueAsNewSuggestedAt === undefined ? {} : { continueAsNewSuggestedAt: options.continueAsNewSuggestedAt }),
            payloads: connection.payloads,
            interceptors: interceptors.workflow,
          }),
          batchSize,
          retentionMs: connection.retentionMs,
          onTimers: alarm.nudge,
          shutdownGraceMs,
          // Local activities run on this worker's activities, in its workflow steps.
          local: { executor: activityExecutor, permits: Semaphore.makeUnsafe(maxConcurrentLocal) },
          handoff,
        }))
      }
      if (Object.keys(activities).length > 0 && options.enableNonLocalActivities !== false) {
        loops.push(runActivityTasks({
          taskQueue: options.taskQueue,
          consumer: `${identity}/act`,
          executor: activityExecutor,
          maxConcurrent,
          heartbeatThrottleMs: 1000,
          ...(maxPerSecond === undefined ? {} : { maxPerSecond }),
          handoff,
        }))
      }
      return yield* Effect.all(loops, { concurrency: "unbounded", discard: true })
    }).pipe(Effect.provideService(Metrics, connection.metricsSink))
    return new Worker(connection, options, program, cache)
  }

  /**
   * Replay a recorded history (from `handle.fetchHistory()`) against the
   * current workflow code, without a store. Throws
   * `DeterminismViolationError` if the code no longer makes the recorded calls.
   */
  static async runReplayHistory(options: Pick<WorkerOptions, "workflows" | "workflowsPath" | "workflowBundle" | "interceptors">, history: WorkflowHistory): Promise<void> {
    checkOptions("Worker.runReplayHistory(options)", options, REPLAY_OPTIONS, UNSUPPORTED_WORKER)
    installDeterminism()
    const workflows = await loadWorkflows("Worker.runReplayHistory", options)
    const interceptors = await loadInterceptors("Worker.runReplayHistory", options.interceptors, options.workflowBundle)
    const fn = workflows[history.workflowType]
    if (fn === undefined) throw new UnknownWorkflowTypeError(`runReplayHistory: workflow type "${history.workflowType}" is not in the given workflows`)
    const started = history.events.find((entry) => entry.type === "WorkflowStarted")
    await replayRun(
      {
        ...initialState({ workflowId: history.workflowId, runId: history.runId, workflowType: history.workflowType, taskQueue: "replay", args: [] }, started?.at ?? 0),
      },
      fn,
      history.events,
      undefined,
      undefined,
      undefined,
      interceptors.workflow,
    )
  }

  /** Replay many histories; resolves to one result per history (Temporal's `runReplayHistories`). */
  static async runReplayHistories(
    options: Pick<WorkerOptions, "workflows" | "workflowsPath" | "workflowBundle" | "interceptors">,
    histories: Iterable<WorkflowHistory>,
  ): Promise<Array<{ readonly workflowId: string; readonly runId: string; readonly error?: Error }>> {
    const results: Array<{ readonly workflowId: string; readonly runId: string; readonly error?: Error }> = []
    for (const history of histories) {
      try {
        await Worker.runReplayHistory(options, history)
        results.push({ workflowId: history.workflowId, runId: history.runId })
      } catch (error) {
        results.push({ workflowId: history.workflowId, runId: history.runId, error: error as Error })
      }
    }
    return results
  }

  /**
   * The live-run cache's counters: entries and estimated bytes held, hits,
   * misses (each a state load, and a replay when the workflow had history)
   * and evictions since the worker was created.
   */
  getCacheStats(): RunCacheStats {
    return this.cache.stats()
  }

  /** Temporal's worker state. */
  getState(): WorkerState {
    return this.#state
  }

  /** Run until `shutdown()`; resolves once shutdown has completed. */
  run(): Promise<void> {
    if (this.#state !== "INITIALIZED") return Promise.reject(new Error(`Worker.run(): worker is ${this.#state}; create a new worker`))
    this.#state = "RUNNING"
    const fiber = this.connection.runtime.runFork(this.program)
    this.#fiber = fiber
    const stopWhenClosed = this.connection.whileRunning(() => this.shutdown())
    const measured = this.connection.addMetricsSource({ taskQueue: this.options.taskQueue, cacheStats: () => this.cache.stats() })
    const unregister = () => {
      stopWhenClosed()
      measured()
    }
    this.#stopped = this.connection.runtime.runPromise(Fiber.await(fiber)).then((exit) => {
      this.#state = "STOPPED"
      unregister()
      // Shutdown interrupts the loops; anything else ending them is a failure the caller must see.
      if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) throw Cause.squash(exit.cause)
    })
    return this.#stopped
  }

  /** Run while `until` is pending (a promise, or a function returning one), then shut down; returns its result. */
  async runUntil<T>(until: Promise<T> | (() => Promise<T>)): Promise<T> {
    const running = this.run()
    try {
      return await (typeof until === "function" ? until() : until)
    } finally {
      await this.shutdown()
      await running
    }
  }

  /**
   * Stop polling and stop the loops: a workflow batch in progress is
   * finished, within `shutdownGraceTime` (then interrupted); running activities are aborted (their `cancellationSignal`
   * fires) and their tasks released for another worker.
   */
  async shutdown(): Promise<void> {
    if (this.#fiber === undefined || this.#state === "STOPPED") {
      this.#state = "STOPPED"
      return
    }
    if (this.#state === "RUNNING") {
      this.#state = "STOPPING"
      await this.connection.runtime.runPromise(Fiber.interrupt(this.#fiber))
    }
    await this.#stopped?.catch(() => undefined)
  }
}
