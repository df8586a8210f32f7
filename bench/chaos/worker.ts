/**
 * A chaos worker process (scenario "worker SIGKILLs"), run as
 *
 *   node --conditions=hotmesh-source --import tsx bench/chaos/worker.ts
 *
 * with HOTMESH_REDIS_URL, HOTMESH_NAMESPACE, HOTMESH_TASK_QUEUE and
 * HOTMESH_VISIBILITY_MS in the environment. It prints `ready` once its
 * worker runs; SIGTERM shuts it down cleanly; the harness SIGKILLs it.
 */
import { Connection, Worker } from "hotmesh"
import { activities } from "./activities.ts"
import * as workflows from "./workflows.ts"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`chaos worker: ${name} is not set`)
  return value
}

const connection = await Connection.connect({
  redis: env("HOTMESH_REDIS_URL"),
  namespace: env("HOTMESH_NAMESPACE"),
  visibilityTimeoutMs: Number(env("HOTMESH_VISIBILITY_MS")),
  logLevel: "None",
})
const worker = await Worker.create({ connection, taskQueue: env("HOTMESH_TASK_QUEUE"), workflows, activities })
process.on("SIGTERM", () => void worker.shutdown())
const running = worker.run()
process.stdout.write("ready\n")
try {
  await running
} finally {
  await connection.close()
}
