/**
 * Search attributes and memo from workflow code: `upsertSearchAttributes`,
 * `upsertMemo`, `workflowInfo().typedSearchAttributes` / `.memo`, children
 * started with them and continue-as-new — each upsert journaled and its
 * index entries written in the same commit, so `client.workflow.list` finds
 * the run by its new values (and no longer by its old ones). On the
 * embedded store and on a real Redis (separate worker and client
 * connections).
 */
import { defineSearchAttributeKey, DeterminismViolationError, SearchAttributeType, Worker } from "hotmesh"
import { assertDeterministic } from "hotmesh/testing"
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  makeContinueAsNewFunc,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from "hotmesh/workflow"
import { beforeAll, describe, expect, it } from "vitest"
import { BACKENDS, collectAll, entriesOf, eventually, historyOf, unique, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"

const Stage = defineSearchAttributeKey("Stage", SearchAttributeType.KEYWORD)
const Attempts = defineSearchAttributeKey("Attempts", SearchAttributeType.INT)
const DueAt = defineSearchAttributeKey("DueAt", SearchAttributeType.DATETIME)

const advance = defineSignal<[string]>("advance")
const seen = defineQuery<{ readonly stage: string | undefined; readonly attempts: number | undefined; readonly memo: Record<string, unknown> | undefined }>("seen")

/** Moves through the stages it is signalled (`remove` removes the attribute); answers `seen` from `workflowInfo()`. */
async function pipeline(): Promise<Array<string>> {
  const stages: Array<string> = []
  const log: Array<string> = []
  setHandler(advance, (stage) => void stages.push(stage))
  setHandler(seen, () => {
    const info = workflowInfo()
    return { stage: info.typedSearchAttributes.get(Stage), attempts: info.typedSearchAttributes.get(Attempts), memo: info.memo }
  })
  upsertSearchAttributes([{ key: Stage, value: "new" }, { key: Attempts, value: 0 }])
  for (let attempts = 1; ; attempts++) {
    await condition(() => stages.length > 0)
    const stage = stages.shift()!
    if (stage === "done") return log
    upsertSearchAttributes([{ key: Stage, value: stage === "remove" ? null : stage }, { key: Attempts, value: attempts }])
    upsertMemo({ stage: stage === "remove" ? undefined : stage, at: attempts })
    // The change shows at once, before the task commits (as in Temporal).
    log.push(`${String(workflowInfo().typedSearchAttributes.get(Stage))}@${String(workflowInfo().memo?.["at"])}`)
  }
}

/** Reports the search attributes and memo it started with. */
async function kid(): Promise<{ readonly stage: string | undefined; readonly due: string | undefined; readonly memo: Record<string, unknown> | undefined }> {
  const info = workflowInfo()
  return { stage: info.typedSearchAttributes.get(Stage), due: info.typedSearchAttributes.get(DueAt)?.toISOString(), memo: info.memo }
}

async function parent(): Promise<unknown> {
  upsertSearchAttributes([{ key: Stage, value: "parent" }])
  return executeChild(kid, {
    workflowId: `${workflowInfo().workflowId}-kid`,
    typedSearchAttributes: [{ key: Stage, value: "child" }, { key: DueAt, value: new Date("2027-01-01T00:00:00Z") }],
    memo: { from: "parent" },
  })
}

/** Round 0 upserts and continues; round 1 replaces them through makeContinueAsNewFunc; round 2 reports. */
async function rollover(round: number): Promise<unknown> {
  if (round === 0) {
    upsertSearchAttributes([{ key: Stage, value: "rolled" }])
    upsertMemo({ round: 0 })
    return continueAsNew<typeof rollover>(1)
  }
  if (round === 1) {
    const inherited = workflowInfo().typedSearchAttributes.get(Stage)
    if (inherited !== "rolled" || workflowInfo().memo?.["round"] !== 0) throw new Error(`round 1 did not inherit: ${String(inherited)}`)
    await sleep(1)
    return makeContinueAsNewFunc<typeof rollover>({ typedSearchAttributes: [{ key: Stage, value: "replaced" }], memo: { round: 1 } })(2)
  }
  return { stage: workflowInfo().typedSearchAttributes.get(Stage), memo: workflowInfo().memo }
}

/** Upserts a string into an INT attribute: the call throws, failing the workflow task. */
async function mistyped(): Promise<void> {
  upsertSearchAttributes([{ key: Attempts, value: "three" as unknown as number }])
}

const redis = await useRedis()

for (const backend of BACKENDS) {
  describe(`search attributes from workflow code (${backend})`, () => {
    // No live-run cache: every activation replays the journal, so replay must rebuild workflowInfo() exactly.
    const mesh = useMesh({ backend, redis, prefix: "ups", workers: { taskQueue: "ups", workflows: { pipeline, kid, parent, rollover, mistyped }, maxCachedWorkflows: 0 } })
    beforeAll(() => mesh.client.searchAttributes.define([Stage, Attempts, DueAt]))

    const list = async (query: string) => collectAll(mesh.client.workflow.list({ query }))
    const idsOf = async (query: string) => (await list(query)).map((info) => info.workflowId)

    it("an upsert is listed by its new value, no longer by the old one; null removes it; the memo follows", async () => {
      const workflowId = unique("pipe")
      const handle = await mesh.client.workflow.start(pipeline, { taskQueue: "ups", workflowId, memo: { owner: "ops" } })
      // A query is answered after the workflow task before it committed.
      expect(await handle.query(seen)).toEqual({ stage: "new", attempts: 0, memo: { owner: "ops" } })
      expect(await idsOf(`WorkflowId = '${workflowId}' AND Stage = 'new'`)).toEqual([workflowId])

      await handle.signal(advance, "paid")
      expect(await handle.query(seen)).toEqual({ stage: "paid", attempts: 1, memo: { owner: "ops", stage: "paid", at: 1 } })
      expect(await idsOf("Stage = 'paid'")).toEqual([workflowId])
      expect(await idsOf("Stage = 'new'")).toEqual([])
      expect(await idsOf("Attempts = 1 AND ExecutionStatus = 'Running'")).toEqual([workflowId])

      await handle.signal(advance, "shipped")
      await handle.query(seen)
      expect(await idsOf("Stage = 'paid'")).toEqual([])
      expect(await idsOf("Stage = 'shipped' AND Attempts >= 2")).toEqual([workflowId])

      await handle.signal(advance, "remove")
      expect(await handle.query(seen)).toEqual({ stage: undefined, attempts: 3, memo: { owner: "ops", at: 3 } })
      expect(await idsOf(`WorkflowId = '${workflowId}' AND Stage IS NULL`)).toEqual([workflowId])
      expect(await idsOf("Stage = 'shipped'")).toEqual([])

      await handle.signal(advance, "done")
      expect(await handle.result()).toEqual(["paid@1", "shipped@2", "undefined@3"])
      const [info] = await list(`WorkflowId = '${workflowId}'`)
      expect(info?.status.name).toBe("COMPLETED")
      expect(info?.memo).toEqual({ owner: "ops", at: 3 })
      expect(info?.typedSearchAttributes.getAll()).toEqual([{ key: Attempts, value: 3 }])
      expect((await handle.describe()).memo).toEqual({ owner: "ops", at: 3 })

      // Journaled as commands, and the recorded history replays (and rejects code that drops an upsert).
      const events = await historyOf(handle)
      expect(entriesOf(events, "SearchAttributesUpserted").map((entry) => entry.searchAttributes["Stage"])).toEqual([
        { type: "KEYWORD", value: "new" }, { type: "KEYWORD", value: "paid" }, { type: "KEYWORD", value: "shipped" }, null,
      ])
      expect(entriesOf(events, "MemoUpserted")[2]?.memo).toEqual({ stage: null, at: "3" })
      const history = await handle.fetchHistory()
      await expect(assertDeterministic({ pipeline }, [history])).resolves.toMatchObject({ histories: 1 })
      async function pipelineWithoutFirstUpsert(): Promise<Array<string>> {
        setHandler(advance, () => undefined)
        await condition(() => false)
        return []
      }
      await expect(Worker.runReplayHistory({ workflows: { pipeline: pipelineWithoutFirstUpsert } }, history)).rejects.toThrow(DeterminismViolationError)
    })

    it("a child started with typedSearchAttributes and memo is listed by them (not the parent's)", async () => {
      const workflowId = unique("parent")
      expect(await mesh.client.workflow.execute(parent, { taskQueue: "ups", workflowId })).toEqual({
        stage: "child",
        due: "2027-01-01T00:00:00.000Z",
        memo: { from: "parent" },
      })
      expect(await idsOf(`Stage = 'child' AND WorkflowId = '${workflowId}-kid'`)).toEqual([`${workflowId}-kid`])
      expect(await idsOf(`Stage = 'parent' AND WorkflowId = '${workflowId}'`)).toEqual([workflowId])
      const [child] = await list(`WorkflowId = '${workflowId}-kid'`)
      expect(child?.memo).toEqual({ from: "parent" })
      expect(child?.parentExecution?.workflowId).toBe(workflowId)
    })

    it("continue-as-new keeps the upserted attributes and memo; makeContinueAsNewFunc replaces them", async () => {
      const workflowId = unique("roll")
      const handle = await mesh.client.workflow.start(rollover, { taskQueue: "ups", workflowId, args: [0] })
      expect(await handle.result()).toEqual({ stage: "replaced", memo: { round: 1 } })
      const [info] = await list(`WorkflowId = '${workflowId}'`)
      expect(info?.runId).not.toBe(handle.firstExecutionRunId)
      expect(info?.typedSearchAttributes.get(Stage)).toBe("replaced")
      expect(await idsOf(`Stage = 'rolled' AND WorkflowId = '${workflowId}'`)).toEqual([])
      expect(await idsOf(`Stage = 'replaced' AND WorkflowId = '${workflowId}'`)).toEqual([workflowId])
    })

    it("a value of the wrong type fails the workflow task with InvalidArgumentError, naming the attribute", async () => {
      const handle = await mesh.client.workflow.start(mistyped, { taskQueue: "ups", workflowId: unique("mistyped") })
      const failure = await eventually(async () => (await handle.describe()).taskFailure, "the task failure")
      expect(failure.type).toBe("InvalidArgumentError")
      expect(failure.message).toMatch(/search attribute Attempts is INT: expected a safe integer; got "three"/)
      await handle.terminate("test over")
    })
  })
}
