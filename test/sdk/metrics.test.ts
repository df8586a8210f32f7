/**
 * `connection.metrics()`: Prometheus text whose counters move as workflows
 * run — durable steps, workflow-task and activity latencies, an activity
 * failure and its retry, timers, cache hits, a dead letter, a commit
 * conflict and a store error (both injected by a wrapping store) — and
 * whose gauges are read from the store on scrape. On both stores.
 */
import { Effect, Layer } from "effect"
import { Connection, InvalidArgumentError, Store, StoreError, CommitConflict, type StoreShape, Worker, Client } from "hotmesh"
import { proxyActivities, sleep } from "hotmesh/workflow"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeMemoryStore } from "../../src/stores/memory.ts"
import { makeRedisStore } from "../../src/stores/redis/layer.ts"
import { useRedis } from "../support/redisServer.ts"

const activities = {
  attempts: 0,
  async flaky(n: number): Promise<number> {
    if (++activities.attempts === 1) throw new Error("first attempt fails")
    return n + 1
  },
  async steady(n: number): Promise<number> {
    return n * 10
  },
}

export async function metered(n: number): Promise<number> {
  const { flaky, steady } = proxyActivities<Pick<typeof activities, "flaky" | "steady">>({ startToCloseTimeout: "10 seconds", retry: { initialInterval: "10 ms" } })
  const a = await flaky(n)
  await sleep("20 ms")
  return a + (await steady(n))
}

/** The first worker commit fails with a store error, the second loses a version race (neither reaches the store). */
const injecting = (store: StoreShape): StoreShape => {
  let workerCommits = 0
  return {
    ...store,
    commit: (commit) => {
      if (commit.ack === undefined) return store.commit(commit)
      workerCommits++
      if (workerCommits === 1) return Effect.fail(new StoreError({ operation: "commit", message: "injected store error" }))
      if (workerCommits === 2) return Effect.fail(new CommitConflict({ key: commit.key, expectedVersion: commit.expectedVersion, actualVersion: commit.expectedVersion + 1, reason: "version" }))
      return store.commit(commit)
    },
  }
}

/** The value of sample `name` whose labels include `labels` (undefined when there is none). */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}

const redis = await useRedis()

