/**
 * The `hotmesh` Redis Functions library (src/stores/redis/functions.ts)
 * against a real redis-server: loading is idempotent and versioned, the
 * Redis store loads it at start, the functions check their arguments and
 * dead-letter what is not an activity task, and a worker finding an older
 * library (or none) says so.
 */
import { Effect } from "effect"
import { Connection } from "hotmesh"
import { Redis } from "ioredis"
import { afterAll, beforeEach, describe, expect, it } from "vitest"
import { LIBRARY_SOURCE, LIBRARY_VERSION, loadedLibraryVersion, loadFunctions, PROTOCOL_VERSION } from "../../src/stores/redis/functions.ts"
import { eventually } from "../fixtures/e2e-support.ts"
import { startRedis } from "../support/redisServer.ts"
import { startPythonWorker } from "./pythonWorker.ts"

// A private server: these tests flush and replace the server's functions.
const redis = await startRedis({ extraArgs: ["--save", ""] })
const client = new Redis(redis.url)
afterAll(async () => {
  client.disconnect()
  await redis.stop()
})

/** A stand-in `hotmesh` library whose `hotmesh_version` answers `[protocol, library]`. */
const fakeLibrary = (protocol: number, library: number) =>
  `#!lua name=hotmesh\nredis.register_function{function_name = 'hotmesh_version', callback = function() return {${protocol}, ${library}} end, flags = {'no-writes'}}`

const load = () => Effect.runPromise(loadFunctions(client))
const version = () => client.call("FCALL", "hotmesh_version", "0")

beforeEach(async () => {
  await client.call("FUNCTION", "FLUSH")
})

/** Run `fn` on a fresh one-node Redis Cluster (every slot its own) with the library loaded; stop the node after. */
const onClusterNode = async (fn: (node: Redis) => Promise<void>): Promise<void> => {
  const node = await startRedis({ extraArgs: ["--cluster-enabled", "yes"] })
  const c = new Redis(node.url)
  try {
    await c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    await eventually(async () => (String(await c.call("CLUSTER", "INFO")).includes("cluster_state:ok") ? true : undefined), "cluster_state:ok")
    expect((await Effect.runPromise(loadFunctions(c))).outcome).toBe("loaded")
    await fn(c)
  } finally {
    c.disconnect()
    await node.stop()
  }
}

describe("loading the library", () => {
  it("loads it when there is none, then finds it current", async () => {
    expect(await Effect.runPromise(loadedLibraryVersion(client))).toBeUndefined()
    expect(await load()).toEqual({ outcome: "loaded", version: LIBRARY_VERSION })
    expect(await load()).toEqual({ outcome: "current", version: LIBRARY_VERSION })
    expect(await version()).toEqual([PROTOCOL_VERSION, LIBRARY_VERSION])
  })

  it("replaces an older library", async () => {
    await client.call("FUNCTION", "LOAD", fakeLibrary(PROTOCOL_VERSION, LIBRARY_VERSION - 1))
    expect(await load()).toEqual({ outcome: "replaced", version: LIBRARY_VERSION, previous: LIBRARY_VERSION - 1 })
    expect(await version()).toEqual([PROTOCOL_VERSION, LIBRARY_VERSION])
  })

  it("replaces a library named hotmesh that has no version (previous 0)", async () => {
    await client.call("FUNCTION", "LOAD", "#!lua name=hotmesh\nredis.register_function('hotmesh_other', function() return 1 end)")
    expect(await load()).toEqual({ outcome: "replaced", version: LIBRARY_VERSION, previous: 0 })
    expect(await version()).toEqual([PROTOCOL_VERSION, LIBRARY_VERSION])
  })

  it("leaves a newer library alone", async () => {
    await client.call("FUNCTION", "LOAD", fakeLibrary(PROTOCOL_VERSION + 1, LIBRARY_VERSION + 1))
    expect(await load()).toEqual({ outcome: "newer", version: LIBRARY_VERSION, loaded: LIBRARY_VERSION + 1 })
    expect(await version()).toEqual([PROTOCOL_VERSION + 1, LIBRARY_VERSION + 1])
  })

  it("two processes loading at once both succeed, and one library is loaded", async () => {
    const other = new Redis(redis.url)
    try {
      const outcomes = await Promise.all([load(), Effect.runPromise(loadFunctions(other))])
      expect(outcomes.map((o) => o.outcome).sort()).toEqual(expect.arrayContaining(["loaded"]))
      expect(await version()).toEqual([PROTOCOL_VERSION, LIBRARY_VERSION])
    } finally {
      other.disconnect()
    }
  })

  it("the Redis store loads it when it starts", async () => {
    const connection = await Connection.connect({ redis: redis.url, namespace: "fn-start" })
    try {
      expect(await version()).toEqual([PROTOCOL_VERSION, LIBRARY_VERSION])
    } finally {
      await connection.close()
    }
  })

  it("is named hotmesh and shares the store's Lua (the read script's body)", () => {
    expect(LIBRARY_SOURCE.startsWith("#!lua name=hotmesh\n")).toBe(true)
    expect(LIBRARY_SOURCE).toContain("local function body_read(KEYS, ARGV)")
    expect(LIBRARY_SOURCE).toContain("XAUTOCLAIM")
  })
})

