/**
 * Local vs remote activities: the same 10-activity workflow with
 * `proxyActivities` (21 durable steps: 11 workflow steps and 10 activity
 * tasks) and with `proxyLocalActivities` (one step, one commit: the ten
 * calls run in the step that takes the `Start`), end to end, one at a time
 * and many at once, on the embedded store and, with `--redis URL`, on Redis.
 *
 *   node --conditions=hotmesh-source --import tsx bench/local.ts [--runs N] [--workflows N] [--redis redis://127.0.0.1:6379]
 */
import { Client, Connection, Worker } from "hotmesh"
import { BENCH_WORKER } from "./benchWorker.ts"
import { flag, num } from "./args.ts"
import { percentile } from "./support.ts"
import * as workflows from "./workflows.ts"

const runs = num("--runs", 200)
const concurrent = num("--workflows", 1000)
const redisUrl = flag("--redis")

const connection = await Connection.connect(redisUrl === undefined ? { namespace: "bench-local" } : { redis: redisUrl, namespace: `bench-local-${process.pid}` })
const worker = await Worker.create({ connection, taskQueue: "bench-local", ...BENCH_WORKER })
const client = new Client({ connection })

console.log(`store: ${redisUrl === undefined ? "memory" : `redis ${redisUrl}`}`)
await worker.runUntil(async () => {
  for (const [name, fn] of [["remote", workflows.tenSteps], ["local", workflows.tenLocalSteps]] as const) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => client.workflow.execute(fn, { taskQueue: "bench-local", workflowId: `warm-${name}-${i}`, args: [i] })))
    const latencies: Array<number> = []
    for (let i = 0; i < runs; i++) {
      const start = performance.now()
      const result = await client.workflow.execute(fn, { taskQueue: "bench-local", workflowId: `lat-${name}-${i}`, args: [i] })
      if (result !== i + 10) throw new Error(`wrong result ${result}`)
      latencies.push(performance.now() - start)
    }
    latencies.sort((a, b) => a - b)
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    await Promise.all(Array.from({ length: concurrent }, (_, i) => client.workflow.execute(fn, { taskQueue: "bench-local", workflowId: `tp-${name}-${i}`, args: [i] })))
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    console.log(`${name.padEnd(6)} 10-activity workflow: latency p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p95 ${percentile(latencies, 0.95).toFixed(2)} ms (${runs} sequential); ` +
      `${Math.round(concurrent / seconds).toLocaleString("en-US")} workflows/s (${concurrent} at once), ${((cpu.user + cpu.system) / concurrent).toFixed(0)} µs CPU per workflow`)
  }
})
await connection.close()
