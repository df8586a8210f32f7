/**
 * The README's Python worker is examples/python/charge.py, verbatim, and it
 * serves examples/python/workflows.ts's `checkout` (real redis-server).
 */
import { Client, Connection, Worker } from "hotmesh"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, expect, it } from "vitest"
import * as workflows from "../../examples/python/workflows.ts"
import { requirePython } from "../support/python.ts"
import { startRedis } from "../support/redisServer.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const example = join(root, "examples", "python", "charge.py")

// A private server: the example uses the default namespace.
const redis = await startRedis({ extraArgs: ["--save", ""] })
afterAll(() => redis.stop())

it("the README's Python worker is examples/python/charge.py, verbatim", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8")
  expect([...readme.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1])).toContain(readFileSync(example, "utf8"))
})

it("examples/python/charge.py charges for a TypeScript workflow, and refuses a non-positive amount", async () => {
  const connection = await Connection.connect({ redis: redis.url })
  const worker = await Worker.create({ connection, taskQueue: "checkout", workflows })
  const running = worker.run()
  const python = spawn(requirePython(), [example], {
    env: { ...process.env, PYTHONPATH: join(root, "workers", "python"), REDIS_URL: redis.url },
    stdio: ["ignore", "ignore", "pipe"],
  })
  let log = ""
  python.stderr.on("data", (chunk: Buffer) => {
    log += chunk.toString()
  })
  try {
    const client = new Client({ connection })
    const run = (order: string, cents: number) =>
      client.workflow.execute(workflows.checkout, { taskQueue: "checkout", workflowId: order, args: [order, cents] })
    expect(await run("order-1", 500), log).toBe("charged 500 for order-1")
    expect(await run("order-2", 0), log).toBe("not charged: nothing to charge")
  } finally {
    python.kill("SIGKILL")
    await worker.shutdown()
    await running
    await connection.close()
  }
})
