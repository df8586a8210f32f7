/**
 * The task-queue samples behind the dashboard's sparklines. The store keeps
 * no history of a queue's throughput or latency, so the dashboard process
 * samples each task queue it has been asked about, every `intervalMs`:
 * stream depth and pending (`client.taskQueue(name).describe()`), the oldest
 * pending message's age, and — from the visibility index — how many of the
 * queue's executions closed since the previous sample (throughput) and
 * their mean duration (latency). The last `keep` samples are kept in memory;
 * they start when the dashboard first sees the queue.
 */
import type { Client } from "../sdk/client.ts"

/** One sample of one task queue. */
export interface TaskQueueSample {
  /** When it was taken (epoch ms, this process's clock). */
  readonly at: number
  /** Messages on both streams not yet acknowledged. */
  readonly depth: number
  /** Of those, delivered and not acknowledged. */
  readonly pending: number
  /** Age of the oldest pending message (ms), 0 when none is pending. */
  readonly oldestPendingMs: number
  /** Executions of the queue closed since the previous sample, per second (undefined on the first sample). */
  readonly closedPerSecond?: number
  /** Their mean duration, start to close (ms); undefined when none closed. */
  readonly meanDurationMs?: number
}

/** How many executions closed in one interval are read to average their duration. */
const DURATION_SAMPLE = 100

/** Samples task queues on a timer; `close()` stops it. */
export class TaskQueueSampler {
  readonly #samples = new Map<string, Array<TaskQueueSample>>()
  readonly #timer: NodeJS.Timeout
  #sampling: Promise<void> = Promise.resolve()

  constructor(private readonly client: Client, intervalMs: number, private readonly keep = 60) {
    this.#timer = setInterval(() => void this.#sampleAll(), intervalMs)
    this.#timer.unref()
  }

  /** The samples of `taskQueue`, oldest first; the first call starts sampling it (and takes a sample). */
  async samplesOf(taskQueue: string): Promise<ReadonlyArray<TaskQueueSample>> {
    if (!this.#samples.has(taskQueue)) {
      this.#samples.set(taskQueue, [])
      // After any sample under way: samples of one queue never overlap (each counts the closes since the one before).
      this.#sampling = this.#sampling.then(() => this.#sample(taskQueue)).then(() => {}, () => {})
      await this.#sampling
    }
    return this.#samples.get(taskQueue) ?? []
  }

  /** The task queues sampled so far (those the dashboard has shown). */
  get taskQueues(): ReadonlyArray<string> {
    return [...this.#samples.keys()]
  }

  /** Stop sampling; resolves once a sample under way has finished. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.#sampling
  }

  #sampleAll(): Promise<void> {
    this.#sampling = this.#sampling.then(() => Promise.all([...this.#samples.keys()].map((queue) => this.#sample(queue)))).then(() => {}, () => {})
    return this.#sampling
  }

  async #sample(taskQueue: string): Promise<void> {
    const samples = this.#samples.get(taskQueue)
    if (samples === undefined) return
    const at = Date.now()
    const previous = samples.at(-1)
    const description = await this.client.taskQueue(taskQueue).describe().catch(() => undefined)
    if (description === undefined) return
    const streams = description.streams
    const sample: { -readonly [K in keyof TaskQueueSample]: TaskQueueSample[K] } = {
      at,
      depth: streams.reduce((n, s) => n + s.length, 0),
      pending: streams.reduce((n, s) => n + s.pending, 0),
      oldestPendingMs: Math.max(0, ...streams.map((s) => s.oldestPendingMs ?? 0)),
    }
    if (previous !== undefined) {
      const since = `TaskQueue = ${quote(taskQueue)} AND CloseTime > ${quote(new Date(previous.at).toISOString())} AND CloseTime <= ${quote(new Date(at).toISOString())}`
      const closed = await this.client.workflow.count(since).catch(() => undefined)
      if (closed !== undefined) sample.closedPerSecond = closed.count / Math.max(0.001, (at - previous.at) / 1000)
      if (closed !== undefined && closed.count > 0) {
        let total = 0
        let n = 0
        for await (const info of this.client.workflow.list({ query: since, pageSize: DURATION_SAMPLE })) {
          if (info.closeTime !== undefined) {
            total += info.closeTime.getTime() - info.startTime.getTime()
            n++
          }
          if (n >= DURATION_SAMPLE) break
        }
        if (n > 0) sample.meanDurationMs = total / n
      }
    }
    samples.push(sample)
    if (samples.length > this.keep) samples.splice(0, samples.length - this.keep)
  }
}

/** A list-filter string literal. */
export const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`
