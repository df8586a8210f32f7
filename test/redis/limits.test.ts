/**
 * Back-pressure across processes: three activity-worker processes
 * (fixtures/limits-worker.ts) serve one task queue over Redis, and the
 * queue's limits hold across all of them — concurrency never exceeded (each
 * `work` counts itself in flight in Redis, atomically, and the highest count
 * is kept), the rate within 10% of the limit, a pause holds every task and a
 * resume releases them, nothing lost or run twice.
 *
 * Counting, not timing: the rate is measured over 80 tasks (three and a half
 * seconds at 20/s, where a slow machine only lowers it — the bucket bounds it
 * from above), and the pause is observed for a second after every task is on
 * the queue (a second longer than any worker waits before asking again).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, unique } from "../fixtures/e2e-support.ts"
import * as workflows from "../fixtures/limitsWorkflows.ts"
import { useRedis } from "../support/redisServer.ts"

const PROCESSES = 3
const HOLD_MS = 100
const VISIBILITY_TIMEOUT_MS = 5000
const repoRoot = fileURLToPath(new URL("../..", import.meta.url))
const fixture = fileURLToPath(new URL("./fixtures/limits-worker.ts", import.meta.url))

const redis = await useRedis()
const namespace = `limits-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const taskQueue = unique("limits")
const markerKey = unique("limits-markers")
const admin = new Redis(redis.url)

interface Start {
  readonly i: number
  readonly pid: number
  readonly at: number
  readonly inflight: number
}
const startsOf = async (from: number, to: number): Promise<Array<Start>> =>
  (await admin.lrange(markerKey, 0, -1)).map((line) => JSON.parse(line) as Start).filter((s) => s.i >= from && s.i < to)

let connection: Connection
let client: Client
let workflowWorker: Worker
let workflowsRunning: Promise<void>
const children: Array<{ readonly child: ChildProcess; readonly exited: Promise<number | null>; output: string }> = []

beforeAll(async () => {
  connection = await Connection.connect({ redis: redis.url, namespace, visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS })
  client = new Client({ connection })
  // Set before any worker polls, so no worker ever sees the queue unlimited.
  await client.taskQueue(taskQueue).setLimits({ concurrency: 4 })
  workflowWorker = await Worker.create({ connection, taskQueue, workflows })
  workflowsRunning = workflowWorker.run()
  for (let n = 0; n < PROCESSES; n++) {
    const child = spawn(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", fixture], {
      cwd: repoRoot,
      env: {
        ...process.env,
        HOTMESH_REDIS_URL: redis.url,
        HOTMESH_NAMESPACE: namespace,
        HOTMESH_TASK_QUEUE: taskQueue,
        HOTMESH_VISIBILITY_MS: String(VISIBILITY_TIMEOUT_MS),
        HOTMESH_MARKER_KEY: markerKey,
        HOTMESH_HOLD_MS: String(HOLD_MS),
      },
      stdio: ["ignore", "pipe", "pipe"],
    })
    const entry = { child, exited: new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code))), output: "" }
    child.stdout!.on("data", (chunk) => void (entry.output += chunk))
    child.stderr!.on("data", (chunk) => void (entry.output += chunk))
    children.push(entry)
  }
  await eventually(() => (children.every((c) => c.output.includes("ready")) ? true : undefined), "the worker processes to start", 30_000)
}, 60_000)

afterAll(async () => {
  for (const { child } of children) if (child.exitCode === null) child.kill("SIGTERM")
  const codes = await Promise.all(children.map((c) => c.exited))
  await workflowWorker?.shutdown()
  await workflowsRunning
  await connection?.close()
  admin.disconnect()
  expect(codes, children.map((c) => c.output).join("\n")).toEqual(children.map(() => 0))
})

const startAll = (from: number, count: number, sleepMs = 0) =>
  Promise.all(Array.from({ length: count }, (_, k) =>
    client.workflow.start(workflows.limited, { taskQueue, workflowId: unique(`lim-${from + k}`), args: [from + k, sleepMs] })))

const activityStream = async () => (await client.taskQueue(taskQueue).describe()).streams.find((s) => s.kind === "activity")!

/** Every task `from..from+count-1` started exactly once, and nothing is left on the queue or in the dead letters. */
const expectNothingLost = async (from: number, count: number) => {
  const starts = await startsOf(from, from + count)
  expect(starts.map((s) => s.i).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, k) => from + k))
  const description = await client.taskQueue(taskQueue).describe()
  for (const stream of description.streams) expect({ kind: stream.kind, length: stream.length, deadLetters: stream.deadLetters }).toEqual({ kind: stream.kind, length: 0, deadLetters: 0 })
}

