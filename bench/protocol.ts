/**
 * `npm run bench:protocol`: the Python reference worker (workers/python,
 * FCALL into the `hotmesh` library) against the Node worker (EVALSHA of the
 * store's scripts), on the same machine and Redis, each in a process of its
 * own with the same concurrency.
 *
 *   npm run bench:protocol -- [--redis redis://127.0.0.1:6379] [--tasks 5000] [--workflows 1000] [--concurrency 16] [--reps 3]
 *     [--only drain,e2e,calls] [--quick]
 *
 * Scenarios:
 *   drain  activity tasks/s: with the worker serving (and idle), N `echo` tasks
 *          are written straight into the activity streams (one pipeline), timed
 *          until every completion has been appended to the (unread) workflow
 *          stream — the activity worker alone: claim, run, report.
 *   e2e    workflows/s: N one-activity workflows started at once, run by a
 *          Node workflow worker in this process; only the activity worker differs.
 *   calls  the same Lua body (`touch`) as the Node store runs it (EVALSHA, ioredis
 *          `defineCommand`) and as the library exposes it (FCALL hotmesh_touch):
 *          calls/s pipelined 100 at a time, and one at a time.
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
import { RELEASED_CONSUMER } from "../src/stores/redis/groupReader.ts"
import { LUA } from "../src/stores/redis/lua.ts"
import { makeKeys } from "../src/stores/redis/keys.ts"
import { startPythonWorker } from "../test/protocol/pythonWorker.ts"
import { startRedis } from "../test/support/redisServer.ts"
import { flag, num } from "./args.ts"
import * as workflows from "./protocol/workflows.ts"
import { ACTIVITY_QUEUE } from "./protocol/workflows.ts"

const here = dirname(fileURLToPath(import.meta.url))
const TASKS = num("--tasks", 5000, 500)
const WORKFLOWS = num("--workflows", 1000, 200)
const CONCURRENCY = num("--concurrency", 16, 16)
const REPS = num("--reps", 3, 1)
const PARTITIONS = 8
const ONLY = new Set((flag("--only") ?? "drain,e2e,calls").split(","))

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

/** EVALSHA vs FCALL of the same body, on one pending entry: [pipelined calls/s, sequential calls/s] per way. */
const calls = async (url: string, redis: Redis) => {
  const namespace = `bench-calls-${process.pid}`
  await prepare(url, namespace)
  const stream = `{${namespace}:p0}:s:activity:calls`
  await redis.xgroup("CREATE", stream, "hotmesh", "0", "MKSTREAM")
  const id = (await redis.xadd(stream, "*", "k", "x", "b", "{}"))!
  await redis.xreadgroup("GROUP", "hotmesh", "me", "COUNT", 1, "STREAMS", stream, ">")
  redis.defineCommand("benchTouch", { lua: LUA.touch, numberOfKeys: 1 })
  const viaEval = () => (redis as unknown as { benchTouch: (...a: Array<string | number>) => Promise<unknown> }).benchTouch(stream, "hotmesh", id, 1, RELEASED_CONSUMER)
  const viaFcall = () => redis.call("FCALL", "hotmesh_touch", "1", stream, id, "1")
  const rate = async (call: () => Promise<unknown>, pipelined: boolean) => {
    const n = pipelined ? 20_000 : 3_000
    const started = performance.now()
    if (pipelined) {
      for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, call))
    } else {
      for (let i = 0; i < n; i++) await call()
    }
    return n / ((performance.now() - started) / 1000)
  }
  const replies = [await viaEval(), await viaFcall()]
  if (JSON.stringify(replies) !== "[[0,1],1]") throw new Error(`touch did not touch: ${JSON.stringify(replies)}`)
  const out: Record<string, { pipelined: Array<number>; sequential: Array<number> }> = { EVALSHA: { pipelined: [], sequential: [] }, FCALL: { pipelined: [], sequential: [] } }
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, call] of [["EVALSHA", viaEval], ["FCALL", viaFcall]] as const) {
      out[name]!.pipelined.push(await rate(call, true))
      out[name]!.sequential.push(await rate(call, false))
    }
  }
  return out
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
  for (const kind of ONLY.has("drain") ? (["node", "python"] as const) : []) {
    const rates: Array<number> = []
    for (let rep = 0; rep < REPS; rep++) rates.push(await drain(kind, url, redis, rep))
    console.log(`drain  ${kind.padEnd(6)} ${TASKS} activity tasks:      ${summary(rates)}`)
  }
  for (const kind of ONLY.has("e2e") ? (["node", "python"] as const) : []) {
    const rates: Array<number> = []
    for (let rep = 0; rep < REPS; rep++) rates.push(await e2e(kind, url, rep))
    console.log(`e2e    ${kind.padEnd(6)} ${WORKFLOWS} one-activity workflows: ${summary(rates)}`)
  }
  const measured = ONLY.has("calls") ? await calls(url, redis) : {}
  for (const [name, { pipelined, sequential }] of Object.entries(measured)) {
    console.log(`calls  ${name.padEnd(7)} touch, pipelined x100: ${summary(pipelined)}   one at a time: ${summary(sequential)}`)
  }
} finally {
  redis.disconnect()
  await server?.stop()
}
