/**
 * Workers in separate processes, cooperating through Redis only, and dying
 * (or stalling) in the middle of an activity.
 *
 * The doomed worker is a child process (fixtures/crash-worker.ts) whose
 * activity writes a marker to a Redis list, then blocks. The test waits for
 * the marker (polling Redis with a deadline), kills or freezes the process,
 * and lets another worker take over: the activity task is re-delivered after
 * the visibility timeout (500 ms here), so the activity runs twice
 * (at-least-once) — but its completion is recorded exactly once.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { Client, Connection, Store, Worker } from "hotmesh"
import { Context } from "hotmesh/activity"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { entriesOf, eventually, historyOf, unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as workflows from "./fixtures/workflows.ts"
import type { RedisTestActivities } from "./fixtures/workflows.ts"

const VISIBILITY_TIMEOUT_MS = 500
const repoRoot = fileURLToPath(new URL("../..", import.meta.url))
const fixture = fileURLToPath(new URL("./fixtures/crash-worker.ts", import.meta.url))

const redis = await useRedis()
const namespace = `mp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const admin = new Redis(redis.url)

let connection: Connection
let client: Client
const children = new Set<ChildProcess>()
beforeAll(async () => {
  connection = await Connection.connect({ redis: redis.url, namespace, visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS })
  client = new Client({ connection })
})
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  await connection?.close()
  admin.disconnect()
})

interface Marker {
  readonly event: "started" | "completed"
  readonly pid: number
  readonly at: number
  readonly attempt?: number
}

/** A worker process: `hang` blocks in the activity, `finish` returns at once, `wait` returns once `releaseKey` gets an item. */
const spawnWorker = (options: { readonly taskQueue: string; readonly markerKey: string; readonly mode: "hang" | "finish" | "wait"; readonly releaseKey?: string }) => {
  const child = spawn(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", fixture], {
    cwd: repoRoot,
    env: {
      ...process.env,
      HOTMESH_REDIS_URL: redis.url,
      HOTMESH_NAMESPACE: namespace,
      HOTMESH_TASK_QUEUE: options.taskQueue,
      HOTMESH_VISIBILITY_MS: String(VISIBILITY_TIMEOUT_MS),
      HOTMESH_MARKER_KEY: options.markerKey,
      HOTMESH_MODE: options.mode,
      ...(options.releaseKey === undefined ? {} : { HOTMESH_RELEASE_KEY: options.releaseKey }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  })
  children.add(child)
  let output = ""
  child.stdout!.on("data", (chunk) => void (output += chunk))
  child.stderr!.on("data", (chunk) => void (output += chunk))
  const exited = new Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })))
  return {
    pid: child.pid!,
    kill: (signal: NodeJS.Signals) => child.kill(signal),
    exited,
    get running() {
      return child.exitCode === null && child.signalCode === null
    },
    get output() {
      return output
    },
  }
}
type WorkerProcess = ReturnType<typeof spawnWorker>

const markersOf = async (key: string): Promise<Array<Marker>> => (await admin.lrange(key, 0, -1)).map((line) => JSON.parse(line) as Marker)

/**
 * Poll the marker list until `probe` accepts it (deadline `ms`); fail early,
 * with the process's output, if `process` exits meanwhile.
 */
const waitForMarkers = <T>(key: string, probe: (markers: Array<Marker>) => T | undefined, what: string, process?: WorkerProcess, ms = 30_000): Promise<T> =>
  eventually(async () => {
    const value = probe(await markersOf(key))
    if (value === undefined && process !== undefined && !process.running) {
      throw new Error(`worker process ${process.pid} exited while waiting for ${what}:\n${process.output}`)
    }
    return value
  }, what, ms)

/** An activity worker in this process: `crashy` marks that it started (pid, attempt) and returns. */
const localWorker = (taskQueue: string, markerKey: string) => {
  const activities: Partial<RedisTestActivities> = {
    async crashy(input) {
      const { attempt } = Context.current().info
      await admin.rpush(markerKey, JSON.stringify({ event: "started", pid: process.pid, attempt, at: Date.now() }))
      return `${input} done by ${process.pid}`
    },
  }
  return Worker.create({ connection, taskQueue, workflows, activities })
}

const deadLetters = (taskQueue: string) =>
  connection.run(
    Effect.gen(function*() {
      const store = yield* Store
      return [
        ...(yield* store.deadLetters({ kind: "activity", taskQueue })),
        ...(yield* store.deadLetters({ kind: "workflow", taskQueue })),
      ]
    }),
  )

const started = (markers: Array<Marker>) => markers.filter((m) => m.event === "started")

/** The history facts every scenario checks: one activity, scheduled once, completed once, never retried. */
const expectCompletedOnce = async (workflowId: string, result: string) => {
  const history = await historyOf(client.workflow.getHandle(workflowId))
  expect(entriesOf(history, "ActivityScheduled")).toHaveLength(1)
  const completed = entriesOf(history, "ActivityCompleted")
  expect(completed).toHaveLength(1)
  expect(JSON.parse(completed[0]!.result!)).toBe(result.replace("workflow got: ", ""))
  expect(entriesOf(history, "ActivityRetrying")).toHaveLength(0)
  expect(entriesOf(history, "ActivityFailed")).toHaveLength(0)
  expect(entriesOf(history, "WorkflowCompleted")).toHaveLength(1)
}

