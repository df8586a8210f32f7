/**
 * Prometheus metrics of one connection (`connection.metrics()`), with
 * `prom-client`: one registry per connection, fed by the interpreter's
 * `MetricsSink` events as the loops run, plus gauges read from the store
 * when scraped (stream depth and pending work per task queue, dead letters,
 * due timers) and from the workers' live-run caches.
 *
 * Labels are bounded: task queue, workflow or activity type, step kind,
 * store operation; never a workflow id.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client"
import type { ActivityOutcome, MetricsSink, StepKind } from "../effects/metrics.ts"
import type { RunCacheStats } from "../effects/runCache.ts"
import type { StreamDescription, StreamKind } from "../stores/Store.ts"

/** What a scrape reads from the store for one task queue. */
export interface TaskQueueSnapshot {
  readonly taskQueue: string
  readonly streams: ReadonlyArray<{ readonly kind: StreamKind } & StreamDescription>
}

/** A running worker, as the metrics see it. */
export interface MetricsSource {
  readonly taskQueue: string
  readonly cacheStats: () => RunCacheStats
}

/** Short steps: sub-millisecond commits to seconds-long outages. */
const STEP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Waits: milliseconds to minutes. */
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300]

/**
 * The hot-path metrics: a counter or histogram per label set, updated with a
 * few arithmetic operations (prom-client's own `inc`/`observe` hash the
 * labels and cost 0.2–0.5 µs a call, several times per durable step),
 * registered in the prom-client registry as a metric of its protocol
 * (`get()` returns the values, as its own metrics do) so the registry
 * formats them with the rest.
 */
abstract class Cells<C> {
  readonly aggregator = "sum"
  readonly #cells = new Map<string, { readonly labels: Record<string, string>; readonly cell: C }>()
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "histogram", private readonly labelNames: ReadonlyArray<string>, registry: Registry) {
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0])
  }
  protected abstract make(): C
  /** The cell of one label set (label values in `labelNames` order), made once. */
  cell(...values: Array<string>): C {
    const key = values.join("\u0000")
    let entry = this.#cells.get(key)
    if (entry === undefined) {
      entry = { labels: Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] ?? ""])), cell: this.make() }
      this.#cells.set(key, entry)
    }
    return entry.cell
  }
  protected abstract values(labels: Record<string, string>, cell: C): Array<{ readonly value: number; readonly labels: Record<string, string | number>; readonly metricName?: string }>
  get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.#cells.values()].flatMap(({ labels, cell }) => this.values(labels, cell)) }
  }
}

/** A counter per label set. */
class CounterCells extends Cells<{ value: number }> {
  constructor(name: string, help: string, labelNames: ReadonlyArray<string>, registry: Registry) {
    super(name, help, "counter", labelNames, registry)
  }
  protected make() {
    return { value: 0 }
  }
  protected values(labels: Record<string, string>, cell: { value: number }) {
    return [{ value: cell.value, labels }]
  }
}

/** A histogram cell: per-bucket (not yet cumulative) counts, sum and count. */
interface HistogramCell {
  readonly counts: Float64Array
  sum: number
  count: number
}

/** A histogram per label set. */
class HistogramCells extends Cells<HistogramCell> {
  constructor(name: string, help: string, labelNames: ReadonlyArray<string>, private readonly buckets: ReadonlyArray<number>, registry: Registry) {
    super(name, help, "histogram", labelNames, registry)
  }
  protected make(): HistogramCell {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }
  }
  /** Count `value` in `cell` (a value equal to a bound is in that bound's bucket, as Prometheus' `le` says). */
  observe(cell: HistogramCell, value: number): void {
    const buckets = this.buckets
    let i = 0
    while (i < buckets.length && value > buckets[i]!) i++
    cell.counts[i]! += 1
    cell.sum += value
    cell.count += 1
  }
  protected values(labels: Record<string, string>, cell: HistogramCell) {
    let cumulative = 0
    const out: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> = this.buckets.map((le, i) => {
      cumulative += cell.counts[i]!
      return { value: cumulative, labels: { le, ...labels }, metricName: `${this.name}_bucket` }
    })
    out.push({ value: cell.count, labels: { le: "+Inf", ...labels }, metricName: `${this.name}_bucket` })
    out.push({ value: cell.sum, labels, metricName: `${this.name}_sum` })
    out.push({ value: cell.count, labels, metricName: `${this.name}_count` })
    return out
  }
}

