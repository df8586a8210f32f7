/**
 * The Redis store on a real local Redis Cluster (3 masters + 3 replicas,
 * `test/support/redisCluster.ts`): the store conformance suite (every
 * script's keys checked against the slot rule), the partition spread over
 * the masters, the reason reads go per slot (CROSSSLOT), connecting with a
 * `Cluster` instance and refused options, and a representative end-to-end
 * set — activities with retries, timers, signals and queries, child
 * workflows, visibility list/count — through `Connection.connect({ redis: { cluster } })`,
 * with the worker and the client on separate connections.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Client, Connection, InvalidArgumentError, Worker } from "hotmesh"
import { Cluster } from "ioredis"
import { storeConformance } from "../../src/sdk/testing/storeConformance.ts"
import { forEachMaster } from "../../src/stores/redis/connection.ts"
import { makeKeys } from "../../src/stores/redis/keys.ts"
import { layerRedis } from "../../src/stores/redis/layer.ts"
import { keySlot } from "../../src/stores/redis/slot.ts"
import { entriesOf, eventually, historyOf, unique } from "../fixtures/e2e-support.ts"
import { useRedisCluster } from "../support/redisCluster.ts"
import * as workflows from "./fixtures/workflows.ts"
import type { RedisTestActivities } from "./fixtures/workflows.ts"

const cluster = await useRedisCluster()
const crossSlot: Array<string> = []
const onScript = (name: string, keys: ReadonlyArray<string>) => {
  if (new Set(keys.map(keySlot)).size > 1) crossSlot.push(name)
}

storeConformance(
  "redis cluster",
  layerRedis({ redis: { cluster: cluster.startupNodes }, namespace: `conf-${process.pid}`, maxDeliveries: 3, onScript }),
  { maxDeliveries: 3, claims: true },
)
storeConformance(
  "redis cluster (4 lanes)",
  layerRedis({ redis: { cluster: cluster.startupNodes }, namespace: `conf-lanes-${process.pid}`, maxDeliveries: 3, lanes: 4, onScript }),
  { maxDeliveries: 3 },
)

describe("the Redis Cluster layout", () => {
  it("every script the conformance suite ran touched one slot", () => {
    expect(crossSlot).toEqual([])
  })

  it("the default 8 partitions sit on 8 distinct slots, spread 3/2/3 over the masters of redis-cli --cluster create", async () => {
    const masters = await cluster.masters()
    expect(masters).toHaveLength(3)
    for (const namespace of ["hotmesh", "default", "shop", "a-much-longer-namespace-name"]) {
      const keys = makeKeys(namespace, 8)
      const slots = Array.from({ length: 8 }, (_, p) => keySlot(keys.tag(p)))
      expect(new Set(slots).size).toBe(8)
      const perMaster = masters.map((m) => slots.filter((s) => m.slots.some(([a, b]) => a <= s && s <= b)).length)
      expect({ namespace, perMaster }).toEqual({ namespace, perMaster: [3, 2, 3] })
    }
    // Any partition count: distinct slots, as even as the count allows over 3 equal ranges.
    for (const partitions of [3, 6, 16, 64]) {
      const keys = makeKeys("hotmesh", partitions)
      const slots = Array.from({ length: partitions }, (_, p) => keySlot(keys.tag(p)))
      expect(new Set(slots).size).toBe(partitions)
      const perMaster = masters.map((m) => slots.filter((s) => m.slots.some(([a, b]) => a <= s && s <= b)).length)
      expect(Math.max(...perMaster) - Math.min(...perMaster)).toBeLessThanOrEqual(1)
    }
  })

  it("a multi-key XREADGROUP over two slots of one master is refused (CROSSSLOT): blocking reads go one per slot", async () => {
    const keys = makeKeys("crossslot", 8)
    const [first] = await cluster.masters()
    const mine = Array.from({ length: 8 }, (_, p) => p).filter((p) => first!.slots.some(([a, b]) => a <= keySlot(keys.tag(p)) && keySlot(keys.tag(p)) <= b))
    expect(mine.length).toBeGreaterThanOrEqual(2)
    const [a, b] = mine.map((p) => keys.stream(p, { kind: "workflow", taskQueue: "x" }))
    for (const key of [a!, b!]) await cluster.cli(first!.port, "XGROUP", "CREATE", key, "g", "0", "MKSTREAM")
    const reply = await cluster.cli(first!.port, "XREADGROUP", "GROUP", "g", "c", "STREAMS", a!, b!, ">", ">")
    expect(reply).toMatch(/CROSSSLOT/)
  })
})

describe("connecting to a Redis Cluster", () => {
  it("accepts an existing ioredis Cluster (left open by close()), and forEachMaster reaches the 3 masters", async () => {
    const own = new Cluster(cluster.startupNodes.map((n) => ({ ...n })))
    try {
      const connection = await Connection.connect({ redis: own, namespace: unique("own") })
      const taskQueue = unique("own")
      const worker = await Worker.create({ connection, taskQueue, workflows, activities: { greet: async (name: string) => `hello ${name}` } })
      const result = await worker.runUntil(() => new Client({ connection }).workflow.execute(workflows.greeting, { taskQueue, workflowId: unique("g"), args: ["own"] }))
      expect(result).toBe("hello own")
      await connection.close()
      expect(own.status).toBe("ready")
      const ports = await forEachMaster(own, async (node) => node.options.port)
      expect(ports.sort()).toEqual((await cluster.masters()).map((m) => m.port).sort())
    } finally {
      own.disconnect()
    }
  })

  it("refuses unknown and unsupported cluster options by name", async () => {
    const refused = async (redis: object) => {
      const error = await Connection.connect({ redis: redis as never, namespace: "x" }).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      return (error as Error).message
    }
    expect(await refused({ cluster: cluster.startupNodes, clustr: 1 })).toMatch(/"clustr"/)
    expect(await refused({ cluster: cluster.startupNodes, scaleReads: "slave" })).toMatch(/scaleReads/)
    expect(await refused({ cluster: cluster.startupNodes, redisOptions: { db: 2 } })).toMatch(/db 2/)
    expect(await refused({ cluster: [] })).toMatch(/non-empty/)
    expect(await refused({ cluster: cluster.startupNodes, durability: 1 })).toMatch(/"durability"/)
    const unreachable = await Connection.connect({ redis: { cluster: [{ host: "127.0.0.1", port: 1 }] }, namespace: "x", connectTimeoutMs: 1_000 }).then(() => undefined, (e: unknown) => e)
    expect((unreachable as { _tag?: string })._tag).toBe("StoreError")
    expect((unreachable as Error).message).toMatch(/cannot connect to cluster 127\.0\.0\.1:1/)
    const durability = await Connection.connect({ redis: { cluster: cluster.startupNodes }, namespace: "x", durability: { replicas: 0, timeoutMs: 100 } }).then(() => undefined, (e: unknown) => e)
    expect(durability).toBeInstanceOf(InvalidArgumentError)
    expect((durability as Error).message).toMatch(/durability.replicas/)
  })
})

describe("workflows on a Redis Cluster (worker and client on separate connections)", () => {
  const namespace = unique("e2e-cluster")
  const taskQueue = unique("q")
  const open: Array<Connection> = []
  let client: Client
  let worker: Worker
  let running: Promise<void>
  const flakyAttempts = new Map<number, number>()
  const activities: Partial<RedisTestActivities> = {
    greet: async (name) => `hello ${name}`,
    flaky: async (failures) => {
      const n = (flakyAttempts.get(failures) ?? 0) + 1
      flakyAttempts.set(failures, n)
      if (n <= failures) throw new Error(`attempt ${n} fails`)
      return n
    },
  }
  beforeAll(async () => {
    const connect = async () => {
      const c = await Connection.connect({ redis: { cluster: cluster.startupNodes }, namespace, logLevel: "Error" })
      open.push(c)
      return c
    }
    worker = await Worker.create({ connection: await connect(), taskQueue, workflows, activities })
    running = worker.run()
    client = new Client({ connection: await connect() })
  })
  afterAll(async () => {
    await worker?.shutdown()
    await running
    await Promise.allSettled(open.map((c) => c.close()))
  })

  it("activities (with retries), timers and children, each on its own partition", async () => {
    const ids = Array.from({ length: 8 }, (_, i) => unique(`wf${i}`))
    const results = await Promise.all([
      ...ids.map((id) => client.workflow.execute(workflows.greeting, { taskQueue, workflowId: id, args: [id] })),
      client.workflow.execute(workflows.retrying, { taskQueue, workflowId: unique("retry"), args: [2] }),
      client.workflow.execute(workflows.sleeper, { taskQueue, workflowId: unique("sleep"), args: ["50ms"] }),
      client.workflow.execute(workflows.parentOf, { taskQueue, workflowId: unique("parent"), args: ["kid"] }),
    ])
    expect(results).toEqual([...ids.map((id) => `hello ${id}`), 3, "woke", "parent got: hello kid"])
    // The ids covered several masters' partitions.
    const keys = makeKeys(namespace, 8)
    const masters = await cluster.masters()
    const used = new Set(ids.map((id) => masters.findIndex((m) => m.slots.some(([a, b]) => a <= keySlot(keys.exec(id)) && keySlot(keys.exec(id)) <= b))))
    expect(used.size).toBeGreaterThan(1)
    const history = await historyOf(client.workflow.getHandle(ids[0]!))
    expect(entriesOf(history, "ActivityCompleted")).toHaveLength(1)
  })

  it("signals and queries", async () => {
    const handle = await client.workflow.start(workflows.approval, { taskQueue, workflowId: unique("approval"), args: [{ timeout: "30s" }] })
    await eventually(async () => ((await handle.query(workflows.status)) === "waiting" ? true : undefined), "the workflow to wait for the signal")
    await handle.signal(workflows.approve, "ada")
    expect(await handle.result()).toBe("approved by ada")
    expect(await handle.query(workflows.status)).toBe("approved")
  })

  it("visibility: list and count across the masters' partitions", async () => {
    const prefix = unique("vis")
    const ids = Array.from({ length: 6 }, (_, i) => `${prefix}-${i}`)
    await Promise.all(ids.map((id) => client.workflow.execute(workflows.greeting, { taskQueue, workflowId: id, args: [id] })))
    const listed: Array<string> = []
    for await (const info of client.workflow.list({ query: `WorkflowType = 'greeting' AND ExecutionStatus = 'Completed'` })) listed.push(info.workflowId)
    expect(listed.filter((id) => id.startsWith(prefix)).sort()).toEqual(ids)
    const counted = await client.workflow.count(`WorkflowType = 'greeting' AND ExecutionStatus = 'Completed'`)
    expect(counted.count).toBe(listed.length)
  })
})