describe("a worker process dies in the middle of an activity", () => {
  it("SIGKILL: a worker in this process re-runs the activity after the visibility timeout and finishes the workflow", async () => {
    const taskQueue = unique("mp-kill")
    const markerKey = unique("markers")
    const workflowId = unique("crash")
    const doomed = spawnWorker({ taskQueue, markerKey, mode: "hang" })
    const handle = await client.workflow.start(workflows.crashTest, { taskQueue, workflowId, args: ["order-1"] })

    const [first] = await waitForMarkers(markerKey, (m) => (started(m).length > 0 ? started(m) : undefined), "the activity to start in the child", doomed)
    expect(first).toMatchObject({ pid: doomed.pid, attempt: 1 })
    doomed.kill("SIGKILL")
    expect(await doomed.exited).toEqual({ code: null, signal: "SIGKILL" })

    const rescuer = await localWorker(taskQueue, markerKey)
    const result = await rescuer.runUntil(() => handle.result())
    expect(result).toBe(`workflow got: order-1 done by ${process.pid}`)

    const runs = started(await markersOf(markerKey))
    // At least once: the same attempt ran twice, in two processes (a re-delivery, not a retry)...
    expect(runs.map((m) => [m.pid, m.attempt])).toEqual([[doomed.pid, 1], [process.pid, 1]])
    // ...and only after the dead worker's claim expired.
    expect(runs[1]!.at - runs[0]!.at).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_MS - 100)
    // Exactly once in the history, nothing dead-lettered.
    await expectCompletedOnce(workflowId, result)
    expect(await deadLetters(taskQueue)).toEqual([])
  })

  it("SIGKILL: another worker process finishes the workflow", async () => {
    const taskQueue = unique("mp-kill2")
    const markerKey = unique("markers")
    const workflowId = unique("crash")
    const doomed = spawnWorker({ taskQueue, markerKey, mode: "hang" })
    const handle = await client.workflow.start(workflows.crashTest, { taskQueue, workflowId, args: ["order-2"] })
    await waitForMarkers(markerKey, (m) => (started(m).length > 0 ? true : undefined), "the activity to start in the first child", doomed)
    doomed.kill("SIGKILL")
    await doomed.exited

    const rescuer = spawnWorker({ taskQueue, markerKey, mode: "finish" })
    try {
      const result = await handle.result()
      expect(result).toBe(`workflow got: order-2 done by ${rescuer.pid}`)
      const runs = started(await markersOf(markerKey))
      expect(runs.map((m) => [m.pid, m.attempt])).toEqual([[doomed.pid, 1], [rescuer.pid, 1]])
      await expectCompletedOnce(workflowId, result)
      expect(await deadLetters(taskQueue)).toEqual([])
    } finally {
      // A clean shutdown on SIGTERM.
      rescuer.kill("SIGTERM")
      const exit = await rescuer.exited
      expect(exit, rescuer.output).toEqual({ code: 0, signal: null })
    }
  })

  it("SIGSTOP: a frozen worker whose claim expired completes late; the completion is still recorded once", async () => {
    const taskQueue = unique("mp-stop")
    const markerKey = unique("markers")
    const releaseKey = unique("release")
    const workflowId = unique("frozen")
    const frozen = spawnWorker({ taskQueue, markerKey, mode: "wait", releaseKey })
    try {
      const handle = await client.workflow.start(workflows.crashTest, { taskQueue, workflowId, args: ["order-3"] })
      await waitForMarkers(markerKey, (m) => (started(m).length > 0 ? true : undefined), "the activity to start in the child", frozen)
      frozen.kill("SIGSTOP")

      const rescuer = await localWorker(taskQueue, markerKey)
      const result = await rescuer.runUntil(() => handle.result())
      expect(result).toBe(`workflow got: order-3 done by ${process.pid}`)

      // Thaw the frozen worker and let its activity return: it completes a task another worker already completed.
      frozen.kill("SIGCONT")
      await admin.lpush(releaseKey, "go")
      await waitForMarkers(markerKey, (m) => (m.some((x) => x.event === "completed" && x.pid === frozen.pid) ? true : undefined), "the late completion", frozen)

      const runs = started(await markersOf(markerKey))
      expect(runs.map((m) => [m.pid, m.attempt])).toEqual([[frozen.pid, 1], [process.pid, 1]])
      await expectCompletedOnce(workflowId, result)
      expect((await handle.describe()).status).toBe("COMPLETED")
      expect(await deadLetters(taskQueue)).toEqual([])

      frozen.kill("SIGTERM")
      expect(await frozen.exited, frozen.output).toEqual({ code: 0, signal: null })
    } finally {
      if (frozen.running) {
        frozen.kill("SIGCONT")
        frozen.kill("SIGKILL")
      }
    }
  })
})
