/** `core/lanes.ts`: the fairness key of a task and its lane, stable across versions (the lane names Redis keys). */
import { describe, expect, it } from "vitest"
import { fairnessKeyOf, laneOf } from "../../src/core/lanes.ts"
import type { ActivityTask } from "../../src/core/messages.ts"

describe("lanes", () => {
  it("a task is fair to its workflow type", () => {
    const task: ActivityTask = { workflowId: "wf", runId: "r", workflowType: "order", workflowTaskQueue: "q", seq: 1, attempt: 1, activityType: "charge", args: [], scheduledAt: 0 }
    expect(fairnessKeyOf(task)).toBe("order")
  })

  it.each([
    // FNV-1a 32 of the UTF-8 bytes (reference values from an independent implementation), modulo the lane count.
    ["", 8, 0x811c9dc5 % 8],
    ["a", 8, 0xe40c292c % 8],
    ["limited", 4, 1],
    ["trickled", 4, 1],
    ["limited", 8, 5],
    ["trickled", 8, 1],
    ["é", 7, 0x1e9de8c1 % 7],
    ["limited", 64, 0x43f659a5 % 64],
  ])("laneOf(%j, %i) = %i", (key, lanes, lane) => {
    expect(laneOf(key, lanes)).toBe(lane)
  })

  it("one lane is lane 0 for every key", () => {
    for (const key of ["", "a", "order", "日本"]) expect(laneOf(key, 1)).toBe(0)
  })
})