/** The connection's Prometheus registry and the sink that feeds it. */
export class ConnectionMetrics implements MetricsSink {
  readonly enabled = true
  readonly registry = new Registry()
  readonly #sources = new Set<MetricsSource>()
  /** Task queues seen in events, scraped along with the running workers'. */
  readonly #taskQueues = new Set<string>()
  /** Cache counters already reported, per source (prom-client counters only go up). */
  readonly #reported = new WeakMap<MetricsSource, { hits: number; misses: number; evictions: number }>()

  readonly #steps = new CounterCells("hotmesh_durable_steps_total", "Durable steps committed (one message read, one transition, one atomic commit).", ["kind", "task_queue"], this.registry)
  readonly #stepSeconds = new HistogramCells("hotmesh_durable_step_duration_seconds", "Time from reading a message to the end of its commit.", ["kind", "task_queue"], STEP_BUCKETS, this.registry)
  readonly #wfScheduleToStart = new HistogramCells("hotmesh_workflow_task_schedule_to_start_seconds", "Time a workflow message waited on its stream before a worker took it.", ["task_queue"], WAIT_BUCKETS, this.registry)
  readonly #wfExecution = new HistogramCells("hotmesh_workflow_task_execution_seconds", "Time workflow code ran in one workflow task (replay included).", ["task_queue", "workflow_type"], STEP_BUCKETS, this.registry)
  readonly #wfFailures = new CounterCells("hotmesh_workflow_task_failures_total", "Workflow tasks that failed (a bug, non-determinism, an unknown type) and are retried.", ["task_queue", "workflow_type"], this.registry)
  readonly #actScheduleToStart = new HistogramCells("hotmesh_activity_schedule_to_start_seconds", "Time from an activity attempt's scheduling to its start on a worker.", ["task_queue", "activity_type"], WAIT_BUCKETS, this.registry)
  readonly #actExecution = new HistogramCells("hotmesh_activity_execution_seconds", "Time an activity attempt's function ran.", ["task_queue", "activity_type", "outcome"], WAIT_BUCKETS, this.registry)
  readonly #actFailures = new CounterCells("hotmesh_activity_failures_total", "Activity attempts that threw.", ["task_queue", "activity_type"], this.registry)
  readonly #actRetries = new CounterCells("hotmesh_activity_retries_total", "Activity attempts started after a failed one (attempt > 1).", ["task_queue", "activity_type"], this.registry)
  readonly #timersFired = new CounterCells("hotmesh_timers_fired_total", "Durable timers fired by this process's timer loops.", [], this.registry)
  readonly #timerLateness = new HistogramCells("hotmesh_timer_lateness_seconds", "How late (store clock) the earliest timer of a firing pass fired.", [], WAIT_BUCKETS, this.registry)
  readonly #deadLettered = new CounterCells("hotmesh_dead_lettered_total", "Messages this process moved to the dead letters (undecodable).", ["task_queue", "kind"], this.registry)
  readonly #conflicts = new CounterCells("hotmesh_commit_conflicts_total", "Commits that lost an optimistic-concurrency race and were recomputed.", [], this.registry)
  readonly #storeErrors = new CounterCells("hotmesh_store_errors_total", "Store operations that failed and were retried.", ["operation"], this.registry)
  readonly #streamLength = new Gauge({ name: "hotmesh_stream_messages", help: "Messages on a task queue's stream not yet acknowledged (waiting or delivered).", labelNames: ["task_queue", "kind"], registers: [this.registry] })
  readonly #streamPending = new Gauge({ name: "hotmesh_stream_pending_messages", help: "Messages delivered to a consumer and not yet acknowledged.", labelNames: ["task_queue", "kind"], registers: [this.registry] })
  readonly #oldestPending = new Gauge({ name: "hotmesh_stream_oldest_pending_seconds", help: "Age of the oldest pending message (0 when none).", labelNames: ["task_queue", "kind"], registers: [this.registry] })
  readonly #deadLetters = new Gauge({ name: "hotmesh_dead_letters", help: "Dead letters a task queue's stream holds.", labelNames: ["task_queue", "kind"], registers: [this.registry] })
  readonly #timersDue = new Gauge({ name: "hotmesh_timers_due", help: "Durable timers past their time and not yet fired (namespace-wide).", registers: [this.registry] })
  readonly #cacheEntries = new Gauge({ name: "hotmesh_workflow_cache_entries", help: "Live workflow runs cached by this process's workers.", labelNames: ["task_queue"], registers: [this.registry] })
  readonly #cacheBytes = new Gauge({ name: "hotmesh_workflow_cache_bytes", help: "Estimated bytes the live-run caches hold.", labelNames: ["task_queue"], registers: [this.registry] })
  readonly #cacheHits = new Counter({ name: "hotmesh_workflow_cache_hits_total", help: "Workflow steps that found their live run cached.", labelNames: ["task_queue"], registers: [this.registry] })
  readonly #cacheMisses = new Counter({ name: "hotmesh_workflow_cache_misses_total", help: "Workflow steps that loaded their state (and replayed, given history).", labelNames: ["task_queue"], registers: [this.registry] })
  readonly #cacheEvictions = new Counter({ name: "hotmesh_workflow_cache_evictions_total", help: "Live runs evicted from the caches.", labelNames: ["task_queue"], registers: [this.registry] })

