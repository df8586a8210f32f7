/**
 * `hotmesh/activity`'s free functions (`activityInfo`, `heartbeat`, `sleep`,
 * `cancellationSignal`, `CancelledFailure`, `log`) under Temporal's
 * `MockActivityEnvironment`, as a Temporal user tests activities.
 */
import { CancelledFailure } from "hotmesh/activity"
import { MockActivityEnvironment } from "hotmesh/testing"
import { describe, expect, it } from "vitest"
import { processItems, waitForCancel } from "./activities/activity-functions.ts"

describe("activity functions", () => {
  it("activityInfo and heartbeat: each heartbeat is a \"heartbeat\" event", async () => {
    const env = new MockActivityEnvironment({ activityType: "processItems", attempt: 2 })
    const beats: Array<unknown> = []
    env.on("heartbeat", (details: unknown) => beats.push(details))
    await expect(env.run(processItems, 3)).resolves.toBe("processItems done in attempt 2")
    expect(beats).toEqual([0, 1, 2])
  })

  it("cancel() aborts cancellationSignal: the activity fails with CancelledFailure", async () => {
    const env = new MockActivityEnvironment()
    const running = env.run(waitForCancel)
    env.cancel()
    const error = await running.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CancelledFailure)
  })

  it("outside an activity the functions throw", async () => {
    await expect(processItems(1)).rejects.toThrow()
  })
})
