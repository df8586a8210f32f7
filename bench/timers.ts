/**
 * Timer lateness: how late workflow code resumes after `sleep(d)`.
 *
 *   npx tsx --conditions=hotmesh-source bench/timers.ts [--redis URL | --redis-server] \
 *     [--timers N] [--min-s A --max-s B] [--partitions N] [--start-batch N] [--await-results]
 *
 * Without `--redis` it runs on the embedded in-memory store; `--redis-server`
 * starts a private `redis-server` (from the PATH, or `REDIS_SERVER`) on a free
 * loopback port and stops it at the end.
 *
 * N workflows each sleep a random duration in [A, B] seconds (default 5,000
 * timers, 15–25 s), then call an activity that records the real `Date.now()`.
 * Lateness = that time − (the sleep's start + d), where the sleep's start is
 * the workflow's `Date.now()` when it called `sleep` (the activation's time,
 * by the store's clock: the timer's `fireAt` is exactly start + d). So it
 * counts everything between "the timer is due" and "the code after the sleep
 * runs": the timer loop noticing, the fire, the workflow step that resumes
 * the code, and the activity dispatch. A timer must never fire early: the
 * minimum must not be negative (the bench exits with status 1 if it is).
 *
 * `--await-results`: the client also awaits every result, as `execute` would
 * (10,000 result waiters in the process while the timers are pending).
 *
 * One worker (workflows and activities) and one client run in this process;
 * on Redis they use two connections, so everything goes through Redis.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import { Client, Connection, Worker } from "hotmesh"
import { proxyActivities, sleep } from "hotmesh/workflow"
import { startRedis } from "../test/support/redisServer.ts"
import { flag, has, num as number } from "./args.ts"
import { percentile } from "./support.ts"

const timers = number("--timers", 5000)
const minMs = number("--min-s", 15) * 1000
const maxMs = number("--max-s", 25) * 1000
const partitions = number("--partitions", 8)
const startBatch = number("--start-batch", 500)
/** `--await-results`: the client also awaits every workflow's result (`handle.result()`), as `execute` does. */
const awaitResults = has("--await-results")
const TASK_QUEUE = "timers"

// ---------------------------------------------------------------------------
// The workflow and its activity.

/** Lateness of every resumed sleep, in ms, recorded by the activity (same process). */
const lateness: Array<number> = []
/** When each lateness was recorded (performance.now()), to see how it evolves over the run. */
const recordedAt: Array<number> = []

const activities = {
  /** Called right after the sleep: `dueAt` is the sleep's start + its duration (store clock, epoch ms). */
  async resumed(dueAt: number): Promise<void> {
    lateness.push(Date.now() - dueAt)
    recordedAt.push(performance.now())
  },
}

const { resumed } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

export async function sleeper(ms: number): Promise<void> {
  const start = Date.now() // the activation's time: the timer's fireAt is start + ms
  await sleep(ms)
  await resumed(start + ms)
}

// ---------------------------------------------------------------------------

const server = has("--redis-server") ? await startRedis() : undefined
const url = server?.url ?? flag("--redis")
const namespace = `timers-${Date.now().toString(36)}`
const connect = () => Connection.connect(url === undefined ? { namespace } : { redis: url, namespace, partitions })
const workerConnection = await connect()
const clientConnection = url === undefined ? workerConnection : await connect()
const worker = await Worker.create({
  connection: workerConnection,
  taskQueue: TASK_QUEUE,
  workflows: { sleeper },
  activities,
  maxConcurrentActivityTaskExecutions: 500,
})
const client = new Client({ connection: clientConnection })

const ms = (value: number) => `${Math.round(value).toLocaleString("en-US")} ms`
const store = url === undefined ? "embedded store" : `Redis ${url.replace(/\/\/[^@/]*@/, "//***@")} (${partitions} partitions)`

console.log(`timer lateness: ${store}, ${timers.toLocaleString("en-US")} sleeps of ${minMs / 1000}–${maxMs / 1000} s, one worker + one client`)
const running = worker.run()
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
const t0 = performance.now()
const cpu0 = process.cpuUsage()
const results: Array<Promise<unknown>> = []
for (let i = 0; i < timers; i += startBatch) {
  const handles = await Promise.all(
    Array.from({ length: Math.min(startBatch, timers - i) }, (_, j) =>
      client.workflow.start(sleeper, {
        taskQueue: TASK_QUEUE,
        workflowId: `sleeper-${i + j}`,
        args: [Math.round(minMs + Math.random() * (maxMs - minMs))],
      })),
  )
  if (awaitResults) for (const handle of handles) results.push(handle.result())
}
const started = performance.now()
console.log(`started ${timers.toLocaleString("en-US")} workflows in ${ms(started - t0)}`)
if (started - t0 > minMs) console.log(`warning: starting took longer than the shortest sleep; early fires overlap the start phase`)

// Wait until every sleep has resumed (the activity runs in this process).
let reported = 0
while (lateness.length < timers) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  if (performance.now() - t0 > maxMs + 120_000) {
    console.log(`gave up: only ${lateness.length} of ${timers} sleeps resumed within ${ms(maxMs + 120_000)}`)
    break
  }
  if (lateness.length - reported >= timers / 10) {
    reported = lateness.length
    const recent = lateness.slice(-Math.ceil(timers / 10)).sort((a, b) => a - b)
    console.log(`  ${String(lateness.length).padStart(6)} resumed, last ${recent.length}: p50 ${ms(percentile(recent, 0.5))}, p99 ${ms(percentile(recent, 0.99))}`)
  }
}
await Promise.all(results)
const seconds = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
await worker.shutdown()
await running

const sorted = lateness.slice().sort((a, b) => a - b)
const firstAt = Math.min(...recordedAt)
const lastAt = Math.max(...recordedAt)
console.log(`\nlateness of ${sorted.length.toLocaleString("en-US")} sleeps (resumed over ${((lastAt - firstAt) / 1000).toFixed(1)} s, ~${Math.round(sorted.length / ((lastAt - firstAt) / 1000))} per second):`)
console.log(`  p50 ${ms(percentile(sorted, 0.5))}, p95 ${ms(percentile(sorted, 0.95))}, p99 ${ms(percentile(sorted, 0.99))}, max ${ms(sorted.at(-1)!)}, min ${ms(sorted[0]!)}`)
console.log(`  over 20 ms: ${sorted.filter((x) => x > 20).length}, early (negative): ${sorted.filter((x) => x < 0).length}`)
loopDelay.disable()
console.log(`  event-loop delay (the process could not run anything): p50 ${ms(loopDelay.percentile(50) / 1e6)}, p99 ${ms(loopDelay.percentile(99) / 1e6)}, max ${ms(loopDelay.max / 1e6)}`)
console.log(`  process CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s over ${seconds.toFixed(1)} s`)

if (clientConnection !== workerConnection) await clientConnection.close()
await workerConnection.close()
await server?.stop()
if (sorted.length > 0 && sorted[0]! < 0) {
  console.log("A TIMER FIRED EARLY")
  process.exitCode = 1
}
