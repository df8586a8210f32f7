/**
 * A Redis that loses recent writes (issue 9, F1): a real redis-server with
 * RDB persistence is `SAVE`d, the workflow advances (a worker caches the
 * later state), the server is SIGKILLed and restarted from the older
 * dump.rdb on the same port, and the workflow is driven on. The same version
 * numbers come round again with other contents; the commit's write token
 * keeps the worker's cached state from overwriting them.
 *
 * The workers and the client use separate connections, so everything they
 * share goes through Redis. Nothing sleeps to synchronise: tests wait for the
 * gate activity to arrive, for the journal to grow, or for the streams to
 * drain, each with a deadline.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Worker } from "hotmesh"
import { Redis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { entriesOf, expectTerminationStood, eventually, historyOf, unique, useMesh, within } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import { gates, streamsDrained } from "./fixtures/redisSupport.ts"
import * as workflows from "./fixtures/workflows.ts"
import type { RedisTestActivities } from "./fixtures/workflows.ts"

// A server of its own, restarted from its own dump.rdb.
const redis = await useRedis({ persistence: "snapshot" })
// The workers' connection and the client's are separate: everything they share goes through Redis.
const mesh = useMesh({ backend: "redis", redis, prefix: "rollback" })
const admin = new Redis(redis.url)
afterAll(() => admin.disconnect())

/** Activities for `approval`: `gate(label)` waits until the test opens that gate. */
const gatedActivities = () => {
  const gated = gates()
  const unused = () => Promise.reject(new Error("not used here"))
  const activities: RedisTestActivities = {
    gate: gated.gate,
    greet: unused, flaky: unused, decline: unused, cleanup: unused, crashy: unused, heartbeating: unused,
  }
  return { ...gated, activities }
}

/** A reading of the handle that rides out the seconds in which the restarted server is reconnected to. */
const settled = <T>(read: () => Promise<T>, what: string) =>
  eventually(() => read().catch(() => undefined), what, 15_000)

/**
 * Start `approval` behind a gate, `SAVE` while the gate activity runs, then
 * advance the workflow one step (signal "lost": the worker caches that
 * state) and restart Redis from the dump. Returns with the record back at the
 * snapshot and the gate activity still running in this process.
 */
const advancePastSnapshotAndRestore = async (taskQueue: string, workflowId: string, gate: ReturnType<typeof gatedActivities>, worker: Worker) => {
  const label = unique("gate")
  const handle = await mesh.client.workflow.start(workflows.approval, { taskQueue, workflowId, args: [{ timeout: "30s", gateLabel: label }] })
  await gate.arrived(label)
  const saved = (await handle.describe()).historyLength
  expect(await admin.save()).toBe("OK")
  expect(existsSync(join(redis.dir!, "dump.rdb"))).toBe(true)
  await handle.signal(workflows.approve, "lost")
  await eventually(async () => ((await handle.describe()).historyLength > saved ? true : undefined), "the signal to be journaled")
  // The signal's step took the cached run (a hit) and, once committed, put it back at the new version.
  await eventually(() => {
    const stats = worker.getCacheStats()
    return stats.hits === 1 && stats.entries === 1 ? true : undefined
  }, "the worker to cache the signal's step")
  await redis.restart()
  // Back at the snapshot: the signal's step is gone (the worker still caches it).
  await settled(async () => ((await handle.describe()).historyLength === saved ? true : undefined), "the restored record")
  return { handle, label }
}

/**
 * Run a worker with the gate activities on a fresh task queue, take a
 * workflow past the snapshot and restore it (`advancePastSnapshotAndRestore`),
 * run `fn` on the result, and shut the worker down.
 */
const afterRestore = async (
  name: string,
  fn: (restored: Awaited<ReturnType<typeof advancePastSnapshotAndRestore>> & { readonly gate: ReturnType<typeof gatedActivities>; readonly taskQueue: string }) => Promise<void>,
): Promise<void> => {
  const taskQueue = unique(name)
  const gate = gatedActivities()
  const worker = await Worker.create({ connection: mesh.connection, taskQueue, workflows, activities: gate.activities })
  const running = worker.run()
  try {
    await fn({ ...(await advancePastSnapshotAndRestore(taskQueue, unique("wf"), gate, worker)), gate, taskQueue })
  } finally {
    await worker.shutdown()
    await running
  }
}

describe("Redis restarted from an older snapshot", () => {
  it("a worker's cached state does not commit a terminated workflow back to COMPLETED", async () => {
    await afterRestore("rollback-terminate", async ({ handle, label, gate, taskQueue }) => {
      // The client terminates from the restored record: it writes the version the worker cached, with other contents.
      await handle.terminate("stopped after the restore")
      // The gate activity, running all along, now completes: its result reaches the worker that caches
      // the lost step (approved by "lost"), which would complete the workflow from there.
      gate.open(label)
      await streamsDrained(admin, mesh.namespace, taskQueue, 15_000)

      const events = await expectTerminationStood(handle)
      expect(entriesOf(events, "SignalReceived")).toEqual([])
      await Worker.runReplayHistory({ workflows }, await handle.fetchHistory())
    })
  })

  it("a workflow goes on from the restored record and completes; the lost step stays lost", async () => {
    await afterRestore("rollback-complete", async ({ handle, label, gate }) => {
      const restored = (await handle.describe()).historyLength
      gate.open(label)
      // The gate's result is applied to the restored state (the cached one, which has "lost", is refused):
      // the workflow now waits for an approval it never got.
      await settled(async () => ((await handle.describe()).historyLength > restored ? true : undefined), "the gate's result to be journaled")
      expect((await handle.describe()).status).toBe("RUNNING")
      await handle.signal(workflows.approve, "after the restore")
      expect(await within(handle.result(), 15_000, "the workflow to complete")).toBe("approved by after the restore")

      const events = await historyOf(handle)
      expect(entriesOf(events, "SignalReceived")).toHaveLength(1)
      expect(events.at(-1)?.type).toBe("WorkflowCompleted")
      expect((await handle.describe()).historyLength).toBe(events.length)
      await Worker.runReplayHistory({ workflows }, await handle.fetchHistory())
    })
  })
})
