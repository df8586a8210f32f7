/**
 * The Python reference worker (workers/python) serving activities that only
 * it implements, for TypeScript workflows run by a Node worker, against a
 * real redis-server: everything goes through the `hotmesh` Redis Functions
 * library (docs/protocol.md).
 */
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as workflows from "./fixtures/workflows.ts"
import { LIMITED_QUEUE, PYTHON_QUEUE } from "./fixtures/workflows.ts"
import { type PythonWorker, startPythonWorker } from "./pythonWorker.ts"

const redis = await useRedis()
const namespace = `py-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
/** Short, so the SIGKILL test's reclaim comes quickly; heartbeats and touches keep live claims. */
const visibilityTimeoutMs = 1500
const taskQueue = "py-workflows"

let connection: Connection
let worker: Worker
let running: Promise<void>
let client: Client
let markers: Redis
const pythons = new Set<PythonWorker>()

const python = async (consumer?: string) => {
  const started = await startPythonWorker({
    redisUrl: redis.url,
    namespace,
    taskQueue: PYTHON_QUEUE,
    visibilityTimeoutMs,
    ...(consumer === undefined ? {} : { consumer }),
  })
  pythons.add(started)
  return started
}

/** Wait for the next value an activity pushed on `key` (BLPOP; fails the test after 20 s). */
const marker = async (key: string): Promise<string> => {
  const got = await markers.blpop(key, 20)
  if (got === null) throw new Error(`no marker on ${key} within 20 s`)
  return got[1]
}

/** A task queue's activity streams, one per partition, named by the partitions' hash tags (docs/protocol.md, "Keys"). */
const activityStreams = async (queue: string): Promise<Array<string>> =>
  (await markers.hget(`{${namespace}}:config`, "tags"))!.split(" ").map((tag) => `${tag}:s:activity:${queue}`)

const run = (workflow: (...args: Array<any>) => Promise<unknown>, args: Array<unknown>) =>
  client.workflow.execute(workflow, { taskQueue, workflowId: unique(workflow.name), args })

beforeAll(async () => {
  connection = await Connection.connect({ redis: redis.url, namespace, visibilityTimeoutMs })
  worker = await Worker.create({ connection, taskQueue, workflows })
  running = worker.run()
  client = new Client({ connection })
  markers = new Redis(redis.url)
})

afterAll(async () => {
  await Promise.all([...pythons].map((p) => p.kill()))
  await worker?.shutdown()
  await running
  await connection?.close()
  markers?.disconnect()
})

describe("the Python worker serves TypeScript workflows", () => {
  let served: PythonWorker
  beforeAll(async () => {
    served = await python()
  })
  afterAll(async () => {
    expect(await served.stop()).toBe(0)
  })

  it("an activity succeeds", async () => {
    expect(await run(workflows.pyGreet, ["Ada"])).toBe("Hello, Ada (from Python)")
  })

  it("a retryable failure is retried and succeeds on a later attempt", async () => {
    expect(await run(workflows.pyFlaky, [2])).toBe(3)
  })

  it("a non-retryable failure surfaces as ActivityFailure caused by ApplicationFailure", async () => {
    expect(await run(workflows.pyDecline, ["card declined"])).toEqual({
      outer: "ActivityFailure",
      cause: "ApplicationFailure",
      type: "CardDeclined",
      message: "card declined",
      nonRetryable: true,
      details: [{ code: 42 }],
    })
  })

  it("heartbeat details reach the workflow and the next attempt", async () => {
    expect(await run(workflows.pyResume, [{ done: 3, of: 10 }])).toEqual({ attempt: 2, resumedFrom: { done: 3, of: 10 } })
  })

  it("a cancelled activity learns it through its heartbeats", async () => {
    const key = unique("cancel")
    const handle = await client.workflow.start(workflows.pyCancel, { taskQueue, workflowId: unique("pyCancel"), args: [key] })
    expect(await marker(`${key}:started`)).toBe("1")
    await handle.signal(workflows.stop)
    expect(await handle.result()).toBe("activity cancelled")
    // The activity saw the cancellation in a heartbeat reply, after at least one heartbeat.
    expect(Number(await marker(`${key}:cancelled`))).toBeGreaterThanOrEqual(1)
  })
})

describe("lanes (protocol 3): the Python worker reads every lane of every partition", () => {
  it("serves workflow types whose tasks wait in lane 3 and in lane 0 of a 4-lane namespace", async () => {
    const laned = `${namespace}-lanes`
    const laneConnection = await Connection.connect({ redis: redis.url, namespace: laned, visibilityTimeoutMs, lanes: 4 })
    const laneWorker = await Worker.create({ connection: laneConnection, taskQueue, workflows })
    const laneRunning = laneWorker.run()
    try {
      const served = await startPythonWorker({ redisUrl: redis.url, namespace: laned, taskQueue: PYTHON_QUEUE, visibilityTimeoutMs })
      pythons.add(served)
      expect(served.log()).toMatch(/8 partitions, 4 lanes/)
      const laneClient = new Client({ connection: laneConnection })
      // pyGreet's tasks go to lane 3 (fnv1a32 % 4), pyDecline's to lane 0.
      const [greeted, declined] = await Promise.all([
        laneClient.workflow.execute(workflows.pyGreet, { taskQueue, workflowId: unique("pyGreet"), args: ["Lane"] }),
        laneClient.workflow.execute(workflows.pyDecline, { taskQueue, workflowId: unique("pyDecline"), args: ["no"] }),
      ])
      expect(greeted).toBe("Hello, Lane (from Python)")
      expect(declined).toMatchObject({ outer: "ActivityFailure", type: "CardDeclined" })
      const added = async (lane: number) => {
        let sum = 0
        for (const tag of (await markers.hget(`{${laned}}:config`, "tags"))!.split(" ")) {
          const key = lane === 0 ? `${tag}:s:activity:${PYTHON_QUEUE}` : `${tag}:s:activity#${lane}:${PYTHON_QUEUE}`
          const info = (await markers.call("XINFO", "STREAM", key).catch(() => [])) as Array<unknown>
          sum += Number(info[info.indexOf("entries-added") + 1] ?? 0)
        }
        return sum
      }
      expect(await added(3)).toBe(1)
      expect(await added(0)).toBe(1)
      expect(await served.stop()).toBe(0)
    } finally {
      await laneWorker.shutdown()
      await laneRunning
      await laneConnection.close()
    }
  })
})

