/**
 * The worker half of the order example: runs the order workflows and their
 * activities for the `orders` task queue until Ctrl-C (SIGINT) or SIGTERM.
 * Start as many as you like, in as many terminals or machines as you like:
 * they share the work through Redis.
 *
 *   npx tsx --conditions=hotmesh-source examples/order/worker.ts --redis redis://127.0.0.1:6379 [--namespace NAME]
 *
 * Then start orders from another terminal with client.ts. Without `--redis`,
 * `REDIS_URL` (or redis://127.0.0.1:6379) is used: the embedded in-memory
 * store cannot be shared between processes.
 */
import { Connection, Worker } from "hotmesh"
import * as activities from "./activities.ts"
import { connectionOptions } from "./options.ts"
import * as workflows from "./workflows.ts"

const options = connectionOptions(process.argv.slice(2))
const redis = options.redis ?? process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const namespace = options.namespace ?? "default"

const connection = await Connection.connect({ ...options, redis })
const worker = await Worker.create({ connection, taskQueue: "orders", workflows, activities })
const running = worker.run()
console.log(`worker ${process.pid}: task queue "orders", namespace "${namespace}" on ${typeof redis === "string" ? redis.replace(/\/\/[^@/]*@/, "//***@") : "redis"}; Ctrl-C to stop`)

// Ctrl-C in a terminal may reach this process twice within milliseconds (from the
// terminal, and relayed by a wrapper such as tsx): only a second signal at least
// a second after the first means "stop waiting and exit now".
let stoppingSince: number | undefined
const stop = async (signal: NodeJS.Signals) => {
  if (stoppingSince !== undefined) {
    if (Date.now() - stoppingSince < 1000) return
    console.log(`worker ${process.pid}: ${signal} again, exiting at once`)
    process.exit(130)
  }
  stoppingSince = Date.now()
  console.log(`worker ${process.pid}: ${signal}: shutting down (running activities are released to other workers)`)
  await worker.shutdown()
}
process.on("SIGINT", (signal) => void stop(signal))
process.on("SIGTERM", (signal) => void stop(signal))

try {
  await running
} finally {
  await connection.close()
}
console.log(`worker ${process.pid}: stopped`)