describe("the functions", () => {
  const stream = "{fn:p0}:s:activity:q"
  const call = (name: string, ...args: Array<string | number>) => client.call("FCALL", name, "1", stream, ...args.map(String))
  const task = (workflowId: string) =>
    JSON.stringify({
      workflowId, runId: "r1", workflowType: "W", workflowTaskQueue: "wq", seq: 1, attempt: 1,
      activityType: "greet", args: ["\"Ada\"", null], scheduledAt: 1_000, attemptScheduledAt: 1_000,
    })

  beforeEach(async () => {
    await load()
    await client.del(stream, "{fn:p0}:d:activity:q", "{fn:p0}:s:workflow:wq")
  })

  it("refuse a key that is not an activity stream, naming the function", async () => {
    await expect(client.call("FCALL", "hotmesh_claim", "1", "{fn:p0}:s:workflow:q", "me", "1", "1000", "10", "0-0"))
      .rejects.toThrow(/HOTMESH hotmesh_claim: takes one key, an activity stream/)
  })

  it("refuse a result that is not JSON text, and write nothing", async () => {
    await client.xadd(stream, "*", "k", "wf", "b", task("wf"))
    const claimed = (await call("hotmesh_claim", "me", 1, 30_000, 10, "0-0")) as Array<unknown>
    await expect(call("hotmesh_complete", String(claimed[3]), "not json")).rejects.toThrow(/ARGV\[2\] \(result\) must be JSON text/)
    expect(await client.xlen("{fn:p0}:s:workflow:wq")).toBe(0)
  })

  it("claim returns the protocol's task view, and complete builds the internal message", async () => {
    const id = await client.xadd(stream, "*", "k", "wf", "b", task("wf"))
    const claimed = (await call("hotmesh_claim", "me", 5, 30_000, 10, "0-0")) as Array<unknown>
    expect(claimed.slice(1, 5)).toEqual([0, id, id, 1])
    expect(JSON.parse(String(claimed[5]))).toEqual({
      activityType: "greet", args: ["Ada", null], attempt: 1, activityId: "1", workflowId: "wf", runId: "r1",
      workflowType: "W", idempotencyKey: "wf-r1-1", scheduledAt: 1_000, attemptScheduledAt: 1_000,
    })
    expect(await call("hotmesh_complete", id!, "{\"ok\":true}")).toBe(1)
    const [[, fields]] = (await client.xrange("{fn:p0}:s:workflow:wq", "-", "+")) as [[string, Array<string>]]
    expect(fields[1]).toBe("wf")
    expect(JSON.parse(fields[3]!)).toEqual({ type: "ActivityCompleted", runId: "r1", seq: 1, attempt: 1, result: "{\"ok\":true}" })
    expect(await call("hotmesh_complete", id!, "")).toBe(0)
  })

  it("claim dead-letters an entry that is not an activity task, with the reason", async () => {
    await client.xadd(stream, "*", "k", "wf", "b", "{\"not\":\"a task\"}")
    const claimed = (await call("hotmesh_claim", "me", 5, 30_000, 10, "0-0")) as Array<unknown>
    expect(claimed[1]).toBe(1)
    expect(claimed.length).toBe(3)
    const dead = (await client.xrange("{fn:p0}:d:activity:q", "-", "+")) as Array<[string, Array<string>]>
    expect(dead[0]?.[1]).toEqual(expect.arrayContaining(["r", "undecodable: the body is not an activity task"]))
    expect(await client.xlen(stream)).toBe(0)
  })

  it("fail builds an ApplicationFailure with details ('' is no value)", async () => {
    const id = await client.xadd(stream, "*", "k", "wf", "b", task("wf"))
    await call("hotmesh_claim", "me", 1, 30_000, 10, "0-0")
    expect(await call("hotmesh_fail", id!, "CardDeclined", "declined", "1", "", "{\"code\":42}", "")).toBe(1)
    const [[, fields]] = (await client.xrange("{fn:p0}:s:workflow:wq", "-", "+")) as [[string, Array<string>]]
    expect(JSON.parse(fields[3]!)).toEqual({
      type: "ActivityFailed", runId: "r1", seq: 1, attempt: 1,
      failure: { kind: "application", message: "declined", type: "CardDeclined", nonRetryable: true, details: ["{\"code\":42}", null] },
    })
  })

  it("heartbeat reports not wanted when the workflow's record does not wait for the attempt", async () => {
    const id = await client.xadd(stream, "*", "k", "wf", "b", task("wf"))
    await call("hotmesh_claim", "me", 1, 30_000, 10, "0-0")
    expect(await call("hotmesh_heartbeat", id!, 1, "{\"n\":1}")).toEqual([1, 0])
    await client.hset("{fn:p0}:x:wf", "state", JSON.stringify({ status: "RUNNING", runId: "r1", activities: { 1: { attempt: 1, dispatched: true } } }))
    expect(await call("hotmesh_heartbeat", id!, 1, "{\"n\":2}")).toEqual([1, 1])
    // A delivery count that is not the claim's: the claim was lost (reclaimed), not touched.
    expect(await call("hotmesh_heartbeat", id!, 2, "")).toEqual([0, 1])
    const sent = (await client.xrange("{fn:p0}:s:workflow:wq", "-", "+")) as Array<[string, Array<string>]>
    expect(sent.map(([, f]) => JSON.parse(f[3]!))).toEqual([
      { type: "ActivityHeartbeat", runId: "r1", seq: 1, attempt: 1, details: "{\"n\":2}" },
      { type: "ActivityHeartbeat", runId: "r1", seq: 1, attempt: 1 },
    ])
  })
})

