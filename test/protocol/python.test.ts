/**
 * The Python reference worker (workers/python) serving activities that only
 * it implements, for TypeScript workflows run by a Node worker, against a
 * real redis-server: everything goes through the `hotmesh` Redis Functions
 * library (docs/protocol.md).
 */
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as workflows from "./fixtures/workflows.ts"
import { PYTHON_QUEUE } from "./fixtures/workflows.ts"
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
    const pending = await Promise.all(Array.from({ length: 8 }, (_, p) =>
      markers.xpending(`{${namespace}:p${p}}:s:activity:${PYTHON_QUEUE}`, "hotmesh", "-", "+", 10).catch(() => [])))
    // Parked on the released-messages consumer, idle since the epoch, its delivery not counted.
    expect(pending.flat().map((entry) => (entry as Array<unknown>).slice(1, 2).concat((entry as Array<unknown>)[3]))).toEqual([["hotmesh:released", 0]])
    await handle.terminate("test over")
  })
})
