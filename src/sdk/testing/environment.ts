/**
 * The test environments on the in-memory store
 * (Temporal's `TestWorkflowEnvironment`).
 *
 * `createTimeSkipping()` runs on a virtual clock (a `VirtualClock` provided as Effect's `Clock`).
 * While some caller awaits a workflow result (or `env.sleep`), and nothing
 * else can progress — no message is about to be processed, and the store has
 * been still for a moment if activities are running — the clock jumps to the
 * next durable timer, so `sleep("30 days")` takes microseconds.
 * Without a waiter the clock stands still, so a test can signal a workflow
 * that is sleeping without racing its timer.
 */
import { Clock, Effect, Layer, ManagedRuntime, Option, Result } from "effect"
import { CountingProbe, ProgressProbe } from "../../effects/progressProbe.ts"
import { VirtualClock } from "./internal/virtualClock.ts"
import { type Duration, toMillis } from "../../core/duration.ts"
import { decodeWorkflowMessage } from "../../core/codecs.ts"
import {
  layerMemoryWithControl,
  makeMemoryStore,
  type MemoryProgress,
  type MemoryStore,
  type MemoryStoreOptions,
  MemoryStoreControl,
} from "../../stores/memory.ts"
import { Store, type StoreShape, type TimerEntry } from "../../stores/Store.ts"
import { Client } from "../client.ts"
import { Connection, type ConnectionLogLevel, connectionLayer, type ConnectionOptions, payloadLimitsOf, retentionOf } from "../connection.ts"
import { checkOptions, UNSUPPORTED_TEST_ENVIRONMENT } from "../internal/options.ts"

/** Options of the test environments. */
export interface TestEnvironmentOptions {
  /** Options of the in-memory store (visibility timeout, delivery limit). */
  readonly store?: MemoryStoreOptions
  /** Decorate the store that workers and clients see (fault injection). */
  readonly wrapStore?: (store: MemoryStore) => StoreShape
  /** The least severe log entries printed; default `"Info"`. */
  readonly logLevel?: ConnectionLogLevel
  /** How long closed executions are kept; default `Infinity` (tests usually inspect them later). */
  readonly retention?: Duration | typeof Infinity
  /** Payload size limits, as `Connection.connect({ payloadLimits })`; default 2 MiB / 256 KiB. */
  readonly payloadLimits?: ConnectionOptions["payloadLimits"]
  /**
   * Temporal's test-server options (`executable`, `extraArgs`, ...): accepted
   * so Temporal test setups run unchanged, and unused — there is no test
   * server to configure (the store is in memory).
   */
  readonly server?: Readonly<Record<string, unknown>>
}

const ENVIRONMENT_OPTIONS = ["store", "wrapStore", "logLevel", "retention", "payloadLimits", "server"] satisfies Array<keyof TestEnvironmentOptions>
const LOCAL_ENVIRONMENT_OPTIONS = ENVIRONMENT_OPTIONS

/** Real time before a result waiter lets the clock jump to a workflow-task retry. */
const TASK_RETRY_REAL_MS = 1000

/** Real time the store must be still, with activities running, before the clock may jump. */
const ACTIVITY_GRACE_MS = 50

const realTick = () => new Promise<void>((resolve) => setTimeout(resolve, 1))

/** An isolated store (and, for time skipping, a virtual clock) for tests. */
export class TestWorkflowEnvironment {
  readonly client: Client
  #closed = false
  #sleep: { readonly target: number; readonly done: () => void } | undefined
  #loop: Promise<void> | undefined

  private constructor(
    readonly connection: Connection,
    private readonly clock: VirtualClock | undefined,
    private readonly probe: CountingProbe,
  ) {
    this.client = new Client({ connection })
    if (clock !== undefined) this.#loop = this.#skipLoop(clock)
  }

  /** Temporal's name for the connection workers use. */
  get nativeConnection(): Connection {
    return this.connection
  }

  /** The namespace of the environment's connection (Temporal's `env.namespace`). */
  get namespace(): string {
    return this.connection.namespace
  }

  /**
   * A fresh in-memory store on a virtual clock that skips ahead (see the
   * module comment). `wrapStore` decorates the store the workers and clients
   * use — e.g. a fault injector in property tests.
   */
  static async createTimeSkipping(options: TestEnvironmentOptions = {}): Promise<TestWorkflowEnvironment> {
    checkOptions("TestWorkflowEnvironment.createTimeSkipping(options)", options, ENVIRONMENT_OPTIONS, UNSUPPORTED_TEST_ENVIRONMENT)
    const clock = new VirtualClock(Date.now())
    const probe = new CountingProbe()
    const memory = Effect.runSync(makeMemoryStore(options.store))
    const store = options.wrapStore === undefined ? memory : options.wrapStore(memory)
    const runtime = ManagedRuntime.make(
      connectionLayer(
        Layer.mergeAll(Layer.succeed(Store, store), Layer.succeed(MemoryStoreControl, memory), Layer.succeed(ProgressProbe, probe), clock.layer),
        options.logLevel,
      ),
    )
    const connection = new Connection(
      runtime as ManagedRuntime.ManagedRuntime<Store, unknown>,
      `test-${Math.random().toString(36).slice(2)}`,
      retentionOf(options.retention, Infinity),
      payloadLimitsOf(options.payloadLimits),
    )
    return new TestWorkflowEnvironment(connection, clock, probe)
  }

