/**
 * Temporal's start options `startDelay` (the run's code starts after the
 * delay, or at its first signal) and `staticSummary` / `staticDetails`
 * (shown by `describe`, on children too), with what Temporal refuses
 * refused. Both stores.
 */
import { Client, Connection, InvalidArgumentError, Worker } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { useRedis } from "../support/redisServer.ts"
import { parentWithChildOptions, ping, waitForPing, whenDidIRun } from "./workflows/start-options.ts"

const redis = await useRedis()

describe.each(["memory", "redis"] as const)("start options (%s)", (backend) => {
  const namespace = `start-${Math.random().toString(36).slice(2, 8)}`
  const taskQueue = "start-options"
  let connection: Connection
  let client: Client
  let worker: Worker
  let running: Promise<void>
  beforeAll(async () => {
    connection = await Connection.connect(backend === "redis" ? { redis: redis.url, namespace } : { namespace })
    client = new Client({ connection })
    worker = await Worker.create({ connection, taskQueue, workflows: { whenDidIRun, waitForPing, parentWithChildOptions } })
    running = worker.run()
  })
  afterAll(async () => {
    await worker.shutdown()
    await running
    await connection.close()
  })

  describe("startDelay", () => {
    it("the run exists at once and its code starts after the delay", async () => {
      const handle = await client.workflow.start(whenDidIRun, { taskQueue, workflowId: `delayed-${namespace}`, startDelay: "1 second" })
      const { startTime, status } = await handle.describe()
      expect(status).toBe("RUNNING")
      expect(await handle.result()).toBeGreaterThanOrEqual(startTime.getTime() + 1000)
    })

    it("a signal ends the delay (as in Temporal)", async () => {
      const handle = await client.workflow.start(waitForPing, { taskQueue, workflowId: `delayed-signal-${namespace}`, startDelay: "1 hour" })
      await handle.signal(ping)
      expect(await handle.result()).toBe("pinged")
    })

    it("is refused with cronSchedule, on signalWithStart and on children, naming it", async () => {
      await expect(client.workflow.start(whenDidIRun, { taskQueue, workflowId: `delayed-cron-${namespace}`, startDelay: "1 minute", cronSchedule: "* * * * *" }))
        .rejects.toThrow("startDelay cannot be combined with cronSchedule")
      await expect(client.workflow.signalWithStart(waitForPing, { taskQueue, workflowId: `delayed-sws-${namespace}`, signal: ping, startDelay: "1 minute" } as never))
        .rejects.toThrow('"startDelay" is not supported by signalWithStart yet')
      await expect(client.workflow.start(whenDidIRun, { taskQueue, workflowId: `delayed-bad-${namespace}`, startDelay: "soon" })).rejects.toBeInstanceOf(InvalidArgumentError)
      const parent = await client.workflow.start(parentWithChildOptions, { taskQueue, workflowId: `delayed-child-${namespace}`, args: [`delayed-kid-${namespace}`, { startDelay: "1 minute" }] })
      const failure = await until(() => parent.describe(), (description) => description.taskFailure !== undefined)
      expect(failure.taskFailure?.message).toContain('"startDelay" is not a child option in Temporal')
      await parent.terminate("done")
    })
  })

  describe("staticSummary and staticDetails", () => {
    it("are shown by describe, for a client start and a child", async () => {
      const handle = await client.workflow.start(parentWithChildOptions, {
        taskQueue,
        workflowId: `static-${namespace}`,
        args: [`static-kid-${namespace}`, { staticSummary: "kid", staticDetails: "started by its parent" }],
        staticSummary: "parent",
        staticDetails: "**markdown** details",
      })
      expect(await handle.describe()).toMatchObject({ staticSummary: "parent", staticDetails: "**markdown** details" })
      const kid = client.workflow.getHandle(`static-kid-${namespace}`)
      expect(await until(() => kid.describe(), () => true)).toMatchObject({ staticSummary: "kid", staticDetails: "started by its parent" })
      await kid.signal(ping)
      expect(await handle.result()).toBe("pinged")
    })

    it("must be strings", async () => {
      await expect(client.workflow.start(whenDidIRun, { taskQueue, workflowId: `static-bad-${namespace}`, staticSummary: 42 } as never)).rejects.toThrow("staticSummary must be a string")
    })
  })
})

/** Wait until `check` holds (each look is a store read; a workflow not there yet is looked at again). */
const until = async <T>(look: () => Promise<T>, check: (value: T) => boolean): Promise<T> => {
  for (;;) {
    const value = await look().catch((error: unknown) => {
      if ((error as Error).name === "WorkflowNotFoundError") return undefined
      throw error
    })
    if (value !== undefined && check(value)) return value
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