  /** Cells looked up per label set once, then cached here by key. */
  readonly #stepCells = new Map<string, { readonly count: { value: number }; readonly seconds: HistogramCell }>()
  readonly #wfCells = new Map<string, { readonly scheduleToStart: HistogramCell; readonly execution: HistogramCell; readonly failures: { value: number } }>()
  readonly #actCells = new Map<string, { readonly scheduleToStart: HistogramCell; readonly retries: { value: number }; readonly failures: { value: number } }>()
  readonly #conflictCell = this.#conflicts.cell()
  readonly #firedCell = this.#timersFired.cell()
  readonly #latenessCell = this.#timerLateness.cell()

  constructor(namespace: string) {
    this.registry.setDefaultLabels({ namespace })
  }

  readonly step = (kind: StepKind, taskQueue: string, seconds: number): void => {
    const key = kind + "\u0000" + taskQueue
    let cells = this.#stepCells.get(key)
    if (cells === undefined) {
      cells = { count: this.#steps.cell(kind, taskQueue), seconds: this.#stepSeconds.cell(kind, taskQueue) }
      this.#stepCells.set(key, cells)
    }
    cells.count.value++
    this.#stepSeconds.observe(cells.seconds, seconds)
  }

  readonly workflowTask = (taskQueue: string, workflowType: string, scheduleToStartSeconds: number | undefined, executionSeconds: number, failed: boolean): void => {
    const key = taskQueue + "\u0000" + workflowType
    let cells = this.#wfCells.get(key)
    if (cells === undefined) {
      this.#taskQueues.add(taskQueue)
      cells = {
        scheduleToStart: this.#wfScheduleToStart.cell(taskQueue),
        execution: this.#wfExecution.cell(taskQueue, workflowType),
        failures: this.#wfFailures.cell(taskQueue, workflowType),
      }
      this.#wfCells.set(key, cells)
    }
    if (scheduleToStartSeconds !== undefined) this.#wfScheduleToStart.observe(cells.scheduleToStart, scheduleToStartSeconds)
    this.#wfExecution.observe(cells.execution, executionSeconds)
    if (failed) cells.failures.value++
  }

  #actCellsOf(taskQueue: string, activityType: string) {
    const key = taskQueue + "\u0000" + activityType
    let cells = this.#actCells.get(key)
    if (cells === undefined) {
      this.#taskQueues.add(taskQueue)
      cells = {
        scheduleToStart: this.#actScheduleToStart.cell(taskQueue, activityType),
        retries: this.#actRetries.cell(taskQueue, activityType),
        failures: this.#actFailures.cell(taskQueue, activityType),
      }
      this.#actCells.set(key, cells)
    }
    return cells
  }