  /** A fresh in-memory store on the real clock; `wrapStore` decorates it as for `createTimeSkipping`. */
  static async createLocal(options: TestEnvironmentOptions = {}): Promise<TestWorkflowEnvironment> {
    checkOptions("TestWorkflowEnvironment.createLocal(options)", options, LOCAL_ENVIRONMENT_OPTIONS, UNSUPPORTED_TEST_ENVIRONMENT)
    const wrap = options.wrapStore
    const stores = wrap === undefined
      ? layerMemoryWithControl(options.store)
      : Layer.unwrap(Effect.map(makeMemoryStore(options.store), (memory) =>
        Layer.mergeAll(Layer.succeed(Store, wrap(memory)), Layer.succeed(MemoryStoreControl, memory))))
    const runtime = ManagedRuntime.make(connectionLayer(stores, options.logLevel))
    const connection = new Connection(
      runtime as ManagedRuntime.ManagedRuntime<Store, unknown>,
      `test-${Math.random().toString(36).slice(2)}`,
      retentionOf(options.retention, Infinity),
      payloadLimitsOf(options.payloadLimits),
    )
    return new TestWorkflowEnvironment(connection, undefined, new CountingProbe())
  }

  /** The environment's current time (virtual when time-skipping). */
  currentTimeMs(): Promise<number> {
    return this.connection.runtime.runPromise(Clock.currentTimeMillis)
  }

  /** Let `duration` pass: virtual time jumps from timer to timer, letting each one's work finish. */
  async sleep(duration: Duration): Promise<void> {
    const ms = toMillis(duration, "env.sleep duration")
    if (this.clock === undefined) return new Promise((resolve) => setTimeout(resolve, ms))
    if (this.#sleep !== undefined) throw new Error("env.sleep: another sleep is in progress")
    const target = (await this.currentTimeMs()) + ms
    await new Promise<void>((resolve) => {
      this.#sleep = { target, done: resolve }
    })
  }

  /** One decision of the skipper: move the clock if nothing else can progress. Returns whether it moved. */
  readonly #skipOnce = (clock: VirtualClock) => Effect.gen({ self: this }, function* () {
    const control = yield* MemoryStoreControl
    const store = yield* Store
    if (!this.#quiescent(yield* control.progress)) return false
    const now = yield* Clock.currentTimeMillis
    const next = Option.getOrUndefined(yield* store.nextTimerAt)
    // Due but not fired (a worker's timer loop may sleep past it): fire it here — any process may.
    if (next !== undefined && next <= now) return (yield* store.fireDueTimers(256)) > 0
    const sleep = this.#sleep
    if (sleep !== undefined) {
      if (next !== undefined && next <= sleep.target) {
        clock.jumpTo(next)
        return true
      }
      clock.jumpTo(sleep.target)
      this.#sleep = undefined
      sleep.done()
      return true
    }
    if (this.probe.waitingForResults > 0 && next !== undefined) {
      if (this.#holdsTaskRetry(yield* control.nextTimer)) return false
      clock.jumpTo(next)
      return true
    }
    return false
  })

  /** When each pending workflow-task retry timer was first next in line (real time), by timer id. */
  readonly #taskRetriesSeen = new Map<string, number>()

  /**
   * A workflow task that failed (a bug, an unknown type, a determinism
   * violation) is retried by a timer. Jumping to it for a result waiter
   * would retry the task in a hot loop — thousands of attempts a second,
   * each logging its failure — so such a timer is reached by a result
   * waiter only after `TASK_RETRY_REAL_MS` of real time: fixed code deployed
   * meanwhile still takes over within about a second. (`env.sleep` passes
   * them like any timer: the caller asked for that time to pass.)
   */
  #holdsTaskRetry(timer: Option.Option<TimerEntry>): boolean {
    if (Option.isNone(timer)) return false
    const decoded = decodeWorkflowMessage(timer.value.message.body)
    if (Result.isFailure(decoded) || decoded.success.type !== "TimerFired" || decoded.success.timer.kind !== "taskRetry") return false
    const now = performance.now()
    const id = `${timer.value.message.key}\u0000${timer.value.id}`
    const seen = this.#taskRetriesSeen.get(id)
    if (seen === undefined) {
      if (this.#taskRetriesSeen.size > 10_000) this.#taskRetriesSeen.clear()
      this.#taskRetriesSeen.set(id, now)
      return true
    }
    if (now - seen < TASK_RETRY_REAL_MS) return true
    this.#taskRetriesSeen.delete(id)
    return false
  }

  #lastOperations = -1
  #quietSince = 0

  /**
   * Nothing can progress without time passing: no message is about to be
   * taken or being processed by a workflow worker, and — if activities are
   * running or messages wait on queues nobody is reading — the store has seen
   * no operation for a short real-time grace (running activities do not hold
   * the clock, as in Temporal's test server). A store retry waiting out its
   * backoff holds the clock.
   */
  #quiescent(progress: MemoryProgress): boolean {
    if (progress.runnable > 0 || this.probe.backingOff > 0) return false
    if (progress.running === 0 && progress.stranded === 0) return true
    const now = performance.now()
    if (progress.operations !== this.#lastOperations) {
      this.#lastOperations = progress.operations
      this.#quietSince = now
      return false
    }
    return now - this.#quietSince >= ACTIVITY_GRACE_MS
  }

  async #skipLoop(clock: VirtualClock): Promise<void> {
    const runtime = this.connection.runtime as unknown as ManagedRuntime.ManagedRuntime<Store | MemoryStoreControl, never>
    while (!this.#closed) {
      const moved = await runtime.runPromise(this.#skipOnce(clock)).catch(() => false)
      if (!moved) await realTick()
    }
  }

  /** Stop the clock and close the connection. */
  async teardown(): Promise<void> {
    this.#closed = true
    await this.#loop
    await this.connection.close()
  }
}
