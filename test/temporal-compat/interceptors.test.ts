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
import { BACKENDS_AND_REPLAY, eventually, useMesh } from "../fixtures/e2e-support.ts"
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

const redis = await useRedis()

describe.each(BACKENDS_AND_REPLAY)("interceptors ($name)", (setup) => {
  const entries: Array<LogEntry> = []
  // Registered before the mesh: the logger is installed before its workers start and reset after they stop.
  beforeAll(() => {
    Runtime.install({ logger: new DefaultLogger("INFO", (entry) => entries.push(entry)) })
  })
  afterAll(() => {
    Runtime.install()
  })
  const mesh = useMesh({
    backend: setup.backend,
    redis,
    prefix: "icp",
    client: { interceptors: { workflow: [tenantHeader] } },
    workers: {
      taskQueue: "icp",
      workflowsPath,
      activities,
      interceptors: { workflowModules: [interceptorsModule], activity: [activityTenant] },
      ...setup.worker,
    },
  })

  it("carries the start's headers to the activity, the child and the next run; signal and query headers reach the workflow's interceptors", async () => {
    const handle = await mesh.client.workflow.start(tenantGreeting, { taskQueue: "icp", workflowId: `greet-${mesh.namespace}`, args: ["Ada"] })
    expect(await eventually(() => handle.query<string>("__caller").catch(() => undefined), "the run to answer queries")).toBe("dashboard")
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
    const refusing = new Client({ connection: mesh.connection, interceptors: { workflow: [{ start: () => Promise.reject(new Error("quota exceeded")) }] } })
    const workflowId = `refused-${mesh.namespace}`
    await expect(refusing.workflow.start(tenantGreeting, { taskQueue: "icp", workflowId, args: ["Bob"] })).rejects.toThrow("quota exceeded")
    await expect(mesh.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError)
  })

  it("a header that is not a payload is rejected at the call", async () => {
    const bad = new Client({ connection: mesh.connection, interceptors: { workflow: [{ start: (input, next) => next({ ...input, headers: { tenant: 42 as unknown as string } }) }] } })
    await expect(bad.workflow.start(tenantGreeting, { taskQueue: "icp", workflowId: `bad-${mesh.namespace}`, args: ["Cy"] })).rejects.toBeInstanceOf(InvalidArgumentError)
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
