/**
 * Interceptors, as a Temporal user writes them: client interceptors add
 * headers to the start, signals and queries; a workflow interceptors module
 * carries the start's header to activities, children and continue-as-new;
 * an activity interceptor reads it. On both stores, and with no cached runs
 * (every step replays: the interceptors' effect is the same on replay).
 */
import { fileURLToPath } from "node:url"
import {
  type ActivityInterceptorsFactory,
  Client,
  Connection,
  defaultPayloadConverter,
  DefaultLogger,
  InvalidArgumentError,
  type LogEntry,
  Runtime,
  Worker,
  type WorkflowClientInterceptor,
  WorkflowNotFoundError,
} from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "../support/redisServer.ts"
import * as activities from "./activities/interceptors.ts"
import { ping, tenantChild, tenantGreeting } from "./workflows/interceptors.ts"

const workflowsPath = fileURLToPath(new URL("./workflows/interceptors.ts", import.meta.url))
const interceptorsModule = fileURLToPath(new URL("./workflows/interceptors-module.ts", import.meta.url))
const { toPayload, fromPayload } = defaultPayloadConverter

const tenantHeader: WorkflowClientInterceptor = {
  start: (input, next) => next({ ...input, headers: { ...input.headers, tenant: toPayload("acme") } }),
  signal: (input, next) => next({ ...input, headers: { ...input.headers, signaller: toPayload("ops") } }),
  query: (input, next) => next({ ...input, headers: { ...input.headers, caller: toPayload("dashboard") } }),
}

const activityTenant: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const tenant = input.headers.tenant === undefined ? "none" : fromPayload<string>(input.headers.tenant)
      return `${String(await next(input))} (tenant ${tenant}, ${ctx.info.activityType})`
    },
  },
})

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

const redis = await useRedis()

const setups = [
  { name: "memory", redis: false, maxCachedWorkflows: undefined },
  { name: "memory, every step replayed", redis: false, maxCachedWorkflows: 0 },
  { name: "redis", redis: true, maxCachedWorkflows: undefined },
] as const

describe.each(setups)("interceptors ($name)", (setup) => {
  const namespace = `icp-${Math.random().toString(36).slice(2, 8)}`
  let connection: Connection
  let client: Client
  let worker: Worker
  let running: Promise<void>
  const entries: Array<LogEntry> = []
  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger("INFO", (entry) => entries.push(entry)) })
    connection = await Connection.connect(setup.redis ? { redis: redis.url, namespace } : { namespace })
    client = new Client({ connection, interceptors: { workflow: [tenantHeader] } })
    worker = await Worker.create({
      connection,
      taskQueue: "icp",
      workflowsPath,
      activities,
      interceptors: { workflowModules: [interceptorsModule], activity: [activityTenant] },
      ...(setup.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: setup.maxCachedWorkflows }),
    })
    running = worker.run()
  })
  afterAll(async () => {
    await worker.shutdown()
    await running
    await connection.close()
    Runtime.install()
  })

  it("carries the start's headers to the activity, the child and the next run; signal and query headers reach the workflow's interceptors", async () => {
    const handle = await client.workflow.start(tenantGreeting, { taskQueue: "icp", workflowId: `greet-${namespace}`, args: ["Ada"] })
    expect(await eventually(() => handle.query<string>("__caller"))).toBe("dashboard")
    await handle.signal(ping, "sender")
    expect(await handle.result()).toEqual({
      tenant: "acme",
      result: {
        greeting: "Hello, Ada (tenant acme, greet)",
        child: { tenant: "acme", result: "child" },
        signalledBy: "ops",
      },
    })
    // getLogAttributes tags the workflow's log lines (once each, though replayed).
    expect(entries.filter((entry) => entry.message === "greeted" && entry.meta?.["workflowId"] === handle.workflowId)).toEqual([
      expect.objectContaining({ meta: expect.objectContaining({ name: "Ada", tenant: "acme" }) }),
    ])
    // The recorded history replays with the same interceptors.
    const history = await handle.fetchHistory()
    await Worker.runReplayHistory({ workflowsPath, interceptors: { workflowModules: [interceptorsModule] } }, history)
  })

  it("a client interceptor that throws stops the start: nothing is started", async () => {
    const refusing = new Client({ connection, interceptors: { workflow: [{ start: () => Promise.reject(new Error("quota exceeded")) }] } })
    const workflowId = `refused-${namespace}`
    await expect(refusing.workflow.start(tenantGreeting, { taskQueue: "icp", workflowId, args: ["Bob"] })).rejects.toThrow("quota exceeded")
    await expect(client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError)
  })

  it("a header that is not a payload is rejected at the call", async () => {
    const bad = new Client({ connection, interceptors: { workflow: [{ start: (input, next) => next({ ...input, headers: { tenant: 42 as unknown as string } }) }] } })
    await expect(bad.workflow.start(tenantGreeting, { taskQueue: "icp", workflowId: `bad-${namespace}`, args: ["Cy"] })).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe("interceptor options", () => {
  it("a workflow module without an `interceptors` export is rejected by Worker.create", async () => {
    await expect(Worker.create({ taskQueue: "icp-bad", workflowsPath, interceptors: { workflowModules: [workflowsPath] } })).rejects.toThrow(/must export an `interceptors` function/)
  })
  it("Temporal's options HotMesh does not take are named", async () => {
    await expect(Worker.create({ taskQueue: "icp-bad", workflowsPath, interceptors: { activityInbound: [] } as never })).rejects.toThrow(/activityInbound/)
    expect(() => new Client({ interceptors: { schedule: [] } as never })).toThrow(/schedule/)
  })
})
