/**
 * `npm run bench:limits`: how closely a task queue's limits hold — the
 * observed start rate against the rate limit, the most activities in flight
 * against the concurrency limit — across three workers: in one process on
 * the embedded store, and (with `--redis URL`) in three worker processes on
 * Redis (test/redis/fixtures/limits-worker.ts).
 *
 *   npm run bench:limits -- [--redis redis://127.0.0.1:6379] [--seconds N] [--lanes L]
 *
 * `--lanes` (default 8) is the connections' `lanes` (fair sharing between
 * workflow types); `--lanes 1` is one FIFO per queue, as before lanes.
 *
 * Each rate runs `rate x seconds` one-activity workflows whose tasks wait on
 * the paused queue first (so the limit paces them, not the dispatch); the
 * observed rate is (tasks - burst) / (last start - first start): the first
 * `burst` start at once from the full bucket, the rest one token apart.
 * Use a Redis nothing else writes to (the bench uses its own namespace).
 * A rate above what the machine can run shows the machine's throughput, not
 * the limiter's accuracy (on a shared 2-core machine, about 150 one-activity
 * workflows/s on Redis with the workflow worker in one process).
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import * as workflows from "../test/fixtures/limitsWorkflows.ts"
import type { LimitsActivities } from "../test/fixtures/limitsWorkflows.ts"
import { flag, num } from "./args.ts"

const seconds = num("--seconds", 3)
const lanes = num("--lanes", 8)
const redisUrl = flag("--redis")
const RATES = [20, 100, 200]
const CONCURRENCY = 8
const HOLD_MS = 50
const burstOf = (rate: number) => Math.max(1, Math.ceil(rate / 10))
let counter = 0
const id = (prefix: string) => `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`

interface Backend {
  readonly name: string
  readonly client: Client
  readonly taskQueue: string
  /** Start times (epoch ms) of the tasks `from..to-1`, and the most in flight so far. */
  readonly starts: (from: number, to: number) => Promise<Array<number>>
  readonly maxInFlight: () => Promise<number>
  readonly resetMaxInFlight: () => Promise<void>
  readonly close: () => Promise<void>
}

const runAll = async (b: Backend, from: number, count: number) => {
  const handles = await Promise.all(Array.from({ length: count }, (_, k) =>
    b.client.workflow.start(workflows.limited, { taskQueue: b.taskQueue, workflowId: id(`b${from + k}`), args: [from + k, 0] })))
  await Promise.all(handles.map((h) => h.result()))
}

/**
 * `count` tasks put on the paused queue first, then released: what paces
 * them is the limit (or the workers), not how fast workflows dispatch them.
 */
