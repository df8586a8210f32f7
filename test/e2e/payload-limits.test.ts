/**
 * Payload size limits (`Connection.connect({ payloadLimits })`): client calls
 * over the limit reject with `PayloadSizeLimitError` before anything is
 * written; inside a workflow an oversize command payload fails the workflow
 * task; an oversize activity result or heartbeat fails the attempt
 * non-retryably; above the warning size one warning is logged per call site.
 */
import { ActivityFailure, ApplicationFailure, Connection, Client, InvalidArgumentError, PayloadSizeLimitError, QueryFailedError, WorkflowFailedError, WorkflowNotFoundError } from "hotmesh"
import { Context } from "hotmesh/activity"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { describe, expect, it, vi } from "vitest"
import * as workflows from "../fixtures/payload-workflows.ts"
import type { PayloadActivities } from "../fixtures/payload-workflows.ts"
import { eventually, rejectionOf, unique, useWorkerEnvironment } from "../fixtures/e2e-support.ts"

const LIMIT = 1000
const WARN = 100

const measured: Array<number> = []
const attempts = new Map<string, number>()
const activities: PayloadActivities = {
  async measure(text) {
    measured.push(text.length)
    return text.length
  },
  async produce(size) {
    const { workflowId } = Context.current().info
    attempts.set(workflowId, (attempts.get(workflowId) ?? 0) + 1)
    return "x".repeat(size)
  },
  async beat(size) {
    const { workflowId } = Context.current().info
    attempts.set(workflowId, (attempts.get(workflowId) ?? 0) + 1)
    Context.current().heartbeat("x".repeat(size))
    return "done"
  },
}

const setup = useWorkerEnvironment({ taskQueue: "payloads", workflows, activities }, () =>
  TestWorkflowEnvironment.createTimeSkipping({ payloadLimits: { errorBytes: LIMIT, warnBytes: WARN } }))

const start = (workflow: string, size: number) =>
  setup.env.client.workflow.start(workflow, { taskQueue: "payloads", workflowId: unique(workflow), args: [size] })

describe("options", () => {
  it("refuses invalid limits at connect with InvalidArgumentError naming the option", async () => {
    for (const payloadLimits of [{ errorBytes: 0 }, { warnBytes: -1 }, { errorBytes: 1.5 }, { errorBytes: 1000, warnBytes: 2000 }, { warnBytes: 3 * 1024 * 1024 }]) {
      const error = await rejectionOf(Connection.connect({ namespace: unique("limits"), payloadLimits }))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toContain("payloadLimits.")
    }
  })

  it("refuses a 3 MiB argument with the default limits (2 MiB), before anything is written", async () => {
    const connection = await Connection.connect({ namespace: unique("defaults") })
    try {
      const client = new Client({ connection })
      const big = "x".repeat(3 * 1024 * 1024)
      const error = await rejectionOf(client.workflow.start("anything", { taskQueue: "nobody", workflowId: "big", args: [big] }))
      expect(error).toBeInstanceOf(PayloadSizeLimitError)
      expect(error).toMatchObject({ _tag: "PayloadSizeLimitError", label: "start workflow anything args", limitBytes: 2 * 1024 * 1024, sizeBytes: big.length + 2 })
      expect(await rejectionOf(client.workflow.getHandle("big").describe())).toBeInstanceOf(WorkflowNotFoundError)
      // Just under the limit is accepted.
      await client.workflow.start("anything", { taskQueue: "nobody", workflowId: "under", args: ["x".repeat(2 * 1024 * 1024 - 2)] })
    } finally {
      await connection.close()
    }
  })
})

