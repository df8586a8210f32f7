/**
 * `npm run bench:protocol`'s Node activity worker, in a process of its own
 * (as the Python worker is): serves `echo` on the queue given, until SIGTERM.
 *   node --conditions=hotmesh-source --import tsx bench/protocol/nodeWorker.ts <redisUrl> <namespace> <taskQueue> <concurrency>
 */
import { Connection, Worker } from "hotmesh"

const [redis, namespace, taskQueue, concurrency] = process.argv.slice(2)
const connection = await Connection.connect({ redis: redis!, namespace: namespace! })
const worker = await Worker.create({
  connection,
  taskQueue: taskQueue!,
  activities: { echo: async (value: number) => value },
  maxConcurrentActivityTaskExecutions: Number(concurrency),
})
const running = worker.run()
process.on("SIGTERM", () => void worker.shutdown())
console.log("node worker ready")
await running
await connection.close()
