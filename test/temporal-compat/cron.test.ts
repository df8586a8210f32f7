/**
 * Temporal's `cronSchedule` on the time-skipping environment: the first run
 * waits for the first schedule time, each run is a new run of the same
 * workflow id, `result()` follows the runs, and terminate ends the chain.
 */
import { InvalidArgumentError, TerminatedFailure, Worker, WorkflowFailedError } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as activities from "./activities/cron.ts"
import type { RunReport } from "./activities/cron.ts"
import * as workflows from "./workflows/cron.ts"

const TEN_MINUTES = 600_000

describe("cron workflows", () => {
  let env: TestWorkflowEnvironment
  let worker: Worker
  let running: Promise<void>
  const taskQueue = "cron"

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping()
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflows, activities })
    running = worker.run()
  })

  afterAll(async () => {
    activities.listener.onRun = () => undefined
    await worker.shutdown()
    await running
    await env.teardown()
  })

  it("runs at its schedule times, a new run each time, until terminated", async () => {
    const reports: Array<RunReport> = []
    let secondRun!: () => void
    const twoRuns = new Promise<void>((resolve) => (secondRun = resolve))
    activities.listener.onRun = (report) => {
      reports.push(report)
      if (reports.length === 2) secondRun()
    }
    const startedAt = await env.currentTimeMs()
    const handle = await env.client.workflow.start(workflows.cronJob, { taskQueue, workflowId: "cron-chain", cronSchedule: "*/10 * * * *" })
    const result = handle.result().then(() => undefined, (e: unknown) => e) // follows the runs: holds until the chain ends
    await twoRuns
    await handle.terminate("enough")
    const error = await result
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure)
    expect((await handle.describe()).status).toBe("TERMINATED")

    // The first run waited for the first schedule time; every run is a run of its own.
    const firstScheduleTime = Math.ceil((startedAt + 1) / TEN_MINUTES) * TEN_MINUTES
    expect(reports[0]!.at).toBeGreaterThanOrEqual(firstScheduleTime)
    expect(reports[1]!.at).toBeGreaterThanOrEqual(firstScheduleTime + TEN_MINUTES)
    expect(new Set(reports.map((report) => report.runId)).size).toBe(reports.length)
    expect(reports.every((report) => report.cronSchedule === "*/10 * * * *")).toBe(true)

    // Terminated: no run follows.
    const seen = reports.length
    await env.sleep("1 hour")
    expect(reports.length).toBe(seen)
  })

  it("rejects an invalid cron schedule at the call, naming it", async () => {
    const error = await env.client.workflow.start(workflows.cronJob, { taskQueue, workflowId: "cron-bad", cronSchedule: "every tuesday" }).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toContain('cronSchedule "every tuesday" is not a cron expression')
  })
})
