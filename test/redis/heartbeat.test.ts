/**
 * Heartbeats keep an activity's claim on its task (Redis store, real time):
 * a live worker whose activity heartbeats must not see the task re-delivered.
 * The activity runner touches the task every third of the visibility
 * timeout while the activity runs, so a short timeout is kept too.
 */
import { Client, Connection, Worker } from "hotmesh"
import { Context } from "hotmesh/activity"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import * as workflows from "./fixtures/workflows.ts"
import type { RedisTestActivities } from "./fixtures/workflows.ts"

const redis = await useRedis()
const namespace = `hb-${process.pid}-${Math.random().toString(36).slice(2, 8)}`

/** Run `heartbeats(forMs, 50)` on a store with `visibilityTimeoutMs`; returns how often the activity started. */
const starts = async (visibilityTimeoutMs: number, forMs: number) => {
  const connection = await Connection.connect({ redis: redis.url, namespace, visibilityTimeoutMs })
  try {
    let started = 0
    const activities: Partial<RedisTestActivities> = {
      async heartbeating(ms, everyMs) {
        started++
        const context = Context.current()
        const until = Date.now() + ms
        while (Date.now() < until) {
          context.heartbeat(Date.now())
          await context.sleep(everyMs)
        }
        return started
      },
    }
    const taskQueue = unique("heartbeat")
    const worker = await Worker.create({ connection, taskQueue, workflows, activities })
    const client = new Client({ connection })
    const result = await worker.runUntil(() =>
      client.workflow.execute(workflows.heartbeats, { taskQueue, workflowId: unique("hb"), args: [forMs, 50] }))
    return { result, started }
  } finally {
    await connection.close()
  }
}

describe("heartbeats keep the claim", () => {
  it("with a visibility timeout of 2 s, an activity that heartbeats for 3 s runs once", async () => {
    expect(await starts(2000, 3000)).toEqual({ result: 1, started: 1 })
  })

  it("with a visibility timeout of 500 ms, an activity that heartbeats every 50 ms for 1.5 s runs once", async () => {
    expect(await starts(500, 1500)).toEqual({ result: 1, started: 1 })
  })
})
