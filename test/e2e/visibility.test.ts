/**
 * Visibility: `client.workflow.list` / `count` over the store's own index,
 * with typed search attributes and the memo — on the embedded store and on
 * a real Redis (separate worker and client connections, 8 partitions, so a
 * list is a scatter-gather).
 */
import { defineSearchAttributeKey, InvalidArgumentError, SearchAttributeType } from "hotmesh"
import { ApplicationFailure, condition, defineSignal, setHandler } from "hotmesh/workflow"
import { beforeAll, describe, expect, it } from "vitest"
import { BACKENDS, collectAll, rejectionOf, unique, useMesh } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"

const release = defineSignal("release")

/** Waits for `release`, then returns its input; fails when asked to. */
async function order(input: { readonly fail?: boolean }): Promise<string> {
  let released = false
  setHandler(release, () => void (released = true))
  await condition(() => released)
  if (input.fail === true) throw ApplicationFailure.nonRetryable("declined")
  return "shipped"
}

async function quick(): Promise<string> {
  return "done"
}

const Customer = defineSearchAttributeKey("CustomerId", SearchAttributeType.KEYWORD)
const Amount = defineSearchAttributeKey("Amount", SearchAttributeType.DOUBLE)
const Tags = defineSearchAttributeKey("Tags", SearchAttributeType.KEYWORD_LIST)
const DueAt = defineSearchAttributeKey("DueAt", SearchAttributeType.DATETIME)

const redis = await useRedis()

