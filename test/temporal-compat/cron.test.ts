/**
 * Temporal's `cronSchedule` on the time-skipping environment: the first run
 * waits for the first schedule time, each run is a new run of the same
 * workflow id, `result()` follows the runs, and terminate ends the chain.
 */
import { InvalidArgumentError, TerminatedFailure, TimeoutFailure, WorkflowFailedError } from "hotmesh"
import { afterAll, describe, expect, it } from "vitest"
import { recordRuns, useWorkerEnvironment } from "../fixtures/e2e-support.ts"
import * as activities from "./activities/cron.ts"
import * as workflows from "./workflows/cron.ts"

const TEN_MINUTES = 600_000

describe("cron workflows", () => {
  const taskQueue = "cron"
  const setup = useWorkerEnvironment({ taskQueue, workflows, activities })
  afterAll(() => {
    activities.listener.onRun = () => undefined
  })

  it("runs at its schedule times, a new run each time, until terminated", async () => {
    const { reports, reached: twoRuns } = recordRuns(activities.listener, 2)
    const startedAt = await setup.env.currentTimeMs()
    const handle = await setup.env.client.workflow.start(workflows.cronJob, { taskQueue, workflowId: "cron-chain", cronSchedule: "*/10 * * * *" })
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
    await setup.env.sleep("1 hour")
    expect(reports.length).toBe(seen)
  })

  it("with workflowExecutionTimeout: the timeout spans every run of the chain, and the chain ends TIMED_OUT", async () => {
    const { reports } = recordRuns(activities.listener)
    const startedAt = await setup.env.currentTimeMs()
    const handle = await setup.env.client.workflow.start(workflows.cronJob, { taskQueue, workflowId: "cron-execution-timeout", cronSchedule: "*/10 * * * *", workflowExecutionTimeout: "25 minutes" })
    const error = await handle.result().then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure)
    // Runs at the schedule times within 25 minutes of the start (two or three), then no run follows.
    expect(reports.length).toBeGreaterThanOrEqual(2)
    expect(reports.every((report) => report.at < startedAt + 25 * 60_000)).toBe(true)
    const description = await handle.describe()
    expect(description.status).toBe("TIMED_OUT")
    expect(description.closeTime!.getTime()).toBe(startedAt + 25 * 60_000)
  })

  it("with workflowRunTimeout: each run that outlasts it times out and the chain goes on at the next schedule time", async () => {
    const { reports, reached: twoRuns } = recordRuns(activities.listener, 2)
    const handle = await setup.env.client.workflow.start(workflows.slowCronJob, { taskQueue, workflowId: "cron-run-timeout", cronSchedule: "*/10 * * * *", workflowRunTimeout: "1 minute" })
    const result = handle.result().then(() => undefined, (e: unknown) => e) // a waiter lets virtual time pass
    await twoRuns
    // The first run sleeps an hour: only its run timeout can have closed it before the second schedule time.
    expect(reports[1]!.at - reports[0]!.at).toBeLessThan(3600_000)
    expect(reports[1]!.runId).not.toBe(reports[0]!.runId)
    await handle.terminate("enough")
    expect(((await result) as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure)
  })

  it("rejects an invalid cron schedule at the call, naming it", async () => {
    const error = await setup.env.client.workflow.start(workflows.cronJob, { taskQueue, workflowId: "cron-bad", cronSchedule: "every tuesday" }).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toContain('cronSchedule "every tuesday" is not a cron expression')
  })
})
