/**
 * `npm run bench`: durable steps per second and end-to-end latency of a
 * 10-activity workflow, on the embedded in-memory store, in one process.
 *
 * A durable step is one message read, one transition, one atomic commit:
 * a 10-activity workflow takes 21 (11 workflow tasks — start + 10 results —
 * and 10 activity tasks).
 *
 *   npm run bench -- [--workflows N] [--latency-runs N] [--metrics on|off] [--tracing off|api|sdk]
 *
 * `--metrics off` connects with `metrics: false` (default on: what
 * `connection.metrics()` serves). `--tracing api` adds the
 * `hotmesh/opentelemetry` interceptors with no OpenTelemetry SDK registered
 * (spans are no-ops); `--tracing sdk` registers the SDK's tracer provider
 * with a processor that drops every span (the cost of making them).
 *
 * `npm run bench` builds `dist/` first and measures the compiled package (as
 * it runs in production); `tsx --conditions=hotmesh-source bench/steps.ts`
 * measures the sources through tsx instead (about 10% slower).
 */
import { trace } from "@opentelemetry/api"
import { BasicTracerProvider, NoopSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Client, Connection, Worker } from "hotmesh"
import { makeActivityInterceptors, OpenTelemetryWorkflowClientInterceptor, workflowInterceptorsModule } from "hotmesh/opentelemetry"
import { BENCH_WORKER } from "./benchWorker.ts"
import { flag, num } from "./args.ts"
import { percentile } from "./support.ts"
import * as workflows from "./workflows.ts"

const concurrentWorkflows = num("--workflows", 2000)
const latencyRuns = num("--latency-runs", 200)
const STEPS_PER_WORKFLOW = 21

const option = <T extends string>(name: string, values: ReadonlyArray<T>, fallback: T): T => {
  const value = flag(name) ?? fallback
  if (!values.includes(value as T)) throw new Error(`${name} must be one of ${values.join(", ")}`)
  return value as T
}
const metrics = option("--metrics", ["on", "off"], "on")
const tracing = option("--tracing", ["off", "api", "sdk"], "off")
if (tracing === "sdk") trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }))
console.log(`metrics ${metrics}, tracing ${tracing}`)

const connection = await Connection.connect({ namespace: "bench", metrics: metrics === "on" })
const worker = await Worker.create({
  connection,
  taskQueue: "bench",
  ...BENCH_WORKER,
  ...(tracing === "off" ? {} : { interceptors: { workflowModules: [workflowInterceptorsModule], activity: [makeActivityInterceptors()] } }),
})
const client = new Client({ connection, ...(tracing === "off" ? {} : { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } }) })


await worker.runUntil(async () => {
  // Warm-up (JIT, caches).
  await Promise.all(Array.from({ length: 200 }, (_, i) => client.workflow.execute(workflows.tenSteps, { taskQueue: "bench", workflowId: `warm-${i}`, args: [i] })))

  // Throughput: many workflows at once.
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const results = await Promise.all(
    Array.from({ length: concurrentWorkflows }, (_, i) =>
      client.workflow.execute(workflows.tenSteps, { taskQueue: "bench", workflowId: `tp-${i}`, args: [i] })),
  )
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const wrong = results.filter((value, i) => value !== i + 10).length
  if (wrong > 0) throw new Error(`${wrong} workflows returned a wrong result`)
  const steps = concurrentWorkflows * STEPS_PER_WORKFLOW
  console.log(`throughput: ${concurrentWorkflows} concurrent 10-activity workflows, ${steps} durable steps in ${seconds.toFixed(2)} s`)
  console.log(`            ${Math.round(steps / seconds).toLocaleString("en-US")} durable steps/s, ${Math.round(concurrentWorkflows / seconds).toLocaleString("en-US")} workflows/s`)
  const cpuMicros = cpu.user + cpu.system
  console.log(`            ${(cpuMicros / steps).toFixed(1)} µs of CPU per durable step (${Math.round(steps / (cpuMicros / 1e6)).toLocaleString("en-US")} steps per CPU-second)`)

  // Latency: one workflow at a time.
  const latencies: Array<number> = []
  for (let i = 0; i < latencyRuns; i++) {
    const start = performance.now()
    await client.workflow.execute(workflows.tenSteps, { taskQueue: "bench", workflowId: `lat-${i}`, args: [i] })
    latencies.push(performance.now() - start)
  }
  latencies.sort((a, b) => a - b)
  console.log(`latency:    one 10-activity workflow end to end (${latencyRuns} runs, sequential):`)
  console.log(`            p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p95 ${percentile(latencies, 0.95).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms`)
  const memory = process.memoryUsage()
  console.log(`memory:     rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB`)
})
await connection.close()