describe.each([
  { name: "memory", store: () => Layer.effect(Store, Effect.map(makeMemoryStore(), injecting)) },
  { name: "redis", store: (namespace: string) => Layer.effect(Store, Effect.map(makeRedisStore({ redis: redis.url, namespace }), injecting)) },
])("connection.metrics() ($name)", ({ store }) => {
  const namespace = `metrics-${Math.random().toString(36).slice(2, 8)}`
  const taskQueue = "metered"
  let connection: Connection
  let worker: Worker
  let running: Promise<void>
  beforeAll(async () => {
    activities.attempts = 0
    connection = await Connection.connect({ namespace, store: store(namespace) })
    worker = await Worker.create({ connection, taskQueue, workflows: { metered }, activities: { flaky: activities.flaky, steady: activities.steady } })
    running = worker.run()
  })
  afterAll(async () => {
    await worker.shutdown()
    await running
    await connection.close()
  })

  it("counts what the workers did and reads the streams on scrape", async () => {
    const before = await connection.metrics()
    expect(sample(before, "hotmesh_durable_steps_total", { kind: "workflow" })).toBeUndefined()
    const client = new Client({ connection })
    expect(await client.workflow.execute(metered, { taskQueue, workflowId: `m-${namespace}`, args: [4] })).toBe(45)
    // A message no worker can decode goes to the dead letters.
    await connection.run(Effect.flatMap(Effect.service(Store), (s) => s.append([{ stream: { kind: "workflow", taskQueue }, key: "junk", body: "not json" }])))
    let text = await connection.metrics()
    while (sample(text, "hotmesh_dead_letters", { task_queue: taskQueue, kind: "workflow" }) !== 1) {
      await new Promise((resolve) => setImmediate(resolve))
      text = await connection.metrics()
    }
    const q = { task_queue: taskQueue }
    expect(sample(text, "hotmesh_durable_steps_total", { ...q, kind: "workflow" })).toBeGreaterThanOrEqual(5)
    expect(sample(text, "hotmesh_durable_steps_total", { ...q, kind: "activity" })).toBe(3)
    expect(sample(text, "hotmesh_durable_steps_total", { kind: "timer" })).toBeGreaterThanOrEqual(1)
    expect(sample(text, "hotmesh_durable_step_duration_seconds_count", { ...q, kind: "activity" })).toBe(3)
    expect(sample(text, "hotmesh_durable_step_duration_seconds_bucket", { ...q, kind: "activity", le: "+Inf" })).toBe(3)
    expect(sample(text, "hotmesh_durable_step_duration_seconds_bucket", { ...q, kind: "activity", le: "10" })).toBe(3)
    expect(sample(text, "hotmesh_durable_step_duration_seconds_sum", { ...q, kind: "activity" })).toBeGreaterThan(0)
    expect(sample(text, "hotmesh_workflow_task_execution_seconds_count", { ...q, workflow_type: "metered" })).toBeGreaterThanOrEqual(5)
    expect(sample(text, "hotmesh_workflow_task_schedule_to_start_seconds_count", q)).toBeGreaterThanOrEqual(5)
    expect(sample(text, "hotmesh_activity_schedule_to_start_seconds_count", { ...q, activity_type: "flaky" })).toBe(2)
    expect(sample(text, "hotmesh_activity_execution_seconds_count", { ...q, activity_type: "flaky", outcome: "failed" })).toBe(1)
    expect(sample(text, "hotmesh_activity_execution_seconds_count", { ...q, activity_type: "flaky", outcome: "completed" })).toBe(1)
    expect(sample(text, "hotmesh_activity_failures_total", { ...q, activity_type: "flaky" })).toBe(1)
    expect(sample(text, "hotmesh_activity_retries_total", { ...q, activity_type: "flaky" })).toBe(1)
    expect(sample(text, "hotmesh_activity_failures_total", { ...q, activity_type: "steady" })).toBe(0)
    // The retry's backoff and the sleep: two timers.
    expect(sample(text, "hotmesh_timers_fired_total")).toBe(2)
    expect(sample(text, "hotmesh_timer_lateness_seconds_count")).toBeGreaterThanOrEqual(1)
    expect(sample(text, "hotmesh_timers_due")).toBe(0)
    expect(sample(text, "hotmesh_store_errors_total", { operation: "commit" })).toBe(1)
    expect(sample(text, "hotmesh_commit_conflicts_total")).toBe(1)
    expect(sample(text, "hotmesh_dead_lettered_total", { ...q, kind: "workflow" })).toBe(1)
    expect(sample(text, "hotmesh_workflow_cache_hits_total", q)).toBeGreaterThan(0)
    expect(sample(text, "hotmesh_workflow_cache_misses_total", q)).toBeGreaterThan(0)
    expect(sample(text, "hotmesh_workflow_cache_entries", q)).toBe(0)
    expect(sample(text, "hotmesh_stream_messages", { ...q, kind: "activity" })).toBe(0)
    expect(sample(text, "hotmesh_stream_pending_messages", { ...q, kind: "workflow" })).toBe(0)
    expect(sample(text, "hotmesh_durable_steps_total", { ...q, kind: "workflow", namespace })).toBeDefined()
    expect(text).toContain("# TYPE hotmesh_durable_step_duration_seconds histogram")
  })
})

describe("metrics: false", () => {
  it("measures nothing and metrics() says why", async () => {
    const connection = await Connection.connect({ namespace: `nometrics-${Math.random().toString(36).slice(2, 8)}`, metrics: false })
    await expect(connection.metrics()).rejects.toBeInstanceOf(InvalidArgumentError)
    await connection.close()
    await expect(Connection.connect({ metrics: "yes" as never })).rejects.toThrow(/metrics must be true or false/)
  })
  it("a process without workers scrapes the task queues it names", async () => {
    const connection = await Connection.connect({ namespace: `scrape-${Math.random().toString(36).slice(2, 8)}` })
    const client = new Client({ connection })
    await client.workflow.start(metered, { taskQueue: "nobody-polls", workflowId: "waiting", args: [1] })
    const text = await connection.metrics({ taskQueues: ["nobody-polls"] })
    expect(sample(text, "hotmesh_stream_messages", { task_queue: "nobody-polls", kind: "workflow" })).toBe(1)
    expect(sample(text, "hotmesh_stream_pending_messages", { task_queue: "nobody-polls", kind: "workflow" })).toBe(0)
    await expect(connection.metrics({ taskQueues: "nobody-polls" as never })).rejects.toBeInstanceOf(InvalidArgumentError)
    await connection.close()
  })
})