describe("client calls", () => {
  it("start, signal and query over the limit reject with PayloadSizeLimitError naming the call", async () => {
    const big = "é".repeat(LIMIT / 2) // 2 bytes each in UTF-8: LIMIT bytes + quotes
    const startError = await rejectionOf(setup.env.client.workflow.start(workflows.echo, { taskQueue: "payloads", workflowId: unique("echo"), args: [big] }))
    expect(startError).toMatchObject({ _tag: "PayloadSizeLimitError", label: "start workflow echo args", sizeBytes: LIMIT + 2, limitBytes: LIMIT })
    expect((startError as Error).message).toContain("payloadLimits")

    const handle = await setup.env.client.workflow.start(workflows.activityArg, { taskQueue: "payloads", workflowId: unique("target"), args: [LIMIT * 2] })
    expect(await rejectionOf(handle.signal("poke", big))).toMatchObject({ _tag: "PayloadSizeLimitError", label: "signal poke args" })
    expect(await rejectionOf(handle.query("peek", big))).toMatchObject({ _tag: "PayloadSizeLimitError", label: "query peek args" })
  })

  it("a query answer over the limit rejects with QueryFailedError naming it", async () => {
    const handle = await setup.env.client.workflow.start(workflows.queryable, { taskQueue: "payloads", workflowId: unique("queryable") })
    expect(await handle.query(workflows.sized, 10)).toBe("x".repeat(10))
    const error = await rejectionOf(handle.query(workflows.sized, LIMIT * 2))
    expect(error).toBeInstanceOf(QueryFailedError)
    expect((error as Error).message).toContain(`result of query sized is ${LIMIT * 2 + 2} bytes`)
  })

  it("logs one warning per call site above warnBytes", async () => {
    const log = vi.spyOn(console, "log")
    try {
      const arg = "w".repeat(WARN * 2)
      for (let i = 0; i < 3; i++) await setup.env.client.workflow.start(workflows.echo, { taskQueue: "payloads", workflowId: unique("warn"), args: [arg] })
      await setup.env.client.workflow.start(workflows.echo, { taskQueue: "payloads", workflowId: unique("quiet"), args: ["small"] })
      const warnings = () => log.mock.calls.filter((call) => call.some((part) => String(part).includes("start workflow echo args is")))
      await eventually(() => (warnings().length > 0 ? true : undefined), "the payload warning")
      expect(warnings()).toHaveLength(1)
      expect(String(warnings()[0]?.join(" "))).toContain(`${WARN * 2 + 2} bytes, over the payload warning size of ${WARN} bytes`)
    } finally {
      log.mockRestore()
    }
  })
})

describe("inside workflows", () => {
  const taskFailureOf = (handle: { describe(): Promise<{ taskFailure?: { type: string; message: string } }> }) =>
    eventually(async () => (await handle.describe()).taskFailure, "the workflow task failure")

  it.each([
    ["activityArg", "activity measure args"],
    ["childArg", "child workflow echo args"],
    ["continueAsNewArg", "continueAsNew continueAsNewArg args"],
    ["bigResult", "result of workflow bigResult"],
  ])("an oversize payload in %s fails the workflow task (retried), naming %s", async (workflow, label) => {
    const before = measured.length
    const handle = await start(workflow, LIMIT * 2)
    const failure = await taskFailureOf(handle)
    expect(failure.type).toBe("PayloadSizeLimitError")
    expect(failure.message).toContain(`${label} is`)
    expect(failure.message).toContain(`limit of ${LIMIT} bytes`)
    const description = await handle.describe()
    expect(description.status).toBe("RUNNING")
    expect(description.pendingActivities).toHaveLength(0)
    expect(measured.length).toBe(before)
  })

  it("a payload under the limit goes through", async () => {
    expect(await (await start("activityArg", LIMIT / 2)).result()).toBe(LIMIT / 2)
    expect(await (await start("childArg", LIMIT / 2)).result()).toBe(LIMIT / 2)
  })

  it("an oversize activity result fails the activity with a non-retryable ApplicationFailure (no retry)", async () => {
    const handle = await start("activityResult", LIMIT * 2)
    const error = await rejectionOf(handle.result())
    expect(error).toBeInstanceOf(WorkflowFailedError)
    const activity = (error as WorkflowFailedError).cause
    expect(activity).toBeInstanceOf(ActivityFailure)
    const cause = (activity as ActivityFailure).cause
    expect(cause).toBeInstanceOf(ApplicationFailure)
    expect(cause).toMatchObject({ type: "PayloadSizeLimitError", nonRetryable: true })
    expect((cause as Error).message).toContain("result of activity produce is")
    expect(attempts.get(handle.workflowId)).toBe(1)
  })

  it("oversize heartbeat details fail the attempt non-retryably", async () => {
    const handle = await start("heartbeatDetails", LIMIT * 2)
    const error = await rejectionOf(handle.result())
    const cause = ((error as WorkflowFailedError).cause as ActivityFailure).cause
    expect(cause).toMatchObject({ type: "PayloadSizeLimitError", nonRetryable: true })
    expect((cause as Error).message).toContain("heartbeat details of activity beat is")
    expect(attempts.get(handle.workflowId)).toBe(1)
    expect(await (await start("heartbeatDetails", 10)).result()).toBe("done")
  })
})
