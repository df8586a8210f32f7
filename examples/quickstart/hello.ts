import { Client, Connection, Worker } from "hotmesh"
import { proxyActivities, sleep } from "hotmesh/workflow"

// Activities: ordinary async functions with side effects.
const activities = {
  async greet(name: string): Promise<string> {
    return `Hello, ${name}!`
  },
}

// A workflow: plain async code. Each durable call survives crashes and restarts.
const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: "10s" })

export async function hello(name: string): Promise<string> {
  await sleep("1s") // a durable timer in the store, not a setTimeout
  return await greet(name)
}

const connection = await Connection.connect() // the embedded in-memory store
const worker = await Worker.create({ connection, taskQueue: "hello", workflows: { hello }, activities })
const client = new Client({ connection })

const result = await worker.runUntil(
  client.workflow.execute(hello, { taskQueue: "hello", workflowId: "hello-1", args: ["World"] }),
)
console.log(result) // Hello, World!
await connection.close()