const runPreloaded = async (b: Backend, from: number, count: number) => {
  const queue = b.client.taskQueue(b.taskQueue)
  await queue.pause()
  const handles = await Promise.all(Array.from({ length: count }, (_, k) =>
    b.client.workflow.start(workflows.limited, { taskQueue: b.taskQueue, workflowId: id(`b${from + k}`), args: [from + k, 0] })))
  for (;;) {
    const activity = (await queue.describe()).streams.find((s) => s.kind === "activity")!
    if (activity.length === count) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await queue.resume()
  await Promise.all(handles.map((h) => h.result()))
}

const measure = async (b: Backend) => {
  const queue = b.client.taskQueue(b.taskQueue)
  let from = 0
  for (const rate of RATES) {
    await queue.setLimits({ rate, concurrency: null })
    const count = rate * seconds
    await runPreloaded(b, from, count)
    const at = (await b.starts(from, from + count)).sort((x, y) => x - y)
    const observed = ((at.length - burstOf(rate)) * 1000) / (at.at(-1)! - at[0]!)
    console.log(`${b.name.padEnd(22)} rate limit ${String(rate).padStart(4)}/s: observed ${observed.toFixed(1).padStart(6)}/s over ${count} tasks (${((observed / rate - 1) * 100).toFixed(1)}%)`)
    from += count
  }
  {
    // What the workers do with no rate limit (the concurrency limit is high): the ceiling of any rate.
    await queue.setLimits({ rate: null, concurrency: 1000 })
    const count = 600
    await runPreloaded(b, from, count)
    const at = (await b.starts(from, from + count)).sort((x, y) => x - y)
    console.log(`${b.name.padEnd(22)} no rate limit:        ${((count * 1000) / (at.at(-1)! - at[0]!)).toFixed(1).padStart(6)}/s over ${count} tasks (the workers' ceiling)`)
    from += count
  }
  await queue.setLimits({ rate: null, concurrency: CONCURRENCY })
  await b.resetMaxInFlight()
  await runAll(b, from, 200)
  console.log(`${b.name.padEnd(22)} concurrency limit ${CONCURRENCY}: max in flight ${await b.maxInFlight()} over 200 tasks of ${HOLD_MS} ms`)
  from += 200
  await sharing(b, from)
  await queue.clearLimits()
}

/**
 * Two producers on one rate-limited queue, of two workflow types: one
 * floods it (400 `limited` tasks at once), one trickles (a `trickled` task
 * every 100 ms). How long the trickler's tasks
 * wait to start: with one lane the queue is FIFO, so they wait behind the
 * flood; with lanes, the two types' tasks are read in turn.
 */
const sharing = async (b: Backend, from: number) => {
  const rate = 100
  await b.client.taskQueue(b.taskQueue).setLimits({ rate, concurrency: null })
  const flood = runAll(b, from, 4 * rate)
  const trickle: Array<{ readonly i: number; readonly startedAt: number }> = []
  for (let k = 0; k < 20; k++) {
    const i = from + 10_000 + k
    trickle.push({ i, startedAt: Date.now() })
    void b.client.workflow.start(workflows.trickled, { taskQueue: b.taskQueue, workflowId: id(`t${i}`), args: [i, 0] })
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await flood
  const waits: Array<number> = []
  for (;;) {
    const started = await b.starts(from + 10_000, from + 10_020)
    if (started.length === 20) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const startedAt = new Map((await Promise.all(trickle.map(async (t) => [t.i, (await b.starts(t.i, t.i + 1))[0]!] as const))))
  for (const t of trickle) waits.push(startedAt.get(t.i)! - t.startedAt)
  waits.sort((x, y) => x - y)
  console.log(`${b.name.padEnd(22)} fair sharing at ${rate}/s, a 400-task flood and a 10/s trickle: the trickle waits p50 ${waits[10]} ms, max ${waits.at(-1)} ms (${lanes} lane${lanes === 1 ? ": FIFO" : "s"})`)
}

/** Three activity workers and a workflow worker in this process, on the embedded store. */
const memoryBackend = async (): Promise<Backend> => {
  const connection = await Connection.connect({ namespace: id("bench-limits"), lanes })
  const taskQueue = id("limits")
  // Limited before the workers start: a worker that found the queue unlimited asks again only after a second.
  await new Client({ connection }).taskQueue(taskQueue).setLimits({ concurrency: 1000 })
  const starts = new Map<number, number>()
  let inFlight = 0
  let max = 0
  const activities: LimitsActivities = {
    async work(i) {
      starts.set(i, Date.now())
      max = Math.max(max, ++inFlight)
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS))
      inFlight--
      return i
    },
  }
  const workers = await Promise.all([
    Worker.create({ connection, taskQueue, workflows, maxWorkflowTaskBatch: 256 }),
    ...[0, 1, 2].map(() => Worker.create({ connection, taskQueue, activities, maxConcurrentActivityTaskExecutions: 100 })),
  ])
  const running = Promise.all(workers.map((w) => w.run()))
  return {
    name: "memory, 3 workers",
    client: new Client({ connection }),
    taskQueue,
    starts: async (from, to) => [...starts].filter(([i]) => i >= from && i < to).map(([, at]) => at),
    maxInFlight: async () => max,
    resetMaxInFlight: async () => void (max = 0),
    close: async () => {
      await Promise.all(workers.map((w) => w.shutdown()))
      await running
      await connection.close()
    },
  }
}

/** Three activity-worker processes and a workflow worker in this process, on Redis. */
const redisBackend = async (url: string): Promise<Backend> => {
  const namespace = id("bench-limits")
  const taskQueue = id("limits")
  const markerKey = id("bench-limits-markers")
  const admin = new Redis(url)
  // The worker processes open the namespace without `lanes`: they take the count it records.
  const connection = await Connection.connect({ redis: url, namespace, lanes })
  const client = new Client({ connection })
  await client.taskQueue(taskQueue).setLimits({ concurrency: 1000 })
  const worker = await Worker.create({ connection, taskQueue, workflows, maxWorkflowTaskBatch: 256 })
  const running = worker.run()
  const fixture = fileURLToPath(new URL("../test/redis/fixtures/limits-worker.ts", import.meta.url))
  const children = [0, 1, 2].map(() =>
    spawn(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", fixture], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...process.env, HOTMESH_REDIS_URL: url, HOTMESH_NAMESPACE: namespace, HOTMESH_TASK_QUEUE: taskQueue, HOTMESH_VISIBILITY_MS: "30000", HOTMESH_MARKER_KEY: markerKey, HOTMESH_HOLD_MS: String(HOLD_MS) },
      stdio: ["ignore", "pipe", "inherit"],
    }))
  await Promise.all(children.map((child) => new Promise<void>((resolve) => child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve()))))
  return {
    name: "redis, 3 processes",
    client,
    taskQueue,
    starts: async (from, to) =>
      (await admin.lrange(markerKey, 0, -1)).map((line) => JSON.parse(line) as { i: number; at: number }).filter((s) => s.i >= from && s.i < to).map((s) => s.at),
    maxInFlight: async () => Number(await admin.get(`${markerKey}:max`)),
    resetMaxInFlight: async () => void (await admin.set(`${markerKey}:max`, 0)),
    close: async () => {
      await Promise.all(children.map((child) => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGTERM")))))
      await worker.shutdown()
      await running
      await connection.close()
      admin.disconnect()
    },
  }
}

for (const make of [memoryBackend, ...(redisUrl === undefined ? [] : [() => redisBackend(redisUrl)])]) {
  const backend = await make()
  try {
    await measure(backend)
  } finally {
    await backend.close()
  }
}
