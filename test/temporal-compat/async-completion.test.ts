/**
 * Async activity completion (Temporal's `CompleteAsyncError` and
 * `client.activity`): the activity hands out its task token and returns; a
 * client completes, fails, heartbeats or cancels the attempt later. A token
 * of an attempt no longer current fails with `ActivityNotFoundError`. On the
 * memory store and on Redis.
 */
import { randomUUID } from "node:crypto"
import { ActivityNotFoundError, ApplicationFailure, Client, InvalidArgumentError, Worker, WorkflowFailedError } from "hotmesh"
import { describe, expect, it } from "vitest"
import { BACKENDS, handOff, type HandOff, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import { createActivities } from "./activities/async-completion.ts"
import * as workflows from "./workflows/async-completion.ts"

const redis = await useRedis()

/** A task token the activities hand out, with its attempt. */
interface HandedToken {
  readonly taskToken: Uint8Array
  readonly attempt: number
}

const passTime = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(BACKENDS)("async activity completion (%s)", (backend) => {
  const mesh = useMesh({ backend, redis, prefix: "compat-async" })

  const run = async (fn: (client: Client, taskQueue: string, tokens: HandOff<HandedToken>) => Promise<void>): Promise<void> => {
    const taskQueue = `async-${randomUUID()}`
    const tokens = handOff<HandedToken>()
    const activities = createActivities((taskToken, attempt) => tokens.push({ taskToken, attempt }))
    const worker = await Worker.create({ connection: mesh.connection, taskQueue, workflows, activities })
    await worker.runUntil(fn(mesh.client, taskQueue, tokens))
  }

  it("completes the activity from the client with its task token", async () => {
    await run(async (client, taskQueue, tokens) => {
      const handle = await client.workflow.start(workflows.charge, { taskQueue, workflowId: `async-${randomUUID()}`, args: [42] })
      const { taskToken, attempt } = await tokens.next()
      expect(attempt).toBe(1)
      await client.activity.complete(taskToken, "charged 42")
      expect(await handle.result()).toBe("charged 42")
    })
  })

  it("refuses a stale token after a retry with ActivityNotFoundError, and completes the current attempt", async () => {
    await run(async (client, taskQueue, tokens) => {
      const handle = await client.workflow.start(workflows.charge, { taskQueue, workflowId: `async-${randomUUID()}`, args: [7] })
      const first = await tokens.next()
      await client.activity.fail(first.taskToken, ApplicationFailure.retryable("card network down", "Transient"))
      const second = await tokens.next()
      expect(second.attempt).toBe(2)
      const stale = await client.activity.complete(first.taskToken, "too late").then(() => undefined, (error: unknown) => error)
      expect(stale).toBeInstanceOf(ActivityNotFoundError)
      expect((stale as Error).name).toBe("ActivityNotFoundError")
      await client.activity.complete(second.taskToken, "charged 7")
      expect(await handle.result()).toBe("charged 7")
    })
  })

  it("keeps the attempt alive past its heartbeatTimeout while the client heartbeats", async () => {
    await run(async (client, taskQueue, tokens) => {
      const handle = await client.workflow.start(workflows.chargeWithHeartbeats, { taskQueue, workflowId: `async-${randomUUID()}`, args: [1] })
      const { taskToken } = await tokens.next()
      // 1.5 s of heartbeats every 100 ms: three heartbeat timeouts (500 ms) pass
      for (let i = 0; i < 15; i++) {
        await client.activity.heartbeat(taskToken, { progress: i })
        await passTime(100)
      }
      await client.activity.complete(taskToken, "charged 1")
      expect(await handle.result()).toBe("charged 1")
    })
  })

  it("times out an attempt nobody completes (its startToCloseTimeout still applies); its token is then stale", async () => {
    await run(async (client, taskQueue, tokens) => {
      const handle = await client.workflow.start(workflows.chargeQuickly, { taskQueue, workflowId: `async-${randomUUID()}`, args: [3] })
      const { taskToken } = await tokens.next()
      const error = await handle.result().then(() => undefined, (err: unknown) => err)
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect(error).toMatchObject({ cause: { name: "ActivityFailure", cause: { name: "TimeoutFailure" } } })
      await expect(client.activity.complete(taskToken, "too late")).rejects.toBeInstanceOf(ActivityNotFoundError)
      await expect(client.activity.heartbeat(taskToken)).rejects.toBeInstanceOf(ActivityNotFoundError)
    })
  })

  it("fails and cancels the attempt from the client", async () => {
    await run(async (client, taskQueue, tokens) => {
      const failed = await client.workflow.start(workflows.chargeOrExplain, { taskQueue, workflowId: `async-${randomUUID()}`, args: [5] })
      await client.activity.fail((await tokens.next()).taskToken, ApplicationFailure.nonRetryable("card declined", "CardDeclined"))
      expect(await failed.result()).toBe("failed: ApplicationFailure: card declined")
      const cancelled = await client.workflow.start(workflows.chargeOrExplain, { taskQueue, workflowId: `async-${randomUUID()}`, args: [6] })
      await client.activity.reportCancellation((await tokens.next()).taskToken)
      expect(await cancelled.result()).toMatch(/^failed: CancelledFailure/)
    })
  })

  it("completes by { workflowId, activityId } (the current attempt), and refuses another run's ids", async () => {
    await run(async (client, taskQueue, tokens) => {
      const workflowId = `async-${randomUUID()}`
      const handle = await client.workflow.start(workflows.charge, { taskQueue, workflowId, args: [9] })
      await tokens.next()
      const { runId, pendingActivities } = await handle.describe()
      const activityId = pendingActivities[0]!.activityId
      await expect(client.activity.complete({ workflowId, runId: "another-run", activityId }, "wrong run")).rejects.toBeInstanceOf(ActivityNotFoundError)
      await expect(client.activity.complete({ workflowId, runId, activityId: "999" }, "no such activity")).rejects.toBeInstanceOf(ActivityNotFoundError)
      await client.activity.heartbeat({ workflowId, runId, activityId }, "halfway")
      await client.activity.complete({ workflowId, activityId }, "charged 9")
      expect(await handle.result()).toBe("charged 9")
    })
  })

  it("rejects a token that is not one", async () => {
    await run(async (client) => {
      await expect(client.activity.complete(new TextEncoder().encode("{}"), 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(client.activity.complete("token" as unknown as Uint8Array, 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(client.activity.fail({ workflowId: "w" } as never, new Error("x"))).rejects.toBeInstanceOf(InvalidArgumentError)
    })
  })
})
