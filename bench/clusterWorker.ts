/**
 * A worker process for bench/cluster.ts: connects with the JSON
 * `Connection.connect` options in HOTMESH_BENCH_CONNECT, polls task queue
 * "bench", prints "ready" once running, shuts down cleanly on SIGTERM.
 */
import { Connection, type ConnectionOptions, Worker } from "hotmesh"
import { BENCH_WORKER } from "./benchWorker.ts"

const options = JSON.parse(process.env["HOTMESH_BENCH_CONNECT"] ?? "{}") as ConnectionOptions
const connection = await Connection.connect({ ...options, logLevel: "Error" })
const worker = await Worker.create({ connection, taskQueue: "bench", ...BENCH_WORKER })
process.on("SIGTERM", () => void worker.shutdown())
const running = worker.run()
console.log("ready")
await running
await connection.close()