describe("a Python worker SIGKILLed mid-task", () => {
  it("leaves the task pending; another worker reclaims it after the visibility timeout", async () => {
    const doomed = await python("py-doomed")
    const key = unique("stall")
    const handle = await client.workflow.start(workflows.pyStall, { taskQueue, workflowId: unique("pyStall"), args: [key] })
    expect(await marker(`${key}:started`)).toBe("1")
    await doomed.kill()
    const survivor = await python("py-survivor")
    // Same attempt (no retry: startToClose is a minute), second delivery.
    expect(await handle.result()).toBe("reclaimed: attempt 1, delivery 2")
    expect(await marker(`${key}:started`)).toBe("2")
    expect(await survivor.stop()).toBe(0)
  })
})

describe("a Python worker stopped with SIGTERM", () => {
  it("gives its running task back for immediate re-delivery, uncounted", async () => {
    const stopped = await python("py-stopped")
    const key = unique("stop")
    const handle = await client.workflow.start(workflows.pyStall, { taskQueue, workflowId: unique("pyStall"), args: [key] })
    expect(await marker(`${key}:started`)).toBe("1")
    expect(await stopped.stop()).toBe(0)
    const pending = await Promise.all((await activityStreams(PYTHON_QUEUE)).map((stream) =>
      markers.xpending(stream, "hotmesh", "-", "+", 10).catch(() => [])))
    // Parked on the released-messages consumer, idle since the epoch, its delivery not counted.
    expect(pending.flat().map((entry) => (entry as Array<unknown>).slice(1, 2).concat((entry as Array<unknown>)[3]))).toEqual([["hotmesh:released", 0]])
    await handle.terminate("test over")
  })
})

