import { Client, Connection, defineSearchAttributeKey, SearchAttributeType, Worker } from "hotmesh"
import { condition, defineSignal, setHandler } from "hotmesh/workflow"

const ship = defineSignal("ship")

export async function order(): Promise<string> {
  let shipped = false
  setHandler(ship, () => void (shipped = true))
  await condition(() => shipped)
  return "shipped"
}

const CustomerId = defineSearchAttributeKey("CustomerId", SearchAttributeType.KEYWORD)

const connection = await Connection.connect()
const worker = await Worker.create({ connection, taskQueue: "orders", workflows: { order } })
const client = new Client({ connection })
await client.searchAttributes.define([CustomerId]) // once per namespace: queries may name it

await worker.runUntil(async () => {
  for (const [workflowId, customer] of [["order-1", "ada"], ["order-2", "ada"], ["order-3", "bob"]] as const) {
    await client.workflow.start(order, {
      taskQueue: "orders", workflowId,
      typedSearchAttributes: [{ key: CustomerId, value: customer }],
      memo: { channel: "web" },
    })
  }
  await client.workflow.getHandle("order-1").signal(ship)
  await client.workflow.getHandle("order-1").result()

  for await (const info of client.workflow.list({ query: "CustomerId = 'ada' AND ExecutionStatus = 'Running'" })) {
    console.log(info.workflowId, info.status.name, info.typedSearchAttributes.get(CustomerId), info.memo)
  } // order-2 RUNNING ada { channel: 'web' }
  console.log(JSON.stringify(await client.workflow.count("WorkflowType = 'order' GROUP BY ExecutionStatus")))
  // {"count":3,"groups":[{"count":2,"groupValues":["Running"]},{"count":1,"groupValues":["Completed"]}]}
})
await connection.close()