  readonly activityStarted = (taskQueue: string, activityType: string, scheduleToStartSeconds: number | undefined, attempt: number): void => {
    const cells = this.#actCellsOf(taskQueue, activityType)
    if (scheduleToStartSeconds !== undefined) this.#actScheduleToStart.observe(cells.scheduleToStart, scheduleToStartSeconds)
    if (attempt > 1) cells.retries.value++
  }

  readonly activityFinished = (taskQueue: string, activityType: string, executionSeconds: number, outcome: ActivityOutcome): void => {
    this.#actExecution.observe(this.#actExecution.cell(taskQueue, activityType, outcome), executionSeconds)
    if (outcome === "failed") this.#actCellsOf(taskQueue, activityType).failures.value++
  }

  readonly timersFired = (count: number, latenessSeconds: number): void => {
    this.#firedCell.value += count
    this.#timerLateness.observe(this.#latenessCell, latenessSeconds)
  }

  readonly deadLettered = (taskQueue: string, kind: "workflow" | "activity"): void => void this.#deadLettered.cell(taskQueue, kind).value++
  readonly commitConflict = (): void => void this.#conflictCell.value++
  readonly storeError = (operation: string): void => void this.#storeErrors.cell(operation).value++

  /** A running worker: its task queue is scraped, its cache reported. Returns its removal. */
  addSource(source: MetricsSource): () => void {
    this.#sources.add(source)
    this.#taskQueues.add(source.taskQueue)
    return () => {
      this.#reportCache(source)
      this.#sources.delete(source)
    }
  }

  /** The task queues a scrape reads from the store. */
  get taskQueues(): ReadonlyArray<string> {
    return [...this.#taskQueues]
  }

  /** The Prometheus text, after setting the scrape-time gauges from `snapshot`. */
  async text(snapshot: { readonly taskQueues: ReadonlyArray<TaskQueueSnapshot>; readonly timersDue: number }): Promise<string> {
    for (const { taskQueue, streams } of snapshot.taskQueues) {
      for (const stream of streams) {
        this.#streamLength.labels(taskQueue, stream.kind).set(stream.length)
        this.#streamPending.labels(taskQueue, stream.kind).set(stream.pending)
        this.#oldestPending.labels(taskQueue, stream.kind).set((stream.oldestPendingMs ?? 0) / 1000)
        this.#deadLetters.labels(taskQueue, stream.kind).set(stream.deadLetters)
      }
    }
    this.#timersDue.set(snapshot.timersDue)
    const byQueue = new Map<string, { entries: number; bytes: number }>()
    for (const source of this.#sources) {
      const stats = this.#reportCache(source)
      const sum = byQueue.get(source.taskQueue) ?? { entries: 0, bytes: 0 }
      sum.entries += stats.entries
      sum.bytes += stats.bytes
      byQueue.set(source.taskQueue, sum)
    }
    for (const [taskQueue, { entries, bytes }] of byQueue) {
      this.#cacheEntries.labels(taskQueue).set(entries)
      this.#cacheBytes.labels(taskQueue).set(bytes)
    }
    return this.registry.metrics()
  }

  /** Add what `source`'s cache counted since the last report. */
  #reportCache(source: MetricsSource): RunCacheStats {
    const stats = source.cacheStats()
    const last = this.#reported.get(source) ?? { hits: 0, misses: 0, evictions: 0 }
    this.#cacheHits.labels(source.taskQueue).inc(stats.hits - last.hits)
    this.#cacheMisses.labels(source.taskQueue).inc(stats.misses - last.misses)
    this.#cacheEvictions.labels(source.taskQueue).inc(stats.evictions - last.evictions)
    this.#reported.set(source, { hits: stats.hits, misses: stats.misses, evictions: stats.evictions })
    return stats
  }
}
