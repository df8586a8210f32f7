/**
 * Activities end to end: retries with backoff (durable timers on the virtual
 * clock), non-retryable failures, the failure chain a client sees, timeouts,
 * heartbeats, parallelism, and the activity Context.
 */
import { ApplicationFailure, Worker, WorkflowFailedError, type WorkerOptions } from "hotmesh"
import { Context } from "hotmesh/activity"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as workflows from "../fixtures/activity-workflows.ts"
import type { TestActivities } from "../fixtures/activity-workflows.ts"
import { barrier, causeChain, deferred, entriesOf, eventually, historyOf, rejectionOf, unique, within } from "../fixtures/e2e-support.ts"

let env: TestWorkflowEnvironment
beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping()
})
afterAll(async () => {
  await env.teardown()
})

class CardDeclinedError extends Error {
  override name = "CardDeclined"
}

/** Activities that record what happened to them. */
const recordingActivities = () => {
  const attempts: Array<number> = []
  const aborted = deferred<{ reason: string }>()
  const meeting = barrier(3)
  const activities: TestActivities = {
    async flaky(failures) {
      const { attempt } = Context.current().info
      attempts.push(attempt)
      if (attempt <= failures) throw ApplicationFailure.retryable(`attempt ${attempt} failed`, "Transient")
      return attempt
    },
    async fail(type, nonRetryable) {
      attempts.push(Context.current().info.attempt)
      throw nonRetryable ? ApplicationFailure.nonRetryable(`failed with ${type}`, type) : ApplicationFailure.retryable(`failed with ${type}`, type)
    },
    async throwNamed(name) {
      attempts.push(Context.current().info.attempt)
      const error = name === "CardDeclined" ? new CardDeclinedError("card declined") : new Error("plain")
      throw error
    },
    async hang() {
      const context = Context.current()
      attempts.push(context.info.attempt)
      context.cancellationSignal.addEventListener("abort", () => {
        aborted.resolve({ reason: String((context.cancellationSignal.reason as Error | undefined)?.message) })
      })
      await context.cancelled
      return "unreachable"
    },
    async heartbeating(details) {
      const context = Context.current()
      for (const detail of details) context.heartbeat(detail)
      return context.lastHeartbeatDetails
    },
    async meet(label) {
      await meeting.arrive()
      return label
    },
    async info() {
      return { ...Context.current().info }
    },
    async unserializable() {
      return { callback: () => 1 }
    },
  }
  return { activities, attempts, aborted, meeting }
}

/** Run `fn` with a worker for these workflows and `options.activities` on a fresh task queue of `on`. */
const run = async <T>(
  options: Omit<WorkerOptions, "connection" | "taskQueue" | "workflows">,
  fn: (taskQueue: string) => Promise<T>,
  on: TestWorkflowEnvironment = env,
): Promise<T> => {
  const taskQueue = unique("activities")
  const worker = await Worker.create({ connection: on.connection, taskQueue, workflows, ...options })
  return await worker.runUntil(() => fn(taskQueue))
}

/**
 * A time-skipping environment of its own, for a test that may leave an
 * activity task behind (one that hangs until its worker shuts down) and so
 * must not share its clock with the other tests.
 */
const isolated = async <T>(fn: (own: TestWorkflowEnvironment) => Promise<T>): Promise<T> => {
  const own = await TestWorkflowEnvironment.createTimeSkipping()
  try {
    return await fn(own)
  } finally {
    await own.teardown()
  }
}

