/**
 * `client.taskQueue(name).describe()` on the embedded store: what waits on
 * a task queue's streams (depth, pending, consumers, dead letters) and the
 * namespace's timers. The Redis backend is covered by the store
 * conformance suite and by the CLI tests (test/cli).
 */
import { Client, Connection, InvalidArgumentError, Store, Worker } from "hotmesh"
import { sleep } from "hotmesh/workflow"
import { describe, expect, it } from "vitest"
import { eventually, unique } from "../fixtures/e2e-support.ts"

async function napper(): Promise<void> {
  await sleep("1 hour")
}

describe("client.taskQueue(name).describe()", () => {
  it("reports each stream and the timers, on the embedded store", async () => {
    const connection = await Connection.connect({ namespace: unique("tq") })
    const client = new Client({ connection })
    const taskQueue = unique("queue")
    try {
      const empty = await client.taskQueue(taskQueue).describe()
      expect(empty).toEqual({
        taskQueue,
        streams: [
          { kind: "workflow", length: 0, pending: 0, consumers: [], deadLetters: 0 },
          { kind: "activity", length: 0, pending: 0, consumers: [], deadLetters: 0 },
        ],
        timers: { due: 0 },
      })
      // Two activity tasks, one of them taken by a consumer that never acknowledges it.
      const stream = { kind: "activity", taskQueue } as const
      await connection.run(Store.use((store) => store.append([{ stream, key: "a", body: "1" }, { stream, key: "b", body: "2" }])))
      await connection.run(Store.use((store) => store.read(stream, { consumer: "stuck", count: 1, blockMs: 0 })))
      const activity = (await client.taskQueue(taskQueue).describe()).streams[1]!
      expect(activity).toMatchObject({ kind: "activity", length: 2, pending: 1, deadLetters: 0 })
      expect(activity.consumers).toEqual([{ name: "stuck", pending: 1, idleMs: expect.any(Number) }])
      expect(activity.oldestPendingMs).toBeGreaterThanOrEqual(0)

      const worker = await Worker.create({ connection, taskQueue, workflows: { napper } })
      const running = worker.run()
      await client.workflow.start(napper, { taskQueue, workflowId: unique("nap") })
      const described = await eventually(async () => {
        const d = await client.taskQueue(taskQueue).describe()
        return d.timers.nextAt === undefined ? undefined : d
      }, "the napper's timer")
      expect(described.timers.due).toBe(0)
      expect(described.timers.nextAt!.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000)
      expect(described.streams[0]!.consumers.length).toBe(1)
      await worker.shutdown()
      await running
    } finally {
      await connection.close()
    }
  })

  it("a task queue needs a name", () => {
    const client = new Client({ namespace: unique("tq") })
    expect(() => client.taskQueue("")).toThrow(InvalidArgumentError)
  })
})
