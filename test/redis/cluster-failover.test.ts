/**
 * HotMesh on a real Redis Cluster while its layout changes under it
 * (`test/support/redisCluster.ts`: 3 masters + 3 replicas, node timeout 1 s):
 *
 * - resharding: `redis-cli --cluster reshard` moves half of one master's
 *   slots to another while workflows run; every workflow completes, and no
 *   journal holds a step twice;
 * - failover: a master is SIGKILLed with workflows in flight; its replica is
 *   promoted and the dead node comes back as a replica. Without
 *   `durability` the test counts the workflows whose acknowledged writes the
 *   failover lost (asynchronous replication; printed, not asserted); with
 *   `durability: { replicas: 1 }` it asserts none was lost.
 *
 * WORKFLOWS in flight per scenario: 300 (the issue asks for ~1,000; on the
 * 2-core CI machine 1,000 per scenario would triple this file's wall time —
 * set HOTMESH_CLUSTER_WORKFLOWS=1000 to run the full size).
 */
import { Client, Connection, type ConnectionOptions, Worker } from "hotmesh"
import { afterAll, describe, expect, it } from "vitest"
import { makeKeys } from "../../src/stores/redis/keys.ts"
import { keySlot } from "../../src/stores/redis/slot.ts"
import { entriesOf, historyOf, unique } from "../fixtures/e2e-support.ts"
import { useRedisCluster } from "../support/redisCluster.ts"
import * as workflows from "./fixtures/clusterWorkflows.ts"

const WORKFLOWS = Number(process.env["HOTMESH_CLUSTER_WORKFLOWS"] ?? 300)
const cluster = await useRedisCluster()
const open: Array<Connection> = []
afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.close()))
})

const connect = async (namespace: string, extra: Partial<ConnectionOptions> = {}) => {
  const connection = await Connection.connect({ redis: { cluster: cluster.startupNodes }, namespace, logLevel: "Error", ...extra })
  open.push(connection)
  return connection
}

/** Run `f` with `limit` at a time over `items`. */
const pool = async <T, R>(items: ReadonlyArray<T>, limit: number, f: (item: T) => Promise<R>): Promise<Array<R>> => {
  const out: Array<R> = []
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await f(items[i]!)
    }
  }))
  return out
}

interface Run {
  readonly ids: ReadonlyArray<string>
  readonly steps: number
  /** Resolves once every workflow waits in its last step (held until `release`). */
  readonly allHeld: Promise<void>
  /** Let the held last steps finish. */
  readonly release: () => void
  readonly client: Client
  /** Completed workflows (id -> result). */
  readonly done: Map<string, string>
  /** Resolves when every workflow completed, or when none completed for `quietMs`: the ids that did not. */
  readonly settle: (quietMs: number) => Promise<Array<string>>
  readonly stop: () => Promise<void>
}

/**
 * Start a worker and `n` workflows of `steps` steps (starts retried, as a
 * caller would); follow their results. Each workflow's last step is held
 * until `release()`, so all `n` are in flight at once.
 */
