/**
 * The Redis benchmark: durable steps per second, end-to-end latency, and what
 * each durable step costs Redis — commands executed and round trips (the
 * commands clients send: EVALSHA, XREADGROUP, HMGET, ...; commands run inside
 * Lua scripts cost no round trip).
 *
 *   npx tsx --conditions=hotmesh-source bench/redis.ts --redis redis://127.0.0.1:6379 \
 *     [--workflows N] [--latency-runs N] [--monitor-workflows N] [--partitions N] [--auto-pipelining]
 *
 * A durable step is one message read, one transition, one atomic commit: a
 * 10-activity workflow takes 21 (11 workflow tasks — start + 10 results — and
 * 10 activity tasks). One worker and one client run in this process, on two
 * connections (so everything they exchange goes through Redis).
 *
 * How the counts are taken:
 * - `CONFIG RESETSTAT` before a phase and `INFO commandstats` after it: every
 *   command Redis executed, including those run inside scripts, by name.
 * - A separate, smaller phase under `MONITOR`, which shows each command with
 *   its source (a client address, or `lua` inside a script): that splits the
 *   commands into round trips and in-script work, and names each EVALSHA's
 *   script. MONITOR slows Redis down, so no timing is taken in that phase.
 * Both include the background loops (timer checks, blocking reads that time
 * out) that run during the phase; with many workflows in flight they are noise.
 *
 * Use a Redis that nothing else is using: RESETSTAT and MONITOR are server-wide.
 */
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { BENCH_WORKER } from "./benchWorker.ts"
import { flag, has, num as number } from "./args.ts"
import { countTable, commandStats as commandStatsOf, monitored as monitoredOn, percentile, perStep, redactUrl, redisOptionsOf, sum } from "./support.ts"
import * as workflows from "./workflows.ts"

const url = flag("--redis") ?? process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const concurrentWorkflows = number("--workflows", 1000)
const latencyRuns = number("--latency-runs", 100)
const monitorWorkflows = number("--monitor-workflows", 200)
const partitions = number("--partitions", 8)
/** `--auto-pipelining`: ioredis batches the commands issued in one tick into one socket write. */
const autoPipelining = has("--auto-pipelining")
const STEPS_PER_WORKFLOW = 21
const TASK_QUEUE = "bench"

const namespace = flag("--namespace") ?? `bench-${Date.now().toString(36)}`
const admin = new Redis(url)
const redisInput = autoPipelining ? { ...redisOptionsOf(url), enableAutoPipelining: true } : url
const workerConnection = await Connection.connect({ redis: redisInput, namespace, partitions })
const clientConnection = await Connection.connect({ redis: redisInput, namespace, partitions })
const worker = await Worker.create({
  connection: workerConnection,
  taskQueue: TASK_QUEUE,
  ...BENCH_WORKER,
})
const client = new Client({ connection: clientConnection })

let ids = 0
const runWorkflow = async (input: number): Promise<void> => {
  const result = await client.workflow.execute(workflows.tenSteps, { taskQueue: TASK_QUEUE, workflowId: `wf-${++ids}`, args: [input] })
  if (result !== input + 10) throw new Error(`workflow returned ${result}, expected ${input + 10}`)
}
const concurrently = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => runWorkflow(i)))

const commandStats = () => commandStatsOf(admin)
const monitored = (phase: () => Promise<void>) => monitoredOn(admin, phase)
const table = countTable

console.log(`redis bench: ${redactUrl(url)}, namespace ${namespace}, ${partitions} partitions, one worker + one client${autoPipelining ? ", ioredis auto-pipelining" : ""}`)
await worker.runUntil(async () => {
  // Warm-up (JIT, caches, consumer groups, script cache).
  await concurrently(100)

  // Throughput: many workflows at once.
  await admin.config("RESETSTAT")
  const t0 = performance.now()
  await concurrently(concurrentWorkflows)
  const seconds = (performance.now() - t0) / 1000
  const throughputStats = await commandStats()
  const steps = concurrentWorkflows * STEPS_PER_WORKFLOW
  console.log(`\nthroughput: ${concurrentWorkflows} concurrent 10-activity workflows, ${steps} durable steps in ${seconds.toFixed(2)} s`)
  console.log(`            ${Math.round(steps / seconds).toLocaleString("en-US")} durable steps/s, ${Math.round(concurrentWorkflows / seconds).toLocaleString("en-US")} workflows/s`)
  console.log(`            INFO commandstats: ${perStep(sum(throughputStats), steps)} Redis commands per durable step (in scripts included)`)

  // Latency: one workflow at a time.
  await admin.config("RESETSTAT")
  const latencies: Array<number> = []
  const redisCpuSeconds = async () => {
    const info = await admin.info("cpu")
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? Number.NaN)
    return field("used_cpu_user") + field("used_cpu_sys")
  }
  const redisCpu0 = await redisCpuSeconds()
  const loop0 = performance.eventLoopUtilization()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < latencyRuns; i++) {
    const start = performance.now()
    await runWorkflow(i)
    latencies.push(performance.now() - start)
  }
  const loop = performance.eventLoopUtilization(loop0)
  const cpu = process.cpuUsage(cpu0)
  const latencyStats = await commandStats()
  latencies.sort((a, b) => a - b)
  const latencySteps = latencyRuns * STEPS_PER_WORKFLOW
  console.log(`\nlatency:    one 10-activity workflow end to end (${latencyRuns} runs, sequential)`)
  console.log(`            p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p95 ${percentile(latencies, 0.95).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms` +
    ` (${(percentile(latencies, 0.5) / STEPS_PER_WORKFLOW).toFixed(2)} ms per durable step at p50)`)
  console.log(`            INFO commandstats: ${perStep(sum(latencyStats), latencySteps)} Redis commands per durable step (in scripts included)`)
  // Where a sequential workflow's time goes: this process's event loop busy (JS and the syscalls it makes), all its threads' CPU, Redis.
  const redisSeconds = (await redisCpuSeconds()) - redisCpu0
  console.log(`            per workflow: event loop active ${(loop.active / latencyRuns).toFixed(2)} ms (utilisation ${loop.utilization.toFixed(2)}),` +
    ` this process's CPU ${((cpu.user + cpu.system) / 1000 / latencyRuns).toFixed(2)} ms, redis-server's CPU ${(redisSeconds * 1000 / latencyRuns).toFixed(2)} ms`)

  // Round trips, by source, under MONITOR.
  for (const [label, n, phase] of [
    [`${monitorWorkflows} concurrent workflows`, monitorWorkflows, () => concurrently(monitorWorkflows).then(() => undefined)],
    [`${Math.min(latencyRuns, 50)} sequential workflows`, Math.min(latencyRuns, 50), async () => {
      for (let i = 0; i < Math.min(latencyRuns, 50); i++) await runWorkflow(i)
    }],
  ] as const) {
    await admin.config("RESETSTAT")
    const { roundTrips, inScripts } = await monitored(phase)
    const stats = await commandStats()
    const phaseSteps = n * STEPS_PER_WORKFLOW
    console.log(`\nper durable step, ${label} (MONITOR):`)
    console.log(`  round trips (commands sent by clients): ${perStep(sum(roundTrips), phaseSteps)}`)
    console.log(table(roundTrips, phaseSteps, "    "))
    console.log(`  commands run inside scripts: ${perStep(sum(inScripts), phaseSteps)}`)
    console.log(table(inScripts, phaseSteps, "    "))
    console.log(`  all commands (INFO commandstats, same phase): ${perStep(sum(stats), phaseSteps)}`)
  }
})
await clientConnection.close()
await workerConnection.close()
admin.disconnect()
