/**
 * Temporal's logging surface: `Runtime.install({ logger })`, `DefaultLogger`,
 * workflow `log` (replay-aware, tagged with the run) and activity `log`
 * (tagged with the attempt), and the runtime's own lines reaching the
 * installed logger.
 */
import { Effect, Layer } from "effect"
import { type ActivityFailure, ApplicationFailure, ApplicationFailureCategory, Connection, DefaultLogger, InvalidArgumentError, type LogEntry, Runtime, Store, Worker } from "hotmesh"
import { Context, log as activityLog } from "hotmesh/activity"
import { checkWorkflow, TestWorkflowEnvironment } from "hotmesh/testing"
import { log, proxyActivities, sleep } from "hotmesh/workflow"
import { afterEach, describe, expect, it } from "vitest"
import { makeMemoryStore } from "../../src/stores/memory.ts"
import { eventually, unique } from "../fixtures/e2e-support.ts"

const activities = {
  async greet(name: string): Promise<string> {
    activityLog.info("greeting", { name })
    Context.current().log.debug("via the context")
    return `hello ${name}`
  },
}
const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: "1 minute" })

async function greeter(name: string): Promise<string> {
  log.info("starting", { name })
  const greeting = await greet(name)
  await sleep("1 hour")
  log.warn("done", { greeting })
  return greeting
}

const entries: Array<LogEntry> = []
const install = (level: "TRACE" | "DEBUG" | "INFO" = "DEBUG") => Runtime.install({ logger: new DefaultLogger(level, (entry) => entries.push(entry)) })

afterEach(() => {
  entries.length = 0
  Runtime.install({})
})

