/**
 * OpenTelemetry across two processes over Redis: this process runs the
 * client (with `OpenTelemetryWorkflowClientInterceptor`) and the activity
 * worker (with the activity interceptor); a child process runs the workflow
 * worker with the workflow interceptors module. Each process exports its
 * spans to an in-memory exporter; the test joins them and checks one trace
 * links client → workflow tasks → activities → child workflow, with every
 * call traced once — also when every workflow task replays the run first
 * (no cache), where the replayed tasks must emit nothing.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { trace } from "@opentelemetry/api"
import { Client, Connection, Worker } from "hotmesh"
import { makeActivityInterceptors, OpenTelemetryWorkflowClientInterceptor, SpanAttributes } from "hotmesh/opentelemetry"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "../support/redisServer.ts"
import { ACTIVITY_QUEUE, addNote, approve, order, type OrderActivities, status } from "./fixtures/order.ts"
import { installTracing, type SpanRecord } from "./fixtures/tracing.ts"

const repoRoot = fileURLToPath(new URL("../..", import.meta.url))
const fixture = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))
const redis = await useRedis()
const tracing = installTracing()
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
})

/** The workflow worker process; `stop()` resolves to its spans and task counts. */
const spawnWorkflowWorker = async (namespace: string, taskQueue: string, maxCached: number) => {
  const child = spawn(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", fixture], {
    cwd: repoRoot,
    env: { ...process.env, HOTMESH_REDIS_URL: redis.url, HOTMESH_NAMESPACE: namespace, HOTMESH_TASK_QUEUE: taskQueue, HOTMESH_MAX_CACHED: String(maxCached) },
    stdio: ["ignore", "pipe", "pipe"],
  })
  children.add(child)
  let output = ""
  child.stderr!.on("data", (chunk) => void (output += chunk))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      output += chunk
      if (output.includes("READY\n")) resolve()
    })
    child.once("exit", (code) => reject(new Error(`workflow worker exited (${code}) before it was ready:\n${output}`)))
  })
  return {
    async stop(): Promise<{ readonly spans: Array<SpanRecord>; readonly tasks: { readonly live: number; readonly replayed: number } }> {
      child.kill("SIGTERM")
      await exited
      const line = output.split("\n").find((l) => l.startsWith("RESULT "))
      if (line === undefined) throw new Error(`workflow worker printed no RESULT:\n${output}`)
      return JSON.parse(line.slice("RESULT ".length))
    },
  }
}