describe("retries", () => {
  it("retries with exponential backoff: attempts 1..4, journal delays 1s, 2s, 4s on the virtual clock", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const before = await env.currentTimeMs()
      const handle = await env.client.workflow.start(workflows.retryWithBackoff, { taskQueue, workflowId: unique("retry"), args: [3] })
      expect(await handle.result()).toBe(4)
      expect(attempts).toEqual([1, 2, 3, 4])
      const retrying = entriesOf(await historyOf(handle), "ActivityRetrying")
      expect(retrying.map((entry) => entry.delayMs)).toEqual([1000, 2000, 4000])
      expect(retrying.map((entry) => entry.attempt)).toEqual([2, 3, 4])
      expect(retrying.every((entry) => entry.failure.type === "Transient" && entry.failure.message.startsWith("attempt "))).toBe(true)
      // The retries were durable timers: virtual time moved by at least 1 + 2 + 4 seconds.
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(7000)
      // Each retry happened `delayMs` after the failure it follows.
      const history = await historyOf(handle)
      const completed = entriesOf(history, "ActivityCompleted")
      expect(completed).toHaveLength(1)
      expect(completed[0]!.at - retrying[2]!.at).toBe(4000)
    })
  })

  it("caps the interval at maximumInterval: 1s, 3s, 5s, 5s", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const handle = await env.client.workflow.start(workflows.retryCapped, { taskQueue, workflowId: unique("capped"), args: [4] })
      expect(await handle.result()).toBe(5)
      expect(attempts).toEqual([1, 2, 3, 4, 5])
      expect(entriesOf(await historyOf(handle), "ActivityRetrying").map((entry) => entry.delayMs)).toEqual([1000, 3000, 5000, 5000])
    })
  })

  it("uses Temporal's default retry policy when none is given: 1s doubling, not capped at a few attempts", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const handle = await env.client.workflow.start(workflows.retryDefault, { taskQueue, workflowId: unique("default"), args: [6] })
      expect(await handle.result()).toBe(7)
      expect(attempts).toEqual([1, 2, 3, 4, 5, 6, 7])
      expect(entriesOf(await historyOf(handle), "ActivityRetrying").map((entry) => entry.delayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 32000])
    })
  })

  it("does not retry an error type listed in nonRetryableErrorTypes", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const handle = await env.client.workflow.start(workflows.failWith, { taskQueue, workflowId: unique("declined"), args: ["CardDeclined", false] })
      const error = await rejectionOf(handle.result())
      expect(attempts).toEqual([1])
      expect(causeChain(error)).toEqual([
        { name: "WorkflowFailedError", message: expect.any(String) },
        { name: "ActivityFailure", message: expect.any(String) },
        { name: "ApplicationFailure", message: "failed with CardDeclined", type: "CardDeclined" },
      ])
      expect(entriesOf(await historyOf(handle), "ActivityRetrying")).toEqual([])
    })
  })

  it("matches nonRetryableErrorTypes against the name of a plain Error subclass", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const error = await rejectionOf(env.client.workflow.execute(workflows.throwNamedError, { taskQueue, workflowId: unique("named"), args: ["CardDeclined"] }))
      expect(attempts).toEqual([1])
      expect(causeChain(error).at(-1)).toEqual({ name: "ApplicationFailure", message: "card declined", type: "CardDeclined" })
    })
  })

  it("does not retry ApplicationFailure.nonRetryable, whatever the policy", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const error = await rejectionOf(env.client.workflow.execute(workflows.failWith, { taskQueue, workflowId: unique("nonretry"), args: ["Fatal", true] }))
      expect(attempts).toEqual([1])
      const root = (error as WorkflowFailedError).cause?.cause as ApplicationFailure
      expect(root.name).toBe("ApplicationFailure")
      expect(root.type).toBe("Fatal")
      expect(root.nonRetryable).toBe(true)
    })
  })

  it("fails with WorkflowFailedError → ActivityFailure → ApplicationFailure once maximumAttempts are spent", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const workflowId = unique("exhausted")
      const handle = await env.client.workflow.start(workflows.failWith, { taskQueue, workflowId, args: ["Boom", false] })
      const error = await rejectionOf(handle.result())
      expect(attempts).toEqual([1, 2, 3])
      expect(error).toBeInstanceOf(WorkflowFailedError)
      expect(error.name).toBe("WorkflowFailedError")
      expect(error.status).toBe("FAILED")
      expect(error.cause.name).toBe("ActivityFailure")
      expect(error.cause.activityType).toBe("fail")
      expect(error.cause.cause.name).toBe("ApplicationFailure")
      expect(error.cause.cause.type).toBe("Boom")
      expect(error.cause.cause.message).toBe("failed with Boom")
      expect(entriesOf(await historyOf(handle), "ActivityRetrying").map((entry) => entry.delayMs)).toEqual([1000, 2000])
      const description = await handle.describe()
      expect(description.status).toBe("FAILED")
      expect(description.closeTime).toBeInstanceOf(Date)
    })
  })

  it("stops retrying at the scheduleToCloseTimeout and fails with the last attempt's failure", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const handle = await env.client.workflow.start(workflows.failUntilDeadline, { taskQueue, workflowId: unique("deadline") })
      const error = await rejectionOf(handle.result())
      // attempts at 0 s, 1 s and 3 s; the next (at 7 s) would be past the 5 s deadline
      expect(attempts).toEqual([1, 2, 3])
      expect(entriesOf(await historyOf(handle), "ActivityRetrying").map((entry) => entry.delayMs)).toEqual([1000, 2000])
      expect(causeChain(error).map((link) => link.name)).toEqual(["WorkflowFailedError", "ActivityFailure", "ApplicationFailure"])
      expect(error.cause.cause.type).toBe("Flaky")
    })
  })

  it("lets workflow code catch an ActivityFailure and inspect its ApplicationFailure cause", async () => {
    const { activities, attempts } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const result = await env.client.workflow.execute(workflows.catchActivityFailure, { taskQueue, workflowId: unique("catch") })
      expect(attempts).toEqual([1, 2])
      expect(result).toEqual({
        caught: true,
        isActivityFailure: true,
        name: "ActivityFailure",
        activityType: "fail",
        causeIsApplicationFailure: true,
        causeType: "Boom",
        causeMessage: "failed with Boom",
      })
    })
  })
})

