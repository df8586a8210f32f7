/**
 * The cost of telemetry per durable step, measured in isolation (the
 * end-to-end `bench/steps.ts --metrics on|off --tracing off|api|sdk` is too
 * noisy on a shared VM to resolve it):
 *
 *   node --conditions=hotmesh-source --import tsx bench/telemetry.ts
 *
 * - metrics: the `MetricsSink` calls one 10-activity workflow makes per step
 *   (a workflow step: `step` + `workflowTask`; an activity step:
 *   `activityStarted` + `activityFinished` + `step`), on a connection's
 *   Prometheus sink, against the no-op sink;
 * - tracing: the client `start` interceptor and a workflow task's spans
 *   (`runTask` around one `scheduleActivity`), with no SDK registered and
 *   with the SDK's tracer provider dropping every span.
 */
import { trace } from "@opentelemetry/api"
import { BasicTracerProvider, NoopSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { noMetrics, type MetricsSink } from "../src/effects/metrics.ts"
import { ConnectionMetrics } from "../src/sdk/metrics.ts"
import { OpenTelemetryWorkflowClientInterceptor } from "../src/sdk/opentelemetry/index.ts"

const N = 200_000

/** CPU time (not wall time: on a shared machine that counts other processes' turns) per call of `fn`. */
const nsPer = (label: string, fn: () => void): number => {
  for (let i = 0; i < 20_000; i++) fn()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < N; i++) fn()
  const cpu = process.cpuUsage(cpu0)
  const ns = ((cpu.user + cpu.system) * 1000) / N
  console.log(`${label.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns of CPU`)
  return ns
}

/** One workflow step's and one activity step's sink calls, averaged per step. */
const steps = (sink: MetricsSink) => () => {
  if (!sink.enabled) return
  sink.step("workflow", "bench", 0.0004)
  sink.workflowTask("bench", "tenSteps", 0.002, 0.0001, false)
  sink.activityStarted("bench", "increment", 0.003, 1)
  sink.activityFinished("bench", "increment", 0.00002, "completed")
  sink.step("activity", "bench", 0.0003)
}

console.log(`metrics, per pair of steps (one workflow, one activity), ${N} iterations:`)
const off = nsPer("  no-op sink (metrics: false)", steps(noMetrics))
const on = nsPer("  Prometheus sink (prom-client)", steps(new ConnectionMetrics("bench")))
console.log(`  → ${((on - off) / 2).toFixed(0)} ns per durable step`)

const client = new OpenTelemetryWorkflowClientInterceptor()
const start = () => void client.start!({ workflowType: "tenSteps", headers: {}, options: { taskQueue: "bench", workflowId: "w" } }, async () => "run")
console.log("tracing, client start interceptor (span + header injection):")
nsPer("  no SDK registered (API no-op tracer)", start)
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }))
nsPer("  SDK tracer provider, spans dropped", start)
