/**
 * `npm run bench:protocol`: the Python reference worker (workers/python,
 * FCALL into the `hotmesh` library) against the Node worker (EVALSHA of the
 * store's scripts), on the same machine and Redis, each in a process of its
 * own with the same concurrency.
 *
 *   npm run bench:protocol -- [--redis redis://127.0.0.1:6379] [--tasks 5000] [--workflows 1000] [--concurrency 16] [--reps 3] [--quick]
 *
 * Scenarios:
 *   drain  activity tasks/s: with the worker serving (and idle), N `echo` tasks
 *          are written straight into the activity streams (one pipeline), timed
 *          until every completion has been appended to the (unread) workflow
 *          stream — the activity worker alone: claim, run, report.
 *   e2e    workflows/s: N one-activity workflows started at once, run by a
 *          Node workflow worker in this process; only the activity worker differs.
 *
 * Each scenario runs `--reps` times per worker (a fresh namespace each) and
 * prints the median and min–max. Without `--redis` it starts a private
 * `redis-server` (no persistence) and stops it at the end.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { encodeMessage } from "../src/core/messages.ts"
import { makeKeys } from "../src/stores/redis/keys.ts"
import { startPythonWorker } from "../test/protocol/pythonWorker.ts"
import { startRedis } from "../test/support/redisServer.ts"
import * as workflows from "./protocol/workflows.ts"
import { ACTIVITY_QUEUE } from "./protocol/workflows.ts"

const here = dirname(fileURLToPath(import.meta.url))
const argv = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const index = argv.indexOf(name)
  return index === -1 ? undefined : argv[index + 1]
}
const quick = argv.includes("--quick")
const num = (name: string, full: number, short: number): number => Number(flag(name) ?? (quick ? short : full))
const TASKS = num("--tasks", 5000, 500)
const WORKFLOWS = num("--workflows", 1000, 200)
const CONCURRENCY = num("--concurrency", 16, 16)
const REPS = num("--reps", 3, 1)
const PARTITIONS = 8

type Kind = "node" | "python"

interface Started {
  readonly stop: () => Promise<void>
}

/** Start an activity worker for `namespace` in a process of its own; resolves once it serves. */
const startWorker = async (kind: Kind, url: string, namespace: string): Promise<Started> => {
  if (kind === "python") {
    const worker = await startPythonWorker({
      redisUrl: url, namespace, taskQueue: ACTIVITY_QUEUE, module: "bench_activities", paths: [join(here, "protocol")], concurrency: CONCURRENCY,
    })
    return { stop: async () => void (await worker.stop()) }
  }
  const child: ChildProcess = spawn(process.execPath, [
    "--conditions=hotmesh-source", "--import", "tsx", join(here, "protocol", "nodeWorker.ts"), url, namespace, ACTIVITY_QUEUE, String(CONCURRENCY),
  ], { stdio: ["ignore", "pipe", "inherit"] })
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("node worker ready")) resolve()
    })
    child.once("exit", (code) => reject(new Error(`node worker exited (${code}) before it was ready`)))
  })
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve())
        child.kill("SIGTERM")
      }),
  }
}

/** Make the namespace (partition count) and load the library, as a HotMesh process does. */
const prepare = async (url: string, namespace: string) => {
  const connection = await Connection.connect({ redis: url, namespace, partitions: PARTITIONS })
  await connection.close()
}

const drain = async (kind: Kind, url: string, redis: Redis, rep: number): Promise<number> => {
  const namespace = `bench-drain-${kind}-${rep}-${process.pid}`
  await prepare(url, namespace)
  const keys = makeKeys(namespace, PARTITIONS)
  const worker = await startWorker(kind, url, namespace)
  const started = performance.now()
  const pipeline = redis.pipeline()
  for (let i = 0; i < TASKS; i++) {
    const workflowId = `wf-${i}`
    const p = keys.partitionOf(workflowId)
    const body = encodeMessage({
      workflowId, runId: "r", workflowType: "bench", workflowTaskQueue: "sink", seq: 1, attempt: 1,
      activityType: "echo", args: [String(i)], scheduledAt: Date.now(),
    })
    pipeline.xadd(keys.stream(p, { kind: "activity", taskQueue: ACTIVITY_QUEUE }), "*", "k", workflowId, "b", body)
  }
  await pipeline.exec()
  const sinks = Array.from({ length: PARTITIONS }, (_, p) => keys.stream(p, { kind: "workflow", taskQueue: "sink" }))
  for (;;) {
    const lengths = await Promise.all(sinks.map((key) => redis.xlen(key)))
    if (lengths.reduce((a, b) => a + b, 0) >= TASKS) break
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const elapsed = (performance.now() - started) / 1000
  await worker.stop()
  return TASKS / elapsed
}

const e2e = async (kind: Kind, url: string, rep: number): Promise<number> => {
  const namespace = `bench-e2e-${kind}-${rep}-${process.pid}`
  const connection = await Connection.connect({ redis: url, namespace, partitions: PARTITIONS })
  const activityWorker = await startWorker(kind, url, namespace)
  const worker = await Worker.create({ connection, taskQueue: "bench-workflows", workflows })
  const running = worker.run()
  try {
    const client = new Client({ connection })
    const started = performance.now()
    const handles = await Promise.all(Array.from({ length: WORKFLOWS }, (_, i) =>
      client.workflow.start(workflows.echoOnce, { taskQueue: "bench-workflows", workflowId: `e2e-${i}`, args: [i] })))
    const results = await Promise.all(handles.map((h) => h.result()))
    const elapsed = (performance.now() - started) / 1000
    if (results.some((value, i) => value !== i)) throw new Error("a workflow returned the wrong value")
    return WORKFLOWS / elapsed
  } finally {
    await worker.shutdown()
    await running
    await activityWorker.stop()
    await connection.close()
  }
}

const summary = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]!
  return `${median.toFixed(0).padStart(6)}/s  (min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}, ${values.length} runs)`
}

const external = flag("--redis") ?? process.env["REDIS_URL"]
const server = external === undefined ? await startRedis({ extraArgs: ["--save", ""] }) : undefined
const url = external ?? server!.url
const redis = new Redis(url)
try {
  console.log(`bench:protocol — concurrency ${CONCURRENCY} per worker, ${PARTITIONS} partitions, Redis ${external === undefined ? "private" : "given"}`)
  for (const kind of ["node", "python"] as const) {
    const rates: Array<number> = []
    for (let rep = 0; rep < REPS; rep++) rates.push(await drain(kind, url, redis, rep))
    console.log(`drain  ${kind.padEnd(6)} ${TASKS} activity tasks:      ${summary(rates)}`)
  }
  for (const kind of ["node", "python"] as const) {
    const rates: Array<number> = []
    for (let rep = 0; rep < REPS; rep++) rates.push(await e2e(kind, url, rep))
    console.log(`e2e    ${kind.padEnd(6)} ${WORKFLOWS} one-activity workflows: ${summary(rates)}`)
  }
} finally {
  redis.disconnect()
  await server?.stop()
}