/** Poll `fn` until it resolves (the run answers queries once its first task ran). */
const eventually = async <T>(fn: () => Promise<T>): Promise<T> => {
  for (;;) {
    try {
      return await fn()
    } catch {
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

/** The span tree under `root`, one line per span: name, process ("client" or "worker") and children indented. */
const treeOf = (spans: ReadonlyArray<SpanRecord>, root: SpanRecord, clientPid: number, depth = 0): Array<string> => [
  `${"  ".repeat(depth)}${root.name} [${root.pid === clientPid ? "client process" : "worker process"}]`,
  ...spans.filter((span) => span.parentSpanId === root.spanId).flatMap((child) => treeOf(spans, child, clientPid, depth + 1)),
]

const activities: OrderActivities = {
  charge: async (orderId) => `charged ${orderId}`,
  ship: async (orderId) => `shipped ${orderId}`,
}

describe.each([
  { name: "live runs cached", maxCached: 1000 },
  { name: "every workflow task replays first (no cache)", maxCached: 0 },
])("tracing an order across two processes ($name)", ({ maxCached }) => {
  const namespace = `otel-${maxCached}-${Math.random().toString(36).slice(2, 8)}`
  let connection: Connection
  let activityWorker: Worker
  let activityRunning: Promise<void>
  let workflowWorker: Awaited<ReturnType<typeof spawnWorkflowWorker>>
  beforeAll(async () => {
    connection = await Connection.connect({ redis: redis.url, namespace })
    activityWorker = await Worker.create({ connection, taskQueue: ACTIVITY_QUEUE, activities, interceptors: { activity: [makeActivityInterceptors()] } })
    activityRunning = activityWorker.run()
    workflowWorker = await spawnWorkflowWorker(namespace, "otel", maxCached)
  })
  afterAll(async () => {
    await activityWorker.shutdown()
    await activityRunning
    await connection.close()
  })

  it("one trace links the client's calls, each workflow task, the activities and the child, each once", async () => {
    const client = new Client({ connection, interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } })
    const orderId = `order-${namespace}`
    const root = trace.getTracer("test")
    const { traceId, result } = await root.startActiveSpan("place order", async (span) => {
      const handle = await client.workflow.start(order, { taskQueue: "otel", workflowId: orderId, args: [orderId] })
      expect(await eventually(() => handle.query(status))).toBeTypeOf("string")
      await handle.signal(approve)
      expect(await handle.executeUpdate(addNote, { args: ["gift wrap"] })).toBe("noted gift wrap")
      const result = await handle.result()
      span.end()
      return { traceId: span.spanContext().traceId, result }
    })
    expect(result).toBe(`shipped ${orderId}, gift wrap`)
    const { spans: workerSpans, tasks } = await workflowWorker.stop()
    const spans = [...tracing.spans().filter((span) => span.traceId === traceId), ...workerSpans]

    // Every span of both processes is in the one trace, each with its own id (workflow code's
    // Math.random is seeded per run: ids drawn from it would repeat on every replay).
    expect(workerSpans.every((span) => span.traceId === traceId)).toBe(true)
    expect(new Set(spans.map((span) => span.spanId)).size).toBe(spans.length)
    const named = (name: string) => spans.filter((span) => span.name === name)
    const one = (name: string): SpanRecord => {
      const found = named(name)
      expect(found, `${name}: ${found.length} spans`).toHaveLength(1)
      return found[0]!
    }
    const parentOf = (span: SpanRecord) => spans.find((candidate) => candidate.spanId === span.parentSpanId)
    const placeOrder = one("place order")
    const start = one("StartWorkflow:order")
    expect(start.parentSpanId).toBe(placeOrder.spanId)
    expect(start.attributes[SpanAttributes.WORKFLOW_ID]).toBe(orderId)

    // One RunWorkflow span per workflow task that ran new code; replayed tasks emit none.
    const orderTasks = named("RunWorkflow:order")
    const shipmentTasks = named("RunWorkflow:shipment")
    expect(orderTasks.length + shipmentTasks.length).toBe(tasks.live)
    if (maxCached === 0) expect(tasks.replayed).toBeGreaterThan(0)
    for (const task of orderTasks) expect(task.parentSpanId).toBe(start.spanId)
    const historyLengths = orderTasks.map((task) => task.attributes[SpanAttributes.HISTORY_LENGTH])
    expect(new Set(historyLengths).size).toBe(orderTasks.length)

    // What the code did, once each, below the task that did it; the work below that.
    const startCharge = one("StartActivity:charge")
    expect(parentOf(startCharge)?.name).toBe("RunWorkflow:order")
    const runCharge = one("RunActivity:charge")
    expect(runCharge.parentSpanId).toBe(startCharge.spanId)
    expect(runCharge.pid).toBe(process.pid)
    expect(runCharge.attributes[SpanAttributes.ATTEMPT]).toBe(1)
    expect(one("HandleSignal:approve").parentSpanId).toBe(one("SignalWorkflow:approve").spanId)
    const startUpdate = one("StartWorkflowUpdate:addNote")
    expect(one("ValidateUpdate:addNote").parentSpanId).toBe(startUpdate.spanId)
    expect(one("HandleUpdate:addNote").parentSpanId).toBe(startUpdate.spanId)
    for (const handled of named("HandleQuery:status")) expect(parentOf(handled)?.name).toBe("QueryWorkflow:status")
    expect(named("HandleQuery:status").length).toBeGreaterThan(0)
    const startChild = one("StartChildWorkflow:shipment")
    expect(parentOf(startChild)?.name).toBe("RunWorkflow:order")
    expect(shipmentTasks.length).toBeGreaterThan(0)
    for (const task of shipmentTasks) expect(task.parentSpanId).toBe(startChild.spanId)
    const startShip = one("StartActivity:ship")
    expect(parentOf(startShip)?.name).toBe("RunWorkflow:shipment")
    expect(one("RunActivity:ship").parentSpanId).toBe(startShip.spanId)

    console.log(`span tree of one order (${maxCached === 0 ? "no cache: every task replayed first" : "cached"}; ${tasks.live} live and ${tasks.replayed} replayed workflow tasks):\n${treeOf(spans, placeOrder, process.pid).join("\n")}`)
  })
})