describe("the limit functions (protocol 2)", () => {
  const lim = "{fn:q:q}:lim"
  const call = (name: string, ...args: Array<string | number>) => client.call("FCALL", name, "1", lim, ...args.map(String))

  beforeEach(async () => {
    await load()
    await client.del(lim, "{fn:q:q}:lease")
  })

  it("refuse a key that is not a limiter, naming the function", async () => {
    await expect(client.call("FCALL", "hotmesh_acquire", "1", "{fn:p0}:s:activity:q", "me", "1", "1000"))
      .rejects.toThrow(/HOTMESH hotmesh_acquire: takes one key, a task queue limiter/)
    await expect(call("hotmesh_acquire", "me", 0, 1000)).rejects.toThrow(/ARGV\[2\] \(want\) must be >= 1/)
  })

  it("an unlimited queue grants what is asked and counts nothing", async () => {
    expect(await call("hotmesh_acquire", "me", 5, 1000)).toEqual([5, 0, 0])
    expect(await client.exists("{fn:q:q}:lease")).toBe(0)
  })

  it("a paused queue grants nothing and says when to ask again", async () => {
    await client.hset(lim, "paused", "1")
    expect(await call("hotmesh_acquire", "me", 5, 1000)).toEqual([0, 1, 500])
  })

  it("a concurrency grants leases up to the limit; unlease frees them, renew extends the live ones", async () => {
    await client.hset(lim, "concurrency", "2")
    expect(await call("hotmesh_acquire", "me", 5, 30_000)).toEqual([2, 1, 0, "me:1", "me:2"])
    expect(await call("hotmesh_acquire", "you", 1, 30_000)).toEqual([0, 1, 50])
    expect(await call("hotmesh_renew", 30_000, "me:1", "me:9")).toBe(1)
    expect(await call("hotmesh_unlease", 0, "me:1")).toBe(1)
    expect(await call("hotmesh_acquire", "you", 3, 30_000)).toEqual([1, 1, 0, "you:3"])
  })

  it("a rate takes whole tokens; unused ones go back", async () => {
    await client.hset(lim, "rate", "0.001", "burst", "3")
    expect(await call("hotmesh_acquire", "me", 5, 1000)).toEqual([3, 1, 0])
    expect(await call("hotmesh_unlease", 2)).toBe(1)
    expect(await call("hotmesh_acquire", "me", 5, 1000)).toEqual([2, 1, 0])
    const [granted, limited, retry] = (await call("hotmesh_acquire", "me", 1, 1000)) as Array<number>
    expect([granted, limited]).toEqual([0, 1])
    expect(retry).toBeGreaterThan(0)
  })

  it("on a Redis Cluster node they touch only their key's slot", async () => {
    await onClusterNode(async (c) => {
      await c.hset("{cl:q:q}:lim", "concurrency", "1", "rate", "100")
      expect(await c.call("FCALL", "hotmesh_acquire", "1", "{cl:q:q}:lim", "me", "2", "30000")).toEqual([1, 1, 0, "me:1"])
      expect(await c.call("FCALL", "hotmesh_renew", "1", "{cl:q:q}:lim", "30000", "me:1")).toBe(1)
      expect(await c.call("FCALL", "hotmesh_unlease", "1", "{cl:q:q}:lim", "1", "me:1")).toBe(1)
    })
  })
})