describe("timeouts and heartbeats", () => {
  it("times out a hanging activity after startToCloseTimeout and aborts its cancellationSignal", { timeout: 10_000 }, async () => {
    const { activities, attempts, aborted } = recordingActivities()
    await isolated((own) => run({ activities }, async (taskQueue) => {
      const handle = await own.client.workflow.start(workflows.hangWithTimeout, { taskQueue, workflowId: unique("hang") })
      const error = await within(rejectionOf(handle.result()), 5000, "the activity's startToCloseTimeout to fail the workflow")
      expect(attempts).toEqual([1])
      expect(error.name).toBe("WorkflowFailedError")
      expect(error.cause.name).toBe("ActivityFailure")
      expect(error.cause.cause.name).toBe("TimeoutFailure")
      expect(error.cause.cause.timeoutType).toBe("START_TO_CLOSE")
      await within(aborted.promise, 2000, "the hanging activity's cancellationSignal to abort")
    }, own))
  })

  it("reports a startToCloseTimeout as a TimeoutFailure, never as a cancellation (real clock)", { timeout: 10_000 }, async () => {
    // On the real clock, so that the worker's local deadline (which aborts the
    // activity's cancellationSignal) races the durable timeout timer. Many
    // workflows at once, so the race is run many times.
    const local = await TestWorkflowEnvironment.createLocal()
    try {
      const { activities } = recordingActivities()
      const taskQueue = unique("deadline-race")
      const worker = await Worker.create({ connection: local.connection, taskQueue, workflows, activities })
      const timeouts = Array.from({ length: 60 }, (_, i) => 100 + i * 15)
      const causes = await worker.runUntil(() =>
        Promise.all(timeouts.map(async (ms) => {
          const error = await rejectionOf(local.client.workflow.execute(workflows.hangFor, { taskQueue, workflowId: unique(`deadline-${ms}`), args: [ms] }))
          return `${ms}ms: ${causeChain(error).map((link) => link.name).join(" → ")}`
        })))
      const wrong = causes.filter((line) => !line.endsWith("WorkflowFailedError → ActivityFailure → TimeoutFailure"))
      expect(wrong).toEqual([])
    } finally {
      await local.teardown()
    }
  })

  it("fails an activity that stops heartbeating after heartbeatTimeout", { timeout: 10_000 }, async () => {
    const { activities } = recordingActivities()
    await isolated((own) => run({ activities }, async (taskQueue) => {
      const handle = await own.client.workflow.start(workflows.hangWithHeartbeatTimeout, { taskQueue, workflowId: unique("hb-timeout") })
      const error = await within(rejectionOf(handle.result()), 5000, "the activity's heartbeatTimeout to fail the workflow")
      expect(error.cause.cause.name).toBe("TimeoutFailure")
      expect(error.cause.cause.timeoutType).toBe("HEARTBEAT")
    }, own))
  })

  it("records heartbeat details on the activity Context", async () => {
    const { activities } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const result = await env.client.workflow.execute(workflows.heartbeats, {
        taskQueue,
        workflowId: unique("heartbeat"),
        args: [[{ step: 1 }, { step: 2 }, { step: 3, done: true }]],
      })
      expect(result).toEqual({ step: 3, done: true })
    })
  })
})

