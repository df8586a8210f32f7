/**
 * Fair sharing end to end on the embedded store: a flood of one workflow
 * type's activity tasks waits on the queue, then one task of another type
 * arrives; an activity worker that takes one task at a time (its read
 * quota) starts the latecomer within the first `lanes` starts — and, with
 * one lane, last (FIFO). What is counted is the order of starts, not time.
 */
import { Client, Connection, Worker } from "hotmesh"
import { describe, expect, it } from "vitest"
import { eventually, unique } from "../fixtures/e2e-support.ts"
import * as workflows from "../fixtures/limitsWorkflows.ts"
import { laneOf } from "../../src/core/lanes.ts"

const FLOOD = 40

/** The order in which the activity worker started the flood (0..FLOOD-1) and the latecomer (FLOOD). */
const startOrder = async (lanes: number): Promise<Array<number>> => {
  const connection = await Connection.connect({ namespace: unique("fair-ns"), lanes })
  const taskQueue = unique("fair")
  const client = new Client({ connection })
  const queue = client.taskQueue(taskQueue)
  const started: Array<number> = []
  const workers = await Promise.all([
    Worker.create({ connection, taskQueue, workflows }),
    Worker.create({ connection, taskQueue, activities: { async work(i: number) { started.push(i); return i } }, maxConcurrentActivityTaskExecutions: 1 }),
  ])
  // Paused with a limit in force: the tasks wait on the queue, and no worker finds it unlimited.
  await queue.pause()
  await queue.setLimits({ concurrency: 100 })
  const running = Promise.all(workers.map((w) => w.run()))
  try {
    const depth = async () => (await queue.describe()).streams.find((s) => s.kind === "activity")?.length ?? 0
    const flood = await Promise.all(Array.from({ length: FLOOD }, (_, i) =>
      client.workflow.start(workflows.limited, { taskQueue, workflowId: unique(`flood-${i}`), args: [i, 0] })))
    await eventually(async () => ((await depth()) === FLOOD ? true : undefined), "the flood's tasks on the queue", 10_000)
    const late = await client.workflow.start(workflows.trickled, { taskQueue, workflowId: unique("late"), args: [FLOOD, 0] })
    await eventually(async () => ((await depth()) === FLOOD + 1 ? true : undefined), "the latecomer's task on the queue", 10_000)
    await queue.resume()
    await Promise.all([...flood, late].map((h) => h.result()))
    return started
  } finally {
    await Promise.all(workers.map((w) => w.shutdown()))
    await running
    await connection.close()
  }
}

describe("fair sharing between workflow types on one task queue (embedded store)", () => {
  it("8 lanes: a task of another workflow type queued behind 40 starts within the first 8 starts", async () => {
    expect(laneOf("limited", 8)).not.toBe(laneOf("trickled", 8))
    const order = await startOrder(8)
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: FLOOD + 1 }, (_, i) => i))
    expect(order.indexOf(FLOOD)).toBeLessThan(8)
  })

  it("1 lane (the default): the queue is FIFO, the latecomer starts last", async () => {
    const order = await startOrder(1)
    expect(order.indexOf(FLOOD)).toBe(FLOOD)
  })
})
