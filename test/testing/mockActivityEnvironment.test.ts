/** `MockActivityEnvironment`: an activity run outside a worker, with its info, heartbeats and cancellation under the test's control. */
import { CancelledFailure } from "hotmesh"
import { activityInfo, Context, heartbeat, sleep } from "hotmesh/activity"
import { MockActivityEnvironment } from "hotmesh/testing"
import { describe, expect, it } from "vitest"

async function chargeWithProgress(amount: number): Promise<string> {
  for (let step = 1; step <= 3; step++) heartbeat({ step })
  return `${activityInfo().activityType}:${activityInfo().attempt}:${amount}`
}

async function waitsForCancellation(): Promise<string> {
  await sleep("1 hour")
  return "slept"
}

describe("MockActivityEnvironment", () => {
  it("runs an activity with the info given, and emits its heartbeats", async () => {
    const env = new MockActivityEnvironment({ activityType: "charge", attempt: 2 })
    const beats: Array<unknown> = []
    env.on("heartbeat", (details: unknown) => beats.push(details))
    expect(await env.run(chargeWithProgress, 42)).toBe("charge:2:42")
    expect(beats).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }])
    expect(env.context.lastHeartbeatDetails).toEqual({ step: 3 })
  })

  it("cancel() aborts the signal and rejects the activity's sleep with a CancelledFailure", async () => {
    const env = new MockActivityEnvironment()
    const running = env.run(waitsForCancellation)
    expect(env.context.cancellationSignal.aborted).toBe(false)
    env.cancel("test says stop")
    const error: unknown = await running.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CancelledFailure)
    expect((error as Error).message).toContain("test says stop")
    expect(env.context.cancellationSignal.aborted).toBe(true)
    await expect(env.run(() => Context.current().cancelled)).rejects.toBeInstanceOf(CancelledFailure)
  })
})