describe("a task queue's limits bind Python workers too (protocol 2: hotmesh_acquire)", () => {
  const markerKey = unique("py-limits")
  const limits = () => client.taskQueue(LIMITED_QUEUE)
  const pythonPids: Array<number> = []
  /** Activity tasks waiting or running on the limited queue, over every partition. */
  const queued = async () =>
    (await Promise.all((await activityStreams(LIMITED_QUEUE)).map((stream) => markers.xlen(stream)))).reduce((a, b) => a + b, 0)
  const start = (i: number) => client.workflow.start(workflows.pyWork, { taskQueue, workflowId: unique("pyWork"), args: [i] })

  beforeAll(async () => {
    // Set before any worker of the queue polls, so none ever sees it unlimited.
    await limits().setLimits({ concurrency: 3 })
    await limits().pause()
    for (const consumer of ["py-limited-1", "py-limited-2"]) {
      const started = await startPythonWorker({
        redisUrl: redis.url, namespace, taskQueue: LIMITED_QUEUE, visibilityTimeoutMs, consumer, concurrency: 5,
        env: { TEST_MARKER_KEY: markerKey, TEST_HOLD_MS: "50" },
      })
      pythons.add(started)
      pythonPids.push(started.process.pid!)
    }
  })

  it("a paused queue gives them nothing until it is resumed", async () => {
    const handles = await Promise.all([0, 1, 2, 3].map(start))
    await eventually(async () => ((await queued()) === 4 ? true : undefined), "four activity tasks on the paused queue")
    // Watched for 1.5 s: three times the 500 ms after which a worker asks a paused queue again.
    expect(await markers.blpop(markerKey, 1.5)).toBeNull()
    expect(await queued()).toBe(4)
    await limits().resume()
    expect(await Promise.all(handles.map((h) => h.result()))).toEqual([0, 1, 2, 3])
    expect(await markers.llen(markerKey)).toBe(4)
  })

  it("a concurrency of 3 is never exceeded by two Python workers and a Node worker together", async () => {
    await markers.del(markerKey, `${markerKey}:max`)
    const nodeWorker = await Worker.create({
      connection,
      taskQueue: LIMITED_QUEUE,
      maxConcurrentActivityTaskExecutions: 5,
      activities: {
        async work(i: number) {
          await markers.eval(START, 3, `${markerKey}:inflight`, `${markerKey}:max`, markerKey, i, process.pid)
          await new Promise((resolve) => setTimeout(resolve, 50))
          await markers.decr(`${markerKey}:inflight`)
          return i
        },
      },
    })
    const nodeRunning = nodeWorker.run()
    try {
      const n = 30
      const handles = await Promise.all(Array.from({ length: n }, (_, i) => start(i)))
      expect(await Promise.all(handles.map((h) => h.result()))).toEqual(Array.from({ length: n }, (_, i) => i))
      const starts = (await markers.lrange(markerKey, 0, -1)).map((line) => JSON.parse(line) as { i: number; pid: number; inflight: number })
      expect(starts.map((s) => s.i).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
      const max = Number(await markers.get(`${markerKey}:max`))
      expect(max).toBeLessThanOrEqual(3)
      expect(max).toBeGreaterThanOrEqual(2)
      expect(starts.some((s) => pythonPids.includes(s.pid))).toBe(true)
      expect(new Set(starts.map((s) => s.pid)).size).toBeGreaterThanOrEqual(2)
    } finally {
      await nodeWorker.shutdown()
      await nodeRunning
    }
  })
})

/** The activity's start, counted atomically (as py_activities.py's `work`). */
const START = `
local n = redis.call('INCR', KEYS[1])
if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end
redis.call('RPUSH', KEYS[3], cjson.encode({i = tonumber(ARGV[1]), pid = tonumber(ARGV[2]), inflight = n}))
return n
`
