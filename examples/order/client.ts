/**
 * The client half of the order example: starts an order on the `orders` task
 * queue, approves it, waits for the result and prints the timeline. It runs
 * no workflow or activity code: a worker (worker.ts, in another terminal or
 * on another machine) does, and the two meet only in Redis.
 *
 *   npx tsx --conditions=hotmesh-source examples/order/client.ts --redis redis://127.0.0.1:6379 \
 *     [--namespace NAME] [--order-id ID] [--amount CENTS] [--return-window 2s] [--approver EMAIL]
 *
 * Without `--redis`, `REDIS_URL` (or redis://127.0.0.1:6379) is used.
 */
import { Client, Connection, formatHistory, QueryFailedError } from "hotmesh"
import { connectionOptions } from "./options.ts"
import * as workflows from "./workflows.ts"

const argv = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const index = argv.indexOf(name)
  return index === -1 ? undefined : argv[index + 1]
}
const options = connectionOptions(argv)
const redis = options.redis ?? process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const orderId = flag("--order-id") ?? `o-${Date.now().toString(36)}`
const amountCents = Number(flag("--amount") ?? 4200)
const returnWindow = flag("--return-window") ?? "2s"
const approver = flag("--approver") ?? "ada@example.com"

const connection = await Connection.connect({ ...options, redis })
try {
  const client = new Client({ connection })
  const handle = await client.workflow.start(workflows.order, {
    taskQueue: "orders",
    workflowId: orderId,
    args: [{ orderId, amountCents, returnWindow }],
  })
  console.log(`started order ${orderId} (run ${handle.firstExecutionRunId})`)
  try {
    // A query is answered by a worker: it fails after 10 s if none is running.
    console.log(`status: ${await handle.query(workflows.status)}`)
  } catch (error) {
    if (!(error instanceof QueryFailedError)) throw error
    console.log(`status: unknown (${error.message}); the order waits in Redis until a worker starts`)
  }
  // Sent before the workflow waits for it: the signal is kept until it does.
  await handle.signal(workflows.approve, approver)
  console.log(`approved by ${approver}; waiting for the result (the return window is ${returnWindow})`)
  const result = await handle.result()

  const history = await handle.fetchHistory()
  const origin = history.events[0]?.at
  console.log(`\norder ${orderId} (workflow ${history.workflowType}, run ${history.runId})`)
  console.log(formatHistory(history, origin))
  if (result.tracking !== undefined) {
    const child = await client.workflow.getHandle(`ship-${orderId}`).fetchHistory()
    console.log(`\nchild ${child.workflowId} (workflow ${child.workflowType})`)
    console.log(formatHistory(child, origin))
  }
  const description = await handle.describe()
  console.log(`\nstatus: ${description.status}; ${history.events.length} journal entries`)
  console.log("result:", JSON.stringify(result))
} finally {
  await connection.close()
}
