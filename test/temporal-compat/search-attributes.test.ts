/**
 * Temporal-compat: search attributes and memo set from workflow code
 * (`upsertSearchAttributes`, `upsertMemo`, `workflowInfo()`), on children
 * and across continue-as-new, found with `client.workflow.list`. Written as
 * a Temporal test is, with `hotmesh*` for `@temporalio/*`; the one HotMesh
 * call is `client.searchAttributes.define` (Temporal registers keys on the
 * server: `createLocal({ server: { searchAttributes } })`). The same paths on
 * Redis: test/e2e/searchAttributes.test.ts.
 */
import { DeterminismViolationError, Worker, type WorkflowExecutionInfo } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { beforeAll, describe, expect, it } from "vitest"
import { useWorkerEnvironment } from "../fixtures/e2e-support.ts"
import {
  finishSignal,
  infoQuery,
  loopingWorkflow,
  orderWorkflow,
  parentWorkflow,
  priorityKey,
  setStageSignal,
  stageKey,
  tagsKey,
  badUpsertWorkflow,
} from "./workflows/search-attributes.ts"

const workflowsPath = new URL("./workflows/search-attributes.ts", import.meta.url).pathname

describe("search attributes and memo from workflow code", () => {
  let counter = 0
  const taskQueue = "search-attributes"
  const setup = useWorkerEnvironment({ taskQueue, workflowsPath }, () => TestWorkflowEnvironment.createLocal())
  beforeAll(async () => {
    await setup.env.client.searchAttributes.define([stageKey, priorityKey, tagsKey])
  })
  const nextId = (prefix: string) => `${prefix}-${++counter}`

  const listIds = async (query: string): Promise<Array<string>> => {
    const ids: Array<string> = []
    for await (const info of setup.env.client.workflow.list({ query })) ids.push(info.workflowId)
    return ids
  }
  const listOne = async (query: string): Promise<WorkflowExecutionInfo | undefined> => {
    for await (const info of setup.env.client.workflow.list({ query })) return info
    return undefined
  }

  it("upsertSearchAttributes is visible in workflowInfo at once and makes the workflow listable by the new value only", async () => {
    const workflowId = nextId("order")
    const handle = await setup.env.client.workflow.start(orderWorkflow, { taskQueue, workflowId, memo: { customer: "ada" } })
    expect(await handle.query(infoQuery)).toEqual({ priority: 1, memo: { customer: "ada" } })
    expect(await listIds(`OrderTags = 'new' AND WorkflowId = '${workflowId}'`)).toEqual([workflowId])

    await handle.signal(setStageSignal, "paid")
    expect(await handle.query(infoQuery)).toEqual({ stage: "paid", priority: 1, memo: { customer: "ada", lastStage: "paid" } })
    expect(await listIds("OrderStage = 'paid'")).toEqual([workflowId])

    await handle.signal(setStageSignal, "packed")
    await handle.query(infoQuery)
    expect(await listIds("OrderStage = 'paid'")).toEqual([])
    expect(await listIds("OrderStage = 'packed'")).toEqual([workflowId])

    // null removes the attribute and (upsertMemo) the memo key.
    await handle.signal(setStageSignal, null)
    expect(await handle.query(infoQuery)).toEqual({ priority: 1, memo: { customer: "ada" } })
    expect(await listIds(`OrderStage IS NULL AND WorkflowId = '${workflowId}'`)).toEqual([workflowId])

    await handle.signal(finishSignal)
    expect(await handle.result()).toBe("none")
    const info = await listOne(`WorkflowId = '${workflowId}'`)
    expect(info?.status.name).toBe("COMPLETED")
    expect(info?.memo).toEqual({ customer: "ada" })
    expect(info?.typedSearchAttributes.get(priorityKey)).toBe(1)
    expect(info?.typedSearchAttributes.get(tagsKey)).toEqual(["new"])
    const description = await handle.describe()
    expect(description.typedSearchAttributes.get(stageKey)).toBeUndefined()

    // The history replays against the same code, and not against code that drops the upserts.
    const history = await handle.fetchHistory()
    await Worker.runReplayHistory({ workflowsPath }, history)
    const withoutUpserts = async function orderWorkflow(): Promise<string> {
      return "none"
    }
    await expect(Worker.runReplayHistory({ workflows: { orderWorkflow: withoutUpserts } }, history)).rejects.toThrow(DeterminismViolationError)
  })

  it("a value of the wrong type, or an option HotMesh does not honour, throws at the call in workflow code", async () => {
    const errors = await setup.env.client.workflow.execute(badUpsertWorkflow, { taskQueue, workflowId: nextId("bad") })
    expect(errors).toEqual([
      "InvalidArgumentError: search attribute OrderPriority is INT: expected a safe integer; got number 1.5",
      expect.stringMatching(/^InvalidArgumentError: makeContinueAsNewFunc\(options\): "workflowTaskTimeout" is not honoured/),
      "priority undefined",
    ])
  })

  it("a child started with typedSearchAttributes and memo has them (and is listed by them)", async () => {
    const parentId = nextId("parent")
    const childId = `${parentId}-child`
    expect(await setup.env.client.workflow.execute(parentWorkflow, { taskQueue, workflowId: parentId, args: [childId] })).toBe("child")
    const child = await listOne(`OrderStage = 'child' AND WorkflowId = '${childId}'`)
    expect(child?.memo).toEqual({ parent: parentId })
    expect(child?.parentExecution?.workflowId).toBe(parentId)
    expect(await listIds(`WorkflowId = '${parentId}' AND OrderStage IS NOT NULL`)).toEqual([])
  })

  it("continueAsNew keeps upserted attributes; makeContinueAsNewFunc({ typedSearchAttributes }) replaces them", async () => {
    const workflowId = nextId("loop")
    const handle = await setup.env.client.workflow.start(loopingWorkflow, { taskQueue, workflowId, args: [0] })
    expect(await handle.result()).toBe("after-looping")
    const info = await listOne(`OrderStage = 'after-looping' AND WorkflowId = '${workflowId}'`)
    expect(info?.runId).not.toBe(handle.firstExecutionRunId)
    expect(await listIds(`OrderStage = 'looping' AND WorkflowId = '${workflowId}'`)).toEqual([])
  })
})
