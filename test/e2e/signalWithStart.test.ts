/**
 * `client.workflow.signalWithStart`: one commit that signals the open run or
 * starts one with the signal behind its Start — on the embedded store and on
 * a real Redis (separate worker and client connections).
 */
import { InvalidArgumentError } from "hotmesh"
import { condition, defineSignal, setHandler } from "hotmesh/workflow"
import { describe, expect, it } from "vitest"
import { BACKENDS, rejectionOf, unique, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"

const add = defineSignal<[string]>("add")

/** Collects `add` signals until it has `want` of them. */
async function collector(want: number): Promise<Array<string>> {
  const items: Array<string> = []
  setHandler(add, (item) => void items.push(item))
  await condition(() => items.length >= want)
  return items
}

const redis = await useRedis()

for (const backend of BACKENDS) {
  describe(`signalWithStart (${backend})`, () => {
    const mesh = useMesh({ backend, redis, prefix: "sws", workers: { taskQueue: "sws", workflows: { collector } } })

    it("starts the workflow with the signal when none runs, and signals the open run when one does", async () => {
      const workflowId = unique("collector")
      const first = await mesh.client.workflow.signalWithStart(collector, { taskQueue: "sws", workflowId, args: [2], signal: add, signalArgs: ["a"] })
      const second = await mesh.client.workflow.signalWithStart(collector, { taskQueue: "sws", workflowId, args: [2], signal: "add", signalArgs: ["b"] })
      expect(second.signaledRunId).toBe(first.signaledRunId)
      expect(first.firstExecutionRunId).toBe(first.signaledRunId)
      expect(await first.result()).toEqual(["a", "b"])
      expect((await first.describe()).runId).toBe(first.signaledRunId)
    })

    it("starts a new run once the previous one has closed", async () => {
      const workflowId = unique("collector")
      const first = await mesh.client.workflow.signalWithStart(collector, { taskQueue: "sws", workflowId, args: [1], signal: add, signalArgs: ["x"] })
      expect(await first.result()).toEqual(["x"])
      const again = await mesh.client.workflow.signalWithStart(collector, { taskQueue: "sws", workflowId, args: [1], signal: add, signalArgs: ["y"] })
      expect(again.signaledRunId).not.toBe(first.signaledRunId)
      expect(await again.result()).toEqual(["y"])
    })

    it("refuses a missing signal and unknown options", async () => {
      const error = await rejectionOf(mesh.client.workflow.signalWithStart(collector, { taskQueue: "sws", workflowId: unique("c") } as never))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(error.message).toContain("signal is required")
      const unknown = await rejectionOf(mesh.client.workflow.signalWithStart(collector, { taskQueue: "sws", workflowId: unique("c"), signal: add, signalArgz: [] } as never))
      expect(unknown.message).toContain('unknown option "signalArgz"')
    })
  })
}
