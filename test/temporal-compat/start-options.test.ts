/**
 * Temporal's start options `startDelay` (the run's code starts after the
 * delay, or at its first signal) and `staticSummary` / `staticDetails`
 * (shown by `describe`, on children too), with what Temporal refuses
 * refused. Both stores.
 */
import { InvalidArgumentError } from "hotmesh"
import { describe, expect, it } from "vitest"
import { BACKENDS, eventually, notStartedYet, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import { parentWithChildOptions, ping, waitForPing, whenDidIRun } from "./workflows/start-options.ts"

const redis = await useRedis()

describe.each(BACKENDS)("start options (%s)", (backend) => {
  const taskQueue = "start-options"
  const mesh = useMesh({ backend, redis, prefix: "start", workers: { taskQueue, workflows: { whenDidIRun, waitForPing, parentWithChildOptions } } })

  describe("startDelay", () => {
    it("the run exists at once and its code starts after the delay", async () => {
      const handle = await mesh.client.workflow.start(whenDidIRun, { taskQueue, workflowId: `delayed-${mesh.namespace}`, startDelay: "1 second" })
      const { startTime, status } = await handle.describe()
      expect(status).toBe("RUNNING")
      expect(await handle.result()).toBeGreaterThanOrEqual(startTime.getTime() + 1000)
    })

    it("a signal ends the delay (as in Temporal)", async () => {
      const handle = await mesh.client.workflow.start(waitForPing, { taskQueue, workflowId: `delayed-signal-${mesh.namespace}`, startDelay: "1 hour" })
      await handle.signal(ping)
      expect(await handle.result()).toBe("pinged")
    })

    it("is refused with cronSchedule, on signalWithStart and on children, naming it", async () => {
      await expect(mesh.client.workflow.start(whenDidIRun, { taskQueue, workflowId: `delayed-cron-${mesh.namespace}`, startDelay: "1 minute", cronSchedule: "* * * * *" }))
        .rejects.toThrow("startDelay cannot be combined with cronSchedule")
      await expect(mesh.client.workflow.signalWithStart(waitForPing, { taskQueue, workflowId: `delayed-sws-${mesh.namespace}`, signal: ping, startDelay: "1 minute" } as never))
        .rejects.toThrow('"startDelay" is not supported by signalWithStart yet')
      await expect(mesh.client.workflow.start(whenDidIRun, { taskQueue, workflowId: `delayed-bad-${mesh.namespace}`, startDelay: "soon" })).rejects.toBeInstanceOf(InvalidArgumentError)
      const parent = await mesh.client.workflow.start(parentWithChildOptions, { taskQueue, workflowId: `delayed-child-${mesh.namespace}`, args: [`delayed-kid-${mesh.namespace}`, { startDelay: "1 minute" }] })
      const taskFailure = await eventually(async () => (await parent.describe()).taskFailure, "the parent's task failure")
      expect(taskFailure.message).toContain('"startDelay" is not a child option in Temporal')
      await parent.terminate("done")
    })
  })

  describe("staticSummary and staticDetails", () => {
    it("are shown by describe, for a client start and a child", async () => {
      const handle = await mesh.client.workflow.start(parentWithChildOptions, {
        taskQueue,
        workflowId: `static-${mesh.namespace}`,
        args: [`static-kid-${mesh.namespace}`, { staticSummary: "kid", staticDetails: "started by its parent" }],
        staticSummary: "parent",
        staticDetails: "**markdown** details",
      })
      expect(await handle.describe()).toMatchObject({ staticSummary: "parent", staticDetails: "**markdown** details" })
      const kid = mesh.client.workflow.getHandle(`static-kid-${mesh.namespace}`)
      expect(await eventually(() => kid.describe().catch(notStartedYet), "the child to start")).toMatchObject({ staticSummary: "kid", staticDetails: "started by its parent" })
      await kid.signal(ping)
      expect(await handle.result()).toBe("pinged")
    })

    it("must be strings", async () => {
      await expect(mesh.client.workflow.start(whenDidIRun, { taskQueue, workflowId: `static-bad-${mesh.namespace}`, staticSummary: 42 } as never)).rejects.toThrow("staticSummary must be a string")
    })
  })
})