describe(`limits hold across ${PROCESSES} worker processes on Redis`, () => {
  it("concurrency 4: never more than 4 activities in flight across the processes; all 40 complete", async () => {
    const handles = await startAll(0, 40)
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual(Array.from({ length: 40 }, (_, k) => k))
    const maxInFlight = Number(await admin.get(`${markerKey}:max`))
    const starts = await startsOf(0, 40)
    const pids = new Set(starts.map((s) => s.pid))
    console.log(`concurrency limit 4: max in flight ${maxInFlight}, over ${pids.size} processes`)
    expect(maxInFlight).toBeLessThanOrEqual(4)
    expect(maxInFlight).toBeGreaterThanOrEqual(2)
    expect(pids.size).toBeGreaterThanOrEqual(2)
    await expectNothingLost(0, 40)
  }, 60_000)

  it("pause holds every task (the workflows' timers still fire into the queue); resume releases them all", async () => {
    const queue = client.taskQueue(taskQueue)
    expect(await queue.pause()).toMatchObject({ paused: true })
    // A limit stays in force throughout, so no worker ever finds the queue unlimited (and reads without asking for a second).
    await queue.setLimits({ concurrency: 100 })
    expect(await queue.getLimits()).toEqual({ concurrency: 100, paused: true })
    // Each workflow sleeps first: its task reaches the queue when its timer fires, during the pause.
    const handles = await startAll(300, 20, 200)
    const depth = async () => (await activityStream()).length
    await eventually(async () => ((await depth()) === 20 ? true : undefined), "the 20 activity tasks to reach the paused queue", 20_000)
    // Not a synchronisation: the observation window, a second (twice as long as a paused worker waits before asking again).
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(await startsOf(300, 320)).toEqual([])
    expect(await depth()).toBe(20)
    expect((await activityStream()).pending).toBe(0)

    expect(await queue.resume()).toEqual({ concurrency: 100 })
    expect((await Promise.all(handles.map((h) => h.result()))).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, k) => 300 + k))
    await expectNothingLost(300, 20)
  }, 60_000)

  it("rate 20/s: 80 tasks start at 20/s (within 10%) across the processes", async () => {
    const queue = client.taskQueue(taskQueue)
    // The tasks wait on the paused queue first, so what paces them is the limit, not how fast workflows dispatch them.
    await queue.pause()
    // Half a second's worth: the slack three processes slowed by a loaded machine have before a token is lost.
    const burst = 10
    expect(await queue.setLimits({ rate: 20, burst, concurrency: null })).toEqual({ rate: 20, burst, paused: true })
    const handles = await startAll(100, 80)
    await eventually(async () => ((await activityStream()).length === 80 ? true : undefined), "the 80 tasks to reach the paused queue", 30_000)
    await queue.resume()
    expect(await Promise.all(handles.map((h) => h.result()))).toHaveLength(80)
    const at = (await startsOf(100, 180)).map((s) => s.at).sort((a, b) => a - b)
    // The first `burst` start at once (a full bucket); the others one token (1/20 s) apart.
    const observed = ((at.length - burst) * 1000) / (at.at(-1)! - at[0]!)
    console.log(`rate limit 20/s (burst ${burst}): observed ${observed.toFixed(2)}/s over ${at.length} tasks (${((observed / 20 - 1) * 100).toFixed(1)}%)`)
    expect(Math.abs(observed / 20 - 1)).toBeLessThanOrEqual(0.1)
    await expectNothingLost(100, 80)
  }, 60_000)
})
