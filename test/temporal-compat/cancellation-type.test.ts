/**
 * Temporal's `ActivityCancellationType` on `proxyActivities`: `TRY_CANCEL`
 * (the call rejects at once; the activity learns of it through heartbeats),
 * `WAIT_CANCELLATION_COMPLETED` (the call settles with the activity's own
 * outcome after it saw the cancellation) and `ABANDON` (the activity is
 * never told). An async completer learns of a cancellation from
 * `client.activity.heartbeat`, which throws `ActivityCancelledError`. On the
 * memory store and on Redis.
 */
import { randomUUID } from "node:crypto"
import { ActivityCancellationType, ActivityCancelledError, ActivityNotFoundError, Client, InvalidArgumentError, Worker } from "hotmesh"
import { proxyActivities } from "hotmesh/workflow"
import { describe, expect, it } from "vitest"
import { BACKENDS, handOff, type HandOff, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import { createActivities } from "./activities/cancellation-type.ts"
import * as workflows from "./workflows/cancellation-type.ts"

const redis = await useRedis()

/** The pending `chargeLater` call of a run, as `describe()` shows it. */
const charge = async (handle: { describe: () => Promise<{ pendingActivities: ReadonlyArray<{ activityType: string; state: string }> }> }) =>
  (await handle.describe()).pendingActivities.find((activity) => activity.activityType === "chargeLater")

interface Harness {
  readonly client: Client
  readonly taskQueue: string
  readonly tokens: HandOff<Uint8Array>
  readonly started: HandOff<true>
  readonly cancelled: HandOff<true>
  readonly reports: HandOff<string>
  /** How the heartbeating activity ends once it saw its cancellation (resolve it to let it end). */
  endAs: (how: Promise<"complete" | "fail" | "cancel">) => void
}

describe.each(BACKENDS)("ActivityCancellationType (%s)", (backend) => {
  const mesh = useMesh({ backend, redis, prefix: "compat-cancellation-type" })

  const run = async (fn: (h: Harness) => Promise<void>): Promise<void> => {
    const tokens = handOff<Uint8Array>()
    const started = handOff<true>()
    const cancelled = handOff<true>()
    const reports = handOff<string>()
    let ending: Promise<"complete" | "fail" | "cancel"> = Promise.resolve("cancel")
    const activities = createActivities({
      onToken: tokens.push,
      onStarted: () => started.push(true),
      onCancelled: () => {
        cancelled.push(true)
        return ending
      },
      onReport: reports.push,
    })
    const taskQueue = `cancel-type-${randomUUID()}`
    const worker = await Worker.create({ connection: mesh.connection, taskQueue, workflows, activities })
    const { client } = mesh
    await worker.runUntil(fn({ client, taskQueue, tokens, started, cancelled, reports, endAs: (how) => void (ending = how) }))
  }

  const start = (h: Harness, type: ActivityCancellationType, activity: "chargeLater" | "chargeWithHeartbeats") =>
    h.client.workflow.start(workflows.cancelActivity, { taskQueue: h.taskQueue, workflowId: `cancel-type-${randomUUID()}`, args: [type, activity] })

  it("TRY_CANCEL: the call rejects at once; the async completer's heartbeat throws ActivityCancelledError; a late completion is dropped", async () => {
    await run(async (h) => {
      const handle = await start(h, ActivityCancellationType.TRY_CANCEL, "chargeLater")
      const token = await h.tokens.next()
      await handle.signal(workflows.cancelSignal)
      expect(await h.reports.next()).toBe("cancellation requested")
      expect(await h.reports.next()).toMatch(/^cancelled: CancelledFailure/)
      expect(await charge(handle)).toMatchObject({ state: "CANCEL_REQUESTED" })
      const heartbeat = await h.client.activity.heartbeat(token, "still here").then(() => undefined, (err: unknown) => err)
      expect(heartbeat).toBeInstanceOf(ActivityCancelledError)
      expect((heartbeat as Error).name).toBe("ActivityCancelledError")
      await h.client.activity.complete(token, "too late to matter")
      await handle.signal(workflows.finishSignal)
      expect(await handle.result()).toMatch(/^cancelled: CancelledFailure/)
      await expect(h.client.activity.complete(token, "stale")).rejects.toBeInstanceOf(ActivityNotFoundError)
    })
  })

  it("TRY_CANCEL: a heartbeating activity still sees the cancellation, after the workflow stopped waiting", async () => {
    await run(async (h) => {
      // The activity ends only once the workflow has reported its call cancelled: the workflow did not wait.
      let reported!: (how: "cancel") => void
      h.endAs(new Promise((resolve) => (reported = resolve)))
      const handle = await start(h, ActivityCancellationType.TRY_CANCEL, "chargeWithHeartbeats")
      await h.started.next()
      await handle.signal(workflows.cancelSignal)
      expect(await h.reports.next()).toBe("cancellation requested")
      expect(await h.reports.next()).toMatch(/^cancelled: CancelledFailure/)
      reported("cancel")
      await h.cancelled.next()
      await handle.signal(workflows.finishSignal)
      expect(await handle.result()).toMatch(/^cancelled: CancelledFailure/)
    })
  })

  it.each([
    ["cancel", /^cancelled: CancelledFailure/],
    ["complete", /^completed: cleaned up$/],
    ["fail", /^failed: ApplicationFailure: cleanup failed$/],
  ] as const)("WAIT_CANCELLATION_COMPLETED: the call waits for the activity, which saw the cancellation through its heartbeat and chose to %s", async (how, expected) => {
    await run(async (h) => {
      h.endAs(Promise.resolve(how))
      const handle = await start(h, ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, "chargeWithHeartbeats")
      await h.started.next()
      await handle.signal(workflows.cancelSignal)
      expect(await h.reports.next()).toBe("cancellation requested")
      await h.cancelled.next()
      expect(await h.reports.next()).toMatch(expected)
      await handle.signal(workflows.finishSignal)
      expect(await handle.result()).toMatch(expected)
    })
  })

  it("WAIT_CANCELLATION_COMPLETED: the async completer learns of it from heartbeat and completes; the workflow gets that result", async () => {
    await run(async (h) => {
      const handle = await start(h, ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, "chargeLater")
      const token = await h.tokens.next()
      await handle.signal(workflows.cancelSignal)
      expect(await h.reports.next()).toBe("cancellation requested")
      await expect(h.client.activity.heartbeat(token)).rejects.toBeInstanceOf(ActivityCancelledError)
      await h.client.activity.complete(token, "charged anyway")
      expect(await h.reports.next()).toBe("completed: charged anyway")
      await handle.signal(workflows.finishSignal)
      expect(await handle.result()).toBe("completed: charged anyway")
    })
  })

  it("WAIT_CANCELLATION_COMPLETED: reportCancellation ends the call with CancelledFailure", async () => {
    await run(async (h) => {
      const handle = await start(h, ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, "chargeLater")
      const token = await h.tokens.next()
      await handle.signal(workflows.cancelSignal)
      expect(await h.reports.next()).toBe("cancellation requested")
      expect(await charge(handle)).toMatchObject({ state: "CANCEL_REQUESTED" })
      await h.client.activity.reportCancellation(token)
      expect(await h.reports.next()).toMatch(/^cancelled: CancelledFailure/)
      await handle.signal(workflows.finishSignal)
      await handle.result()
    })
  })

  it("ABANDON: the call rejects at once and the activity is never told: its heartbeats succeed and it stays STARTED", async () => {
    await run(async (h) => {
      const handle = await start(h, ActivityCancellationType.ABANDON, "chargeLater")
      const token = await h.tokens.next()
      await handle.signal(workflows.cancelSignal)
      expect(await h.reports.next()).toBe("cancellation requested")
      expect(await h.reports.next()).toMatch(/^cancelled: CancelledFailure/)
      await h.client.activity.heartbeat(token, "working")
      expect(await charge(handle)).toMatchObject({ state: "STARTED" })
      await h.client.activity.complete(token, "done, ignored")
      await handle.signal(workflows.finishSignal)
      expect(await handle.result()).toMatch(/^cancelled: CancelledFailure/)
    })
  })

  it("rejects a cancellationType that is not one", () => {
    expect(() => proxyActivities({ startToCloseTimeout: "1s", cancellationType: "LATER" as never })).toThrow(InvalidArgumentError)
    expect(() => proxyActivities({ startToCloseTimeout: "1s", cancellationType: "LATER" as never })).toThrow(/cancellationType must be one of TRY_CANCEL, WAIT_CANCELLATION_COMPLETED, ABANDON/)
  })
})