describe("logging", () => {
  it("workflow log writes each line once, even when every step replays, tagged with the run; activity log carries the attempt", async () => {
    install()
    const env = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      // maxCachedWorkflows: 0 keeps no live run, so every step replays the history before it.
      const worker = await Worker.create({ connection: env.connection, taskQueue: "logs", workflows: { greeter }, activities, maxCachedWorkflows: 0 })
      const workflowId = unique("greeter")
      const result = await worker.runUntil(env.client.workflow.execute(greeter, { taskQueue: "logs", workflowId, args: ["ada"] }))
      expect(result).toBe("hello ada")

      const fromWorkflow = entries.filter((e) => e.meta?.["sdkComponent"] === "workflow")
      expect(fromWorkflow.map((e) => [e.level, e.message])).toEqual([["INFO", "starting"], ["WARN", "done"]])
      expect(fromWorkflow[0]?.meta).toMatchObject({ name: "ada", namespace: env.connection.namespace, taskQueue: "logs", workflowId, workflowType: "greeter" })
      expect(typeof fromWorkflow[0]?.meta?.["runId"]).toBe("string")
      expect(fromWorkflow[1]?.meta).toMatchObject({ greeting: "hello ada" })

      const fromActivity = entries.filter((e) => e.meta?.["sdkComponent"] === "activity")
      expect(fromActivity.map((e) => [e.level, e.message])).toEqual([["INFO", "greeting"], ["DEBUG", "via the context"]])
      expect(fromActivity[0]?.meta).toMatchObject({ name: "ada", activityType: "greet", attempt: 1, workflowId, workflowType: "greeter", taskQueue: "logs" })
    } finally {
      await env.teardown()
    }
  })

  it("the runtime's own lines reach the installed logger", async () => {
    install("INFO")
    const env = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const worker = await Worker.create({ connection: env.connection, taskQueue: "logs", workflows: { greeter }, activities })
      await worker.runUntil(async () => {
        await env.client.workflow.start("noSuchWorkflow", { taskQueue: "logs", workflowId: unique("unknown") })
        const warning = await eventually(() => entries.find((e) => e.message.includes("task failed, will retry")), "the worker's warning")
        expect(warning.level).toBe("WARN")
        expect(warning.meta).toMatchObject({ sdkComponent: "worker" })
        expect(warning.message).toContain('Workflow type "noSuchWorkflow" is not registered')
      })
    } finally {
      await env.teardown()
    }
  })

  it("fibers a store forks while it is built log through the installed logger, at the connection's level", async () => {
    install("TRACE")
    // A custom backend whose construction forks a fiber that logs (as the Redis relay does), then counts.
    let ran = 0
    const chatty = Layer.effect(
      Store,
      Effect.gen(function* () {
        const store = yield* makeMemoryStore()
        yield* Effect.forkScoped(Effect.andThen(Effect.logWarning("relay: batch failed, retrying"), Effect.sync(() => void ran++)))
        return store
      }),
    )
    for (const [logLevel, expected] of [["None", []], ["WARN", [["WARN", "relay: batch failed, retrying", "worker"]]]] as const) {
      entries.length = 0
      const before = ran
      const connection = await Connection.connect({ namespace: unique("chatty"), store: chatty, logLevel })
      await eventually(() => (ran > before ? true : undefined), "the store's fiber to have logged")
      await connection.close()
      expect(entries.map((e) => [e.level, e.message, e.meta?.["sdkComponent"]])).toEqual(expected)
    }
  })

  it("a failed activity attempt is a warning, unless its ApplicationFailure is BENIGN (debug); the category reaches the workflow", async () => {
    install("DEBUG")
    let brokenCalls = 0
    const failing = {
      async declined(): Promise<never> {
        throw ApplicationFailure.create({ message: "card declined", type: "CardDeclined", nonRetryable: true, category: ApplicationFailureCategory.BENIGN })
      },
      async broken(): Promise<string> {
        if (++brokenCalls === 1) throw new Error("flaky")
        return "ok"
      },
    }
    const { declined, broken } = proxyActivities<typeof failing>({ startToCloseTimeout: "1 minute", retry: { initialInterval: "1s" } })
    async function payer(): Promise<string> {
      const recovered = await broken()
      try {
        return await declined()
      } catch (error) {
        const cause = (error as ActivityFailure).cause as ApplicationFailure
        return `${recovered}, ${cause.type} (${cause.category})`
      }
    }
    const env = await TestWorkflowEnvironment.createTimeSkipping({ logLevel: "Debug" })
    try {
      const worker = await Worker.create({ connection: env.connection, taskQueue: "pay", workflows: { payer }, activities: failing })
      expect(await worker.runUntil(env.client.workflow.execute(payer, { taskQueue: "pay", workflowId: unique("payer") }))).toBe("ok, CardDeclined (BENIGN)")
      const attempts = entries.filter((e) => e.message.startsWith("activity ")).map((e) => [e.level, e.message])
      expect(attempts).toEqual([
        ["WARN", expect.stringMatching(/^activity broken \(workflow payer-.*, attempt 1\) failed: Error: flaky$/)],
        ["DEBUG", expect.stringMatching(/^activity declined \(workflow payer-.*, attempt 1\) failed: CardDeclined: card declined$/)],
      ])
    } finally {
      await env.teardown()
    }
    expect(() => ApplicationFailure.create({ message: "x", nextRetryDelay: "1s" } as never)).toThrow(/"nextRetryDelay" is a Temporal option HotMesh does not support yet/)
    expect(() => ApplicationFailure.create({ message: "x", category: "LOUD" as never })).toThrow(InvalidArgumentError)
  })

  it("DefaultLogger drops entries below its level; bad levels and options are refused", () => {
    const seen: Array<string> = []
    const logger = new DefaultLogger("WARN", (entry) => seen.push(`${entry.level} ${entry.message}`))
    logger.info("hidden")
    logger.warn("shown")
    logger.error("shown too")
    expect(seen).toEqual(["WARN shown", "ERROR shown too"])
    expect(() => new DefaultLogger("LOUD" as "INFO")).toThrow(InvalidArgumentError)
    expect(() => Runtime.install({ shutdownSignals: ["SIGINT"] } as never)).toThrow(/"shutdownSignals" is a Temporal option HotMesh does not support yet/)
  })

  it("logging from workflow code is not a non-deterministic call", async () => {
    install()
    const summary = await checkWorkflow(greeter, { activities, numRuns: 5 })
    expect(summary.runs).toBe(5)
    expect(entries.some((e) => e.message === "done")).toBe(true)
  })
})
