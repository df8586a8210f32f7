/**
 * Interceptors on updates and on signals between workflows, as a Temporal
 * user writes them: the client's `startUpdate` / `startUpdateWithStart` add
 * headers the workflow's `validateUpdate` / `handleUpdate` read; a
 * workflow's outbound `signalWorkflow` adds a header the receiver's
 * `handleSignal` reads. On both stores, and with every step replayed.
 */
import { fileURLToPath } from "node:url"
import {
  Client,
  defaultPayloadConverter,
  InvalidArgumentError,
  WithStartWorkflowOperation,
  type WorkflowClientInterceptor,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
} from "hotmesh"
import { describe, expect, it } from "vitest"
import { BACKENDS_AND_REPLAY, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import { finish, noteSender, noteTaker, rename, renamer } from "./workflows/interceptors-messages.ts"

const workflowsPath = fileURLToPath(new URL("./workflows/interceptors-messages.ts", import.meta.url))
const interceptorsModule = fileURLToPath(new URL("./workflows/interceptors-messages-module.ts", import.meta.url))
const { toPayload } = defaultPayloadConverter

const redis = await useRedis()

describe.each(BACKENDS_AND_REPLAY)("update and external-signal interceptors ($name)", (setup) => {
  /** What the client interceptors saw come back: `[method, updateId, runId]`. */
  const outputs: Array<[string, string, string]> = []
  const requester: WorkflowClientInterceptor = {
    async startUpdate(input, next) {
      const output = await next({ ...input, headers: { ...input.headers, requester: toPayload(`ops (${input.updateName}, ${input.options.waitForStage})`) } })
      outputs.push(["startUpdate", output.updateId, output.workflowRunId])
      return output
    },
    async startUpdateWithStart(input, next) {
      const output = await next({
        ...input,
        workflowStartHeaders: { ...input.workflowStartHeaders, tenant: toPayload(`tenant of ${input.workflowType}`) },
        updateHeaders: { ...input.updateHeaders, requester: toPayload(`uws (${input.updateName}, ${input.updateOptions.waitForStage})`) },
      })
      outputs.push(["startUpdateWithStart", output.updateId, output.workflowExecution.runId])
      return output
    },
  }
  const mesh = useMesh({
    backend: setup.backend,
    redis,
    prefix: "icpm",
    client: { interceptors: { workflow: [requester] } },
    workers: {
      taskQueue: "icpm",
      workflowsPath,
      interceptors: { workflowModules: [interceptorsModule] },
      ...setup.worker,
    },
  })

  it("startUpdate's headers reach handleUpdate; validateUpdate can refuse before the workflow's validator", async () => {
    const handle = await mesh.client.workflow.start(renamer, { taskQueue: "icpm", workflowId: `rename-${mesh.namespace}` })
    expect(await handle.executeUpdate(rename, { args: ["Ada"] })).toBe("initial (for ops (rename, COMPLETED), no tenant)")
    const started = await handle.startUpdate(rename, { args: ["Bob"], updateId: "second", waitForStage: WorkflowUpdateStage.ACCEPTED })
    expect(started.updateId).toBe("second")
    expect(await started.result()).toBe("Ada (for ops (rename, ACCEPTED), no tenant)")
    const refused = await handle.executeUpdate(rename, { args: ["blocked"] }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError)
    expect((refused as Error).cause).toMatchObject({ message: "update rename refused by an interceptor" })
    const invalid = await handle.executeUpdate(rename, { args: [""] }).catch((error: unknown) => error)
    expect((invalid as Error).cause).toMatchObject({ message: "a name must not be empty" })
    await handle.signal(finish)
    expect(await handle.result()).toBe("Bob")
    const { runId } = await handle.describe()
    const mine = outputs.filter(([method]) => method === "startUpdate")
    expect(mine).toHaveLength(4)
    expect(mine[1]).toEqual(["startUpdate", "second", runId])
  })

  it("startUpdateWithStart's start and update headers reach execute and handleUpdate", async () => {
    const workflowId = `uws-${mesh.namespace}`
    const startWorkflowOperation = new WithStartWorkflowOperation(renamer, { taskQueue: "icpm", workflowId, workflowIdConflictPolicy: "USE_EXISTING" })
    const result = await mesh.client.workflow.executeUpdateWithStart(rename, { args: ["Cy"], updateId: "uws-1", startWorkflowOperation })
    expect(result).toBe("initial (for uws (rename, COMPLETED), tenant of renamer)")
    const handle = await startWorkflowOperation.workflowHandle()
    await handle.signal(finish)
    expect(await handle.result()).toBe("Cy")
    expect(outputs).toContainEqual(["startUpdateWithStart", "uws-1", (await handle.describe()).runId])
  })

  it("signalWorkflow's headers reach the receiver's handleSignal", async () => {
    const targetId = `taker-${mesh.namespace}`
    const taker = await mesh.client.workflow.start(noteTaker, { taskQueue: "icpm", workflowId: targetId })
    expect(await mesh.client.workflow.execute(noteSender, { taskQueue: "icpm", workflowId: `sender-${mesh.namespace}`, args: [targetId, "hello"] })).toBe("sent")
    expect(await taker.result()).toBe(`hello via note to ${targetId}`)
  })
})

describe("client interceptor options", () => {
  it("a Temporal client interceptor method HotMesh does not call is refused, not skipped", () => {
    expect(() => new Client({ interceptors: { workflow: [{ startWithDetails: (input: unknown, next: (i: unknown) => unknown) => next(input) } as never] } }))
      .toThrow(InvalidArgumentError)
  })
})