describe("on a Redis Cluster node (slot checks on)", () => {
  it("claim, heartbeat and complete touch only their key's slot", async () => {
    await onClusterNode(async (c) => {
      const stream = "{cl:p3}:s:activity:q"
      const body = JSON.stringify({
        workflowId: "wf", runId: "r1", workflowType: "W", workflowTaskQueue: "wq", seq: 2, attempt: 1, activityType: "greet", args: [], scheduledAt: 1,
      })
      const id = await c.xadd(stream, "*", "k", "wf", "b", body)
      await c.hset("{cl:p3}:x:wf", "state", JSON.stringify({ status: "RUNNING", runId: "r1", activities: { 2: { attempt: 1, dispatched: true } } }))
      const claimed = (await c.call("FCALL", "hotmesh_claim", "1", stream, "me", "1", "30000", "10", "0-0")) as Array<unknown>
      expect(JSON.parse(String(claimed[5])).args).toEqual([])
      expect(await c.call("FCALL", "hotmesh_heartbeat", "1", stream, id!, "1", "")).toEqual([1, 1])
      expect(await c.call("FCALL", "hotmesh_complete", "1", stream, id!, "")).toBe(1)
      expect(await c.xlen("{cl:p3}:s:workflow:wq")).toBe(2)
    })
  })
})

describe("a worker that finds an older library, or none", () => {
  it("the Python worker exits saying the library is older than it", async () => {
    await client.call("FUNCTION", "LOAD", fakeLibrary(PROTOCOL_VERSION - 1, 1))
    await client.hset("{old}:config", "partitions", "1")
    await expect(startPythonWorker({ redisUrl: redis.url, namespace: "old", taskQueue: "q" }))
      .rejects.toThrow(new RegExp(`exited \\(2\\)[\\s\\S]*older \\(protocol ${PROTOCOL_VERSION - 1}, library 1\\) than this worker \\(protocol ${PROTOCOL_VERSION}\\)`))
  })

  it("the Python worker exits saying the library is not loaded", async () => {
    await expect(startPythonWorker({ redisUrl: redis.url, namespace: "old", taskQueue: "q" }))
      .rejects.toThrow(/exited \(2\)[\s\S]*the hotmesh function library is not loaded/)
  })
})
