/**
 * `ApplicationFailureCategory.BENIGN`, as in Temporal: the worker logs a
 * BENIGN activity failure at DEBUG and any other at WARN; the category
 * travels with the failure to the workflow's caller.
 */
import { ActivityFailure, ApplicationFailure, ApplicationFailureCategory, Client, Connection, DefaultLogger, InvalidArgumentError, type LogEntry, Runtime, Worker, WorkflowFailedError } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as activities from "./activities/failure-category.ts"
import { pay } from "./workflows/failure-category.ts"

describe("ApplicationFailureCategory", () => {
  const entries: Array<LogEntry> = []
  let connection: Connection
  let client: Client
  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger("DEBUG", (entry) => entries.push(entry)) })
    connection = await Connection.connect({ namespace: "category", logLevel: "DEBUG" })
    client = new Client({ connection })
  })
  afterAll(async () => {
    await connection.close()
    Runtime.install()
  })

  const failureOf = async (which: "decline" | "bug") => {
    const worker = await Worker.create({ connection, taskQueue: "pay", workflows: { pay }, activities })
    const error = await worker.runUntil(client.workflow.execute(pay, { taskQueue: "pay", workflowId: `pay-${which}`, args: [which] }).catch((e: unknown) => e))
    expect(error).toBeInstanceOf(WorkflowFailedError)
    const cause = (error as WorkflowFailedError).cause
    expect(cause).toBeInstanceOf(ActivityFailure)
    return (cause as ActivityFailure).cause as ApplicationFailure
  }

  it("a BENIGN failure is logged at DEBUG and keeps its category", async () => {
    const failure = await failureOf("decline")
    expect(failure.category).toBe(ApplicationFailureCategory.BENIGN)
    const lines = entries.filter((entry) => entry.message.includes("activity expectedDecline"))
    expect(lines.map((entry) => entry.level)).toEqual(["DEBUG"])
  })

  it("any other failure is logged at WARN", async () => {
    const failure = await failureOf("bug")
    expect(failure.category).toBeUndefined()
    expect(entries.filter((entry) => entry.message.includes("activity realBug")).map((entry) => entry.level)).toEqual(["WARN"])
  })

  it("an unknown category is refused", () => {
    expect(() => ApplicationFailure.create({ message: "x", category: "FATAL" as never })).toThrow(InvalidArgumentError)
  })
})