for (const backend of BACKENDS) {
  describe(`visibility (${backend})`, () => {
    const ids = { ada1: unique("ada-1"), ada2: unique("ada-2"), bob: unique("bob"), quick1: unique("q1"), quick2: unique("q2") }

    const mesh = useMesh({ backend, redis, prefix: "vis", workers: { taskQueue: "vis", workflows: { order, quick } } })
    beforeAll(async () => {
      const client = mesh.client
      await client.searchAttributes.define([Customer, Amount, Tags, DueAt])
      const start = (workflowId: string, customer: string, amount: number, tags: Array<string>, fail = false) =>
        client.workflow.start(order, {
          taskQueue: "vis",
          workflowId,
          args: [{ fail }],
          typedSearchAttributes: [
            { key: Customer, value: customer },
            { key: Amount, value: amount },
            { key: Tags, value: tags },
            { key: DueAt, value: new Date("2026-12-24T00:00:00Z") },
          ],
          memo: { note: `order of ${customer}` },
        })
      await start(ids.ada1, "ada", 10, ["eu"])
      await start(ids.ada2, "ada", 99.5, ["eu", "vip"], true)
      await start(ids.bob, "bob", 5, ["us"])
      await client.workflow.execute(quick, { taskQueue: "vis", workflowId: ids.quick1 })
      await client.workflow.execute(quick, { taskQueue: "vis", workflowId: ids.quick2 })
      // ada-2 fails; the others keep running.
      const failing = client.workflow.getHandle(ids.ada2)
      await failing.signal(release)
      await rejectionOf(failing.result())
    })

    const idsOf = async (query?: string, pageSize?: number) =>
      (await collectAll(mesh.client.workflow.list({ ...(query === undefined ? {} : { query }), ...(pageSize === undefined ? {} : { pageSize }) }))).map((info) => info.workflowId)

    it("lists what a filter selects, newest first, with status, attributes and memo", async () => {
      expect(await idsOf("WorkflowType = 'order' AND ExecutionStatus = 'Running'")).toEqual([ids.bob, ids.ada1])
      expect(await idsOf("CustomerId = 'ada'")).toEqual([ids.ada2, ids.ada1])
      expect(await idsOf("CustomerId = 'ada' AND ExecutionStatus = 'Failed'")).toEqual([ids.ada2])
      expect(await idsOf("Tags = 'eu' AND Amount > 50")).toEqual([ids.ada2])
      expect(await idsOf("Tags IN ('us', 'vip')")).toEqual([ids.bob, ids.ada2])
      expect(await idsOf("WorkflowType = 'quick' ORDER BY StartTime ASC")).toEqual([ids.quick1, ids.quick2])
      expect(await idsOf(`WorkflowId STARTS_WITH '${ids.bob.slice(0, 5)}'`)).toContain(ids.bob)
      expect(await idsOf("CloseTime IS NULL")).toEqual([ids.bob, ids.ada1])
      const [info] = await collectAll(mesh.client.workflow.list({ query: `WorkflowId = '${ids.ada2}'` }))
      expect(info).toMatchObject({ type: "order", workflowId: ids.ada2, taskQueue: "vis", status: { name: "FAILED" }, memo: { note: "order of ada" } })
      expect(info?.closeTime).toBeInstanceOf(Date)
      expect(info?.typedSearchAttributes.get(Amount)).toBe(99.5)
      expect(info?.typedSearchAttributes.get(DueAt)).toEqual(new Date("2026-12-24T00:00:00Z"))
      expect(info?.typedSearchAttributes.get(Tags)).toEqual(["eu", "vip"])
    })

    it("pages lazily: every page size gives the same list, each execution once", async () => {
      const all = await idsOf()
      expect(new Set(all).size).toBe(5)
      expect(await idsOf(undefined, 1)).toEqual(all)
      expect(await idsOf(undefined, 2)).toEqual(all)
      expect(await idsOf("ORDER BY CloseTime DESC", 2)).toEqual([ids.bob, ids.ada1, ids.ada2, ids.quick2, ids.quick1])
    })

    it("counts, grouped by status", async () => {
      expect(await mesh.client.workflow.count()).toEqual({ count: 5, groups: [] })
      const grouped = await mesh.client.workflow.count("GROUP BY ExecutionStatus")
      expect(grouped.count).toBe(5)
      expect(new Map(grouped.groups.map((g) => [g.groupValues[0], g.count]))).toEqual(new Map([["Running", 2], ["Completed", 2], ["Failed", 1]]))
      expect((await mesh.client.workflow.count("WorkflowType = 'order'")).count).toBe(3)
      expect((await mesh.client.workflow.count("CustomerId = 'ada' GROUP BY ExecutionStatus")).groups).toHaveLength(2)
    })

    it("follows a status change: a released order leaves Running", async () => {
      const handle = mesh.client.workflow.getHandle(ids.ada1)
      await handle.signal(release)
      expect(await handle.result()).toBe("shipped")
      expect(await idsOf("ExecutionStatus = 'Running'")).toEqual([ids.bob])
      expect(await idsOf("ExecutionStatus = 'Completed' AND CustomerId = 'ada'")).toEqual([ids.ada1])
    })

    it("rejects malformed queries, undeclared attributes, wrong value types and redeclared keys", async () => {
      const bad = async (query: string) => rejectionOf(collectAll(mesh.client.workflow.list({ query })))
      expect(await bad("WorkflowType = ")).toBeInstanceOf(InvalidArgumentError)
      expect(((await bad("Region = 'eu'")) as Error).message).toMatch(/unknown field Region/)
      expect(((await bad("Amount = 'lots'")) as Error).message).toMatch(/Amount is DOUBLE/)
      expect(((await rejectionOf(mesh.client.workflow.count("GROUP BY WorkflowType"))) as Error).message).toMatch(/GROUP BY supports ExecutionStatus only/)
      expect(((await rejectionOf(mesh.client.searchAttributes.define([defineSearchAttributeKey("Amount", SearchAttributeType.INT)]))) as Error).message)
        .toMatch(/already declared as DOUBLE/)
      const start = mesh.client.workflow.start(quick, { taskQueue: "vis", workflowId: unique("bad"), typedSearchAttributes: [{ key: Amount, value: "ten" as unknown as number }] })
      expect(((await rejectionOf(start)) as Error).message).toMatch(/search attribute Amount is DOUBLE: expected a finite number/)
      expect((await mesh.client.searchAttributes.list()).map((key) => key.name)).toEqual(["Amount", "CustomerId", "DueAt", "Tags"])
    })
  })
}