const startRun = async (n: number, steps: number, extra: Partial<ConnectionOptions> = {}): Promise<Run> => {
  const namespace = unique("cl")
  const held = new Set<string>()
  let heldAll = () => {}
  const allHeld = new Promise<void>((resolve) => (heldAll = resolve))
  let release = () => {}
  const gate = new Promise<void>((resolve) => (release = resolve))
  const taskQueue = unique("q")
  const workerConnection = await connect(namespace, extra)
  const client = new Client({ connection: await connect(namespace, extra) })
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflows,
    activities: {
      step: async (label: string) => {
        if (label.endsWith(`:${steps - 1}`)) {
          held.add(label)
          if (held.size === n) heldAll()
          await gate
        }
        return `${label}!`
      },
    },
    maxConcurrentActivityTaskExecutions: n + 50,
  })
  const running = worker.run()
  const ids = Array.from({ length: n }, (_, i) => `wf-${i}`)
  const done = new Map<string, string>()
  let lastProgress = Date.now()
  const follow = (id: string) => {
    const wait = (): Promise<void> =>
      client.workflow.getHandle<typeof workflows.chain>(id).result().then(
        (result: string) => {
          done.set(id, result)
          lastProgress = Date.now()
        },
        () => new Promise((r) => setTimeout(r, 200)).then(wait),
      )
    void wait()
  }
  await pool(ids, 50, async (id) => {
    for (let tries = 0; ; tries++) {
      try {
        await client.workflow.start(workflows.chain, { taskQueue, workflowId: id, args: [id, steps] })
        break
      } catch (error) {
        if (error instanceof Error && error.name === "WorkflowExecutionAlreadyStartedError") break
        if (tries > 50) throw error
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    follow(id)
  })
  const settle = async (quietMs: number) => {
    lastProgress = Date.now()
    while (done.size < n && Date.now() - lastProgress < quietMs) await new Promise((r) => setTimeout(r, 50))
    return ids.filter((id) => !done.has(id))
  }
  return {
    ids,
    steps,
    allHeld,
    release,
    client,
    done,
    settle,
    stop: async () => {
      await worker.shutdown()
      await running
    },
  }
}

/** Every completed workflow's result is right and its journal has each step once. */
const expectExactlyOnce = async (run: Run) => {
  for (const [id, result] of run.done) expect(result).toBe(Array.from({ length: run.steps }, (_, i) => `${id}:${i}!`).join("+"))
  await pool([...run.done.keys()], 20, async (id) => {
    const history = await historyOf(run.client.workflow.getHandle(id))
    expect({ id, scheduled: entriesOf(history, "ActivityScheduled").length, completed: entriesOf(history, "ActivityCompleted").length, done: entriesOf(history, "WorkflowCompleted").length })
      .toEqual({ id, scheduled: run.steps, completed: run.steps, done: 1 })
  })
}

/** The master serving the most partitions of a namespace (any namespace: the layout is the same). */
const busiestMaster = async () => {
  const keys = makeKeys("any", 8)
  const masters = await cluster.masters()
  const count = (m: (typeof masters)[number]) =>
    Array.from({ length: 8 }, (_, p) => keySlot(keys.tag(p))).filter((slot) => m.slots.some(([a, b]) => a <= slot && slot <= b)).length
  return [...masters].sort((a, b) => count(b) - count(a))[0]!
}

describe("on a Redis Cluster whose layout changes", () => {
  it(`resharding half of a master's slots while ${WORKFLOWS} workflows run: none stuck, none duplicated`, async () => {
    const run = await startRun(WORKFLOWS, 6)
    await run.allHeld
    const [from, to] = await cluster.masters()
    const owned = from!.slots.reduce((n, [a, b]) => n + b - a + 1, 0)
    const moving = cluster.reshard(from!.id, to!.id, Math.floor(owned / 2))
    // The held steps finish, and the later steps run, while slots move.
    run.release()
    await moving
    const doneDuringReshard = run.done.size
    const stuck = await run.settle(15_000)
    console.log(`cluster reshard: ${Math.floor(owned / 2)} slots moved while ${WORKFLOWS} workflows of 6 steps ran (${doneDuringReshard} finished during the move); ${run.done.size} completed, ${stuck.length} stuck`)
    expect(stuck).toEqual([])
    await expectExactlyOnce(run)
    await run.stop()
  }, 120_000)

  for (const durable of [false, true]) {
    it(`SIGKILL of a master with ${WORKFLOWS} workflows in flight, ${durable ? "with durability: { replicas: 1 }: none lost" : "asynchronous replication: losses counted"}`, async () => {
      const run = await startRun(WORKFLOWS, 4, durable ? { durability: { replicas: 1, timeoutMs: 2_000 } } : {})
      await run.allHeld
      const victim = await busiestMaster()
      // Writes are flowing when the master dies: every workflow's last step completes at once.
      run.release()
      await cluster.kill(victim.port)
      const doneAtKill = run.done.size
      await cluster.waitHealthy(60_000)
      // The dead node comes back and rejoins as a replica of the promoted one (durable WAITs need a replica again).
      await cluster.revive(victim.port)
      await cluster.waitHealthy(60_000)
      const lost = await run.settle(durable ? 20_000 : 8_000)
      console.log(`cluster failover (${durable ? "durability replicas 1" : "async replication"}): killed ${victim.port} with ${WORKFLOWS - doneAtKill} of ${WORKFLOWS} workflows in flight; ${run.done.size} completed, ${lost.length} lost`)
      if (durable) expect(lost).toEqual([])
      await expectExactlyOnce(run)
      await run.stop()
    }, 120_000)
  }
})
