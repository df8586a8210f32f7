/**
 * Scale bench: throughput of 10-activity workflows (21 durable steps each) on
 * one Redis vs a local 3-master Redis Cluster (+3 replicas), with one worker
 * in this process and with 3 worker processes; and the cost of
 * `durability: { replicas: 1 }` (WAIT after each commit) on the cluster.
 * Starts its own servers (`redis-server`, `redis-cli` on the PATH).
 *
 *   npm run bench:cluster -- [--workflows N]      (default 1000 per phase)
 *
 * Every process here shares the same cores as the Redis servers: on a small
 * machine the figures show where the CPU goes more than how far a real
 * cluster (one machine per master) scales.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Client, Connection, type ConnectionOptions, Worker } from "hotmesh"
import { startRedisCluster } from "../test/support/redisCluster.ts"
import { startRedis } from "../test/support/redisServer.ts"
import { BENCH_WORKER } from "./benchWorker.ts"
import { num } from "./args.ts"
import * as workflows from "./workflows.ts"

const WORKFLOWS = num("--workflows", 1000)
const STEPS = 21
const repoRoot = fileURLToPath(new URL("..", import.meta.url))
const workerScript = fileURLToPath(new URL("./clusterWorker.ts", import.meta.url))

delete process.env["REDIS_URL"]
const single = await startRedis()
const cluster = await startRedisCluster()

const spawnWorker = (options: ConnectionOptions): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", workerScript], {
      cwd: repoRoot,
      env: { ...process.env, HOTMESH_BENCH_CONNECT: JSON.stringify(options) },
      stdio: ["ignore", "pipe", "ignore"],
    })
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve(child)
    })
    child.once("exit", (code) => reject(new Error(`bench worker exited with ${code}`)))
  })

/** CPU seconds (user + sys) each master's redis-server has used so far (`INFO cpu`). */
const redisCpu = async (clustered: boolean): Promise<Array<number>> => {
  const ports = clustered ? (await cluster.masters()).map((m) => m.port) : [single.port!]
  return Promise.all(ports.map(async (port) => {
    const info = await cluster.cli(port, "INFO", "cpu")
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
    return field("used_cpu_user") + field("used_cpu_sys")
  }))
}

let phase = 0
const measure = async (label: string, base: Omit<ConnectionOptions, "namespace">, processes: number): Promise<number> => {
  const options = { ...base, namespace: `bench-cluster-${Date.now().toString(36)}-${++phase}` }
  const clientConnection = await Connection.connect({ ...options, logLevel: "Error" })
  const client = new Client({ connection: clientConnection })
  let ids = 0
  const run = (n: number) =>
    Promise.all(Array.from({ length: n }, async (_, i) => {
      const result = await client.workflow.execute(workflows.tenSteps, { taskQueue: "bench", workflowId: `wf-${++ids}`, args: [i] })
      if (result !== i + 10) throw new Error(`workflow returned ${result}, expected ${i + 10}`)
    }))
  const children: Array<ChildProcess> = []
  let local: { readonly worker: Worker; readonly connection: Connection; readonly running: Promise<void> } | undefined
  if (processes === 0) {
    const connection = await Connection.connect({ ...options, logLevel: "Error" })
    const worker = await Worker.create({ connection, taskQueue: "bench", ...BENCH_WORKER })
    local = { worker, connection, running: worker.run() }
  } else {
    for (let i = 0; i < processes; i++) children.push(await spawnWorker(options))
  }
  try {
    await run(100) // warm-up
    const clustered = typeof base.redis === "object"
    const cpu0 = await redisCpu(clustered)
    const t0 = performance.now()
    await run(WORKFLOWS)
    const seconds = (performance.now() - t0) / 1000
    const cpu = (await redisCpu(clustered)).map((c, i) => Math.round((100 * (c - cpu0[i]!)) / seconds))
    const rate = (WORKFLOWS * STEPS) / seconds
    console.log(`${label.padEnd(58)} ${Math.round(rate).toLocaleString("en-US").padStart(6)} durable steps/s  (${WORKFLOWS} workflows in ${seconds.toFixed(2)} s; Redis CPU per master ${cpu.join("/")}% of a core)`)
    return rate
  } catch (error) {
    console.log(`${label.padEnd(58)} failed: ${error instanceof Error ? error.message : String(error)}`)
    return 0
  } finally {
    if (local !== undefined) {
      await local.worker.shutdown()
      await local.running
      await local.connection.close()
    }
    await Promise.all(children.map((c) => new Promise((resolve) => {
      c.once("exit", resolve)
      c.kill("SIGTERM")
    })))
    await clientConnection.close()
  }
}

const clusterInput = { cluster: cluster.startupNodes }
console.log(`cluster bench: ${WORKFLOWS} concurrent 10-activity workflows per phase (${STEPS} durable steps each), 8 partitions, client in this process\n`)
try {
  await measure("one Redis, one worker (in this process)", { redis: single.url }, 0)
  await measure("3-master cluster, one worker (in this process)", { redis: clusterInput }, 0)
  await measure("one Redis, 3 worker processes", { redis: single.url }, 3)
  await measure("3-master cluster, 3 worker processes", { redis: clusterInput }, 3)
  await measure("3-master cluster, one worker, durability replicas 1", { redis: clusterInput, durability: { replicas: 1, timeoutMs: 1_000 } }, 0)
  await measure("3-master cluster, 3 worker processes, durability replicas 1", { redis: clusterInput, durability: { replicas: 1, timeoutMs: 1_000 } }, 3)
} finally {
  await cluster.stop()
  await single.stop()
}