describe("parallelism and lookup", () => {
  it("runs activities awaited with Promise.all in parallel", async () => {
    const { activities, meeting } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const handle = await env.client.workflow.start(workflows.parallel, { taskQueue, workflowId: unique("parallel"), args: [3] })
      expect(await handle.result()).toEqual(["a0", "a1", "a2"])
      expect(meeting.arrived).toBe(3)
      // All three were scheduled by the same workflow task, before any completed.
      const history = await historyOf(handle)
      const kinds = history.map((entry) => entry.type)
      const scheduled = entriesOf(history, "ActivityScheduled")
      expect(scheduled.map((entry) => entry.activityType)).toEqual(["meet", "meet", "meet"])
      expect(kinds.lastIndexOf("ActivityScheduled")).toBeLessThan(kinds.indexOf("ActivityCompleted"))
    })
  })

  it("shows why a pending activity's last attempt failed in describe(), while it waits for its retry", async () => {
    const { activities } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      // Nobody awaits the result, so the virtual clock stands still at the retry timer.
      const handle = await env.client.workflow.start(workflows.retryWithBackoff, { taskQueue, workflowId: unique("why"), args: [1] })
      const pending = await eventually(async () => {
        const [activity] = (await handle.describe()).pendingActivities
        return activity?.attempt === 2 ? activity : undefined
      }, "the second attempt")
      expect(pending).toMatchObject({ activityType: "flaky", state: "SCHEDULED", lastFailure: { type: "Transient", message: "attempt 1 failed" } })
      expect(await handle.result()).toBe(2)
    })
  })

  it("fails a call to an activity no worker registers with a message naming it", async () => {
    const { activities } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const error = await rejectionOf(env.client.workflow.execute(workflows.callUnknownActivity, { taskQueue, workflowId: unique("unknown") }))
      expect(error.name).toBe("WorkflowFailedError")
      expect(error.cause.name).toBe("ActivityFailure")
      expect(error.cause.activityType).toBe("noSuchActivity")
      expect(error.cause.cause.message).toContain("noSuchActivity")
      expect(error.cause.cause.message).toMatch(/not registered/)
      // and lists what is registered
      expect(error.cause.cause.message).toContain("flaky")
    })
  })

  it("gives the activity its info: type, ids, queue, attempt and a stable idempotency key", async () => {
    const { activities } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const workflowId = unique("info")
      const handle = await env.client.workflow.start(workflows.activityInfo, { taskQueue, workflowId })
      const info = await handle.result()
      const { runId } = await handle.describe()
      expect(info).toMatchObject({
        activityType: "info",
        attempt: 1,
        workflowId,
        workflowRunId: runId,
        workflowType: "activityInfo",
        taskQueue,
      })
      expect(info.idempotencyKey).toBe(`${workflowId}-${runId}-${String(info.activityId)}`)
      // the second call of the workflow: its activity id is its sequence number in the journal
      expect(info.activityId).toBe(String(entriesOf(await historyOf(handle), "ActivityScheduled")[1]!.seq))
    })
  })

  it("fails the activity (not retried) when its result cannot be serialized", async () => {
    const { activities } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const handle = await env.client.workflow.start(workflows.unserializableResult, { taskQueue, workflowId: unique("unser") })
      const error = await rejectionOf(handle.result())
      expect(error.cause.name).toBe("ActivityFailure")
      expect(error.cause.cause.type).toBe("DataConverterError")
      expect(error.cause.cause.message).toContain("result of activity unserializable")
      expect(entriesOf(await historyOf(handle), "ActivityRetrying")).toEqual([])
    })
  })

  it("rejects unserializable activity arguments at the call, inside the workflow", async () => {
    const { activities } = recordingActivities()
    await run({ activities }, async (taskQueue) => {
      const result = await env.client.workflow.execute(workflows.unserializableActivityArgs, { taskQueue, workflowId: unique("unser-args") })
      expect(result).toMatchObject({ threw: true, name: "DataConverterError" })
      expect(String(result.message)).toContain("args[0]")
    })
  })
})
