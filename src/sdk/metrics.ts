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

/** A label set's child metric, looked up once (prom-client hashes labels on every call otherwise). */
const memo = <T>(make: (...labels: Array<string>) => T) => {
  const children = new Map<string, T>()
  return (...labels: Array<string>): T => {
    const key = labels.join("\u0000")
    let child = children.get(key)
    if (child === undefined) {
      child = make(...labels)
      children.set(key, child)
    }
    return child
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

  readonly #steps = new Counter({ name: "hotmesh_durable_steps_total", help: "Durable steps committed (one message read, one transition, one atomic commit).", labelNames: ["kind", "task_queue"], registers: [this.registry] })
  readonly #stepSeconds = new Histogram({ name: "hotmesh_durable_step_duration_seconds", help: "Time from reading a message to the end of its commit.", labelNames: ["kind", "task_queue"], buckets: STEP_BUCKETS, registers: [this.registry] })
  readonly #wfScheduleToStart = new Histogram({ name: "hotmesh_workflow_task_schedule_to_start_seconds", help: "Time a workflow message waited on its stream before a worker took it.", labelNames: ["task_queue"], buckets: WAIT_BUCKETS, registers: [this.registry] })
  readonly #wfExecution = new Histogram({ name: "hotmesh_workflow_task_execution_seconds", help: "Time workflow code ran in one workflow task (replay included).", labelNames: ["task_queue", "workflow_type"], buckets: STEP_BUCKETS, registers: [this.registry] })
  readonly #wfFailures = new Counter({ name: "hotmesh_workflow_task_failures_total", help: "Workflow tasks that failed (a bug, non-determinism, an unknown type) and are retried.", labelNames: ["task_queue", "workflow_type"], registers: [this.registry] })
  readonly #actScheduleToStart = new Histogram({ name: "hotmesh_activity_schedule_to_start_seconds", help: "Time from an activity attempt's scheduling to its start on a worker.", labelNames: ["task_queue", "activity_type"], buckets: WAIT_BUCKETS, registers: [this.registry] })
  readonly #actExecution = new Histogram({ name: "hotmesh_activity_execution_seconds", help: "Time an activity attempt's function ran.", labelNames: ["task_queue", "activity_type", "outcome"], buckets: WAIT_BUCKETS, registers: [this.registry] })
  readonly #actFailures = new Counter({ name: "hotmesh_activity_failures_total", help: "Activity attempts that threw.", labelNames: ["task_queue", "activity_type"], registers: [this.registry] })
  readonly #actRetries = new Counter({ name: "hotmesh_activity_retries_total", help: "Activity attempts started after a failed one (attempt > 1).", labelNames: ["task_queue", "activity_type"], registers: [this.registry] })
  readonly #timersFired = new Counter({ name: "hotmesh_timers_fired_total", help: "Durable timers fired by this process's timer loops.", registers: [this.registry] })
  readonly #timerLateness = new Histogram({ name: "hotmesh_timer_lateness_seconds", help: "How late (store clock) the earliest timer of a firing pass fired.", buckets: WAIT_BUCKETS, registers: [this.registry] })
  readonly #deadLettered = new Counter({ name: "hotmesh_dead_lettered_total", help: "Messages this process moved to the dead letters (undecodable).", labelNames: ["task_queue", "kind"], registers: [this.registry] })
  readonly #conflicts = new Counter({ name: "hotmesh_commit_conflicts_total", help: "Commits that lost an optimistic-concurrency race and were recomputed.", registers: [this.registry] })
  readonly #storeErrors = new Counter({ name: "hotmesh_store_errors_total", help: "Store operations that failed and were retried.", labelNames: ["operation"], registers: [this.registry] })
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

  readonly #stepOf = memo((kind, taskQueue) => ({ count: this.#steps.labels(kind!, taskQueue!), seconds: this.#stepSeconds.labels(kind!, taskQueue!) }))
  readonly #wfOf = memo((taskQueue, type) => ({ execution: this.#wfExecution.labels(taskQueue!, type!), failures: this.#wfFailures.labels(taskQueue!, type!) }))
  readonly #actOf = memo((taskQueue, type) => ({
    scheduleToStart: this.#actScheduleToStart.labels(taskQueue!, type!),
    retries: this.#actRetries.labels(taskQueue!, type!),
    failures: this.#actFailures.labels(taskQueue!, type!),
  }))

  constructor(namespace: string) {
    this.registry.setDefaultLabels({ namespace })
  }

  readonly step = (kind: StepKind, taskQueue: string, seconds: number): void => {
    const child = this.#stepOf(kind, taskQueue)
    child.count.inc()
    child.seconds.observe(seconds)
  }

  readonly workflowTask = (taskQueue: string, workflowType: string, scheduleToStartSeconds: number | undefined, executionSeconds: number, failed: boolean): void => {
    this.#taskQueues.add(taskQueue)
    const child = this.#wfOf(taskQueue, workflowType)
    if (scheduleToStartSeconds !== undefined) this.#wfScheduleToStart.labels(taskQueue).observe(scheduleToStartSeconds)
    child.execution.observe(executionSeconds)
    if (failed) child.failures.inc()
  }

  readonly activityStarted = (taskQueue: string, activityType: string, scheduleToStartSeconds: number | undefined, attempt: number): void => {
    this.#taskQueues.add(taskQueue)
    const child = this.#actOf(taskQueue, activityType)
    if (scheduleToStartSeconds !== undefined) child.scheduleToStart.observe(scheduleToStartSeconds)
    if (attempt > 1) child.retries.inc()
  }

  readonly activityFinished = (taskQueue: string, activityType: string, executionSeconds: number, outcome: ActivityOutcome): void => {
    this.#actExecution.labels(taskQueue, activityType, outcome).observe(executionSeconds)
    if (outcome === "failed") this.#actOf(taskQueue, activityType).failures.inc()
  }

  readonly timersFired = (count: number, latenessSeconds: number): void => {
    this.#timersFired.inc(count)
    this.#timerLateness.observe(latenessSeconds)
  }

  readonly deadLettered = (taskQueue: string, kind: "workflow" | "activity"): void => this.#deadLettered.labels(taskQueue, kind).inc()
  readonly commitConflict = (): void => this.#conflicts.inc()
  readonly storeError = (operation: string): void => this.#storeErrors.labels(operation).inc()

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
