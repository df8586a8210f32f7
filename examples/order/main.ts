/**
 * `npm start`: run the order example end to end and print its timeline.
 *
 *   npm start                                   # embedded in-memory store
 *   npm start -- --redis redis://127.0.0.1:6379 # a Redis store
 *
 * One process plays both roles here (a worker and a client); see worker.ts
 * and client.ts for the two halves in separate processes.
 */
import { Client, Connection, formatHistory, Worker } from "hotmesh"
import * as activities from "./activities.ts"
import { connectionOptions } from "./options.ts"
import * as workflows from "./workflows.ts"

const connection = await Connection.connect(connectionOptions(process.argv.slice(2)))
const worker = await Worker.create({ connection, taskQueue: "orders", workflows, activities })
const client = new Client({ connection })

const result = await worker.runUntil(async () => {
  const orderId = `o-${Date.now().toString(36)}`
  const handle = await client.workflow.start(workflows.order, {
    taskQueue: "orders",
    workflowId: orderId,
    args: [{ orderId, amountCents: 4200, returnWindow: "2s" }],
  })
  console.log(`started order ${orderId}; status: ${await handle.query(workflows.status)}`)
  // Sent before the workflow waits for it: the signal is kept until it does.
  await handle.signal(workflows.approve, "ada@example.com")
  const result = await handle.result()

  const history = await handle.fetchHistory()
  const child = await client.workflow.getHandle(`ship-${orderId}`).fetchHistory()
  const origin = history.events[0]?.at
  console.log(`\norder ${orderId} (workflow ${history.workflowType}, run ${history.runId})`)
  console.log(formatHistory(history, origin))
  console.log(`\nchild ${child.workflowId} (workflow ${child.workflowType})`)
  console.log(formatHistory(child, origin))
  const description = await handle.describe()
  console.log(`\nstatus: ${description.status}; ${history.events.length} journal entries`)
  return result
})

console.log("result:", JSON.stringify(result))
await connection.close()
