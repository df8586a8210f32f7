/**
 * The `hotmesh` bin, built (`tsc -p tsconfig.build.json`) and spawned as an
 * operator would, against a real `redis-server`, with a worker in this
 * process on the same Redis and namespace: table and JSON output, exit
 * codes, batch terminate, task-queue describe, dead letters, and bad input
 * (unknown workflow, malformed query, wrong credentials, unreachable Redis:
 * one line on stderr, promptly).
 */
import { spawn, spawnSync } from "node:child_process"
import { createServer } from "node:net"
import { Client, Connection, Store, Worker } from "hotmesh"
import { condition, defineQuery, defineSignal, defineUpdate, setHandler, sleep } from "hotmesh/workflow"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"

const release = defineSignal<[string]>("release")
const stage = defineQuery<string>("stage")
const rename = defineUpdate<string, [string]>("rename")

/** Waits for `release`, then returns what it was released with. */
async function order(id: string): Promise<string> {
  let released: string | undefined
  setHandler(release, (note) => void (released = note))
  setHandler(stage, () => (released === undefined ? `waiting ${id}` : "released"))
  setHandler(rename, (name) => `${id} is now ${name}`, { validator: (name) => { if (name === "") throw new Error("a name is required") } })
  await condition(() => released !== undefined)
  return `shipped ${id} (${released})`
}

async function greet(name: string): Promise<string> {
  return `hello ${name}`
}

async function napper(): Promise<void> {
  await sleep("1 hour")
}

const redis = await useRedis()
const namespace = unique("cli")
const taskQueue = "cli"

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Run the built bin with `args` (after the global options); resolves when it exits. */
const hotmesh = (args: ReadonlyArray<string>, options: { readonly redis?: string | null; readonly onStdout?: (text: string) => void } = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const url = options.redis === undefined ? redis.url : options.redis
    const globals = url === null ? ["--namespace", namespace] : ["--redis", url, "--namespace", namespace]
    const env = { ...process.env }
    delete env["HOTMESH_REDIS_URL"]
    // stdin is a pipe, not a terminal: confirmations need --yes.
    const child = spawn(process.execPath, ["dist/cli/main.js", ...globals, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
    child.stdin.end()
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      options.onStdout?.(stdout)
    })
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const json = async (args: ReadonlyArray<string>): Promise<any> => {
  const run = await hotmesh([...args, "--output", "json"])
  expect(run, run.stderr).toMatchObject({ code: 0 })
  return JSON.parse(run.stdout)
}

let worker: Worker
let running: Promise<void>
let workerConnection: Connection
let client: Client

beforeAll(async () => {
  const build = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { encoding: "utf8" })
  expect(build.status, build.stdout + build.stderr).toBe(0)
  workerConnection = await Connection.connect({ redis: redis.url, namespace })
  client = new Client({ connection: workerConnection })
  worker = await Worker.create({ connection: workerConnection, taskQueue, workflows: { order, greet, napper } })
  running = worker.run()
}, 120_000)

afterAll(async () => {
  await worker?.shutdown()
  await running
  await workerConnection?.close()
})

describe("hotmesh workflow", { timeout: 120_000 }, () => {
  it("start, result and execute; list and count in table and JSON", async () => {
    const id = unique("greet")
    const started = await json(["workflow", "start", "-t", taskQueue, "--type", "greet", "-w", id, "-i", "\"ada\""])
    expect(started).toEqual({ workflowId: id, runId: expect.any(String) })
    expect(await json(["workflow", "result", "-w", id])).toEqual({ workflowId: id, result: "hello ada" })
    const executed = await hotmesh(["workflow", "execute", "-t", taskQueue, "--type", "greet", "-w", unique("greet"), "-i", "\"bob\""])
    expect(executed).toMatchObject({ code: 0, stdout: "hello bob\n", stderr: "" })

    const listed = await json(["workflow", "list", "-q", `WorkflowId = '${id}'`])
    expect(listed).toEqual([expect.objectContaining({ workflowId: id, type: "greet", status: "COMPLETED", taskQueue, historyLength: expect.any(Number) })])
    expect(Date.parse(listed[0].closeTime)).toBeGreaterThanOrEqual(Date.parse(listed[0].startTime))
    const table = await hotmesh(["workflow", "list", "-q", "WorkflowType = 'greet'"])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/WorkflowId.*Type.*Status/)
    expect(table.stdout).toContain(id)
    expect((await json(["workflow", "list", "-q", "WorkflowType = 'greet'", "--limit", "1"])).length).toBe(1)

    expect(await json(["workflow", "count", "-q", "WorkflowType = 'greet'"])).toEqual({ count: 2, groups: [] })
    const grouped = await json(["workflow", "count", "-q", "WorkflowType = 'greet' GROUP BY ExecutionStatus"])
    expect(grouped).toEqual({ count: 2, groups: [{ status: "Completed", count: 2 }] })
    const groupedTable = await hotmesh(["workflow", "count", "-q", "WorkflowType = 'greet' GROUP BY ExecutionStatus"])
    expect(groupedTable.stdout).toMatch(/Completed\s*│\s*2/)
    expect(groupedTable.stdout).toContain("Total: 2")
  })

  it("describe, query, signal, show; show --follow prints events as they land until the run closes", async () => {
    const id = unique("order")
    await client.workflow.start(order, { taskQueue, workflowId: id, args: [id] })
    expect(await json(["workflow", "query", "-w", id, "--name", "stage"])).toEqual({ workflowId: id, result: `waiting ${id}` })
    expect(await json(["workflow", "update", "-w", id, "--name", "rename", "-i", '"rush"', "--update-id", "u1"])).toEqual({ workflowId: id, result: `${id} is now rush` })
    const rejected = await hotmesh(["workflow", "update", "-w", id, "--name", "rename", "-i", '""'])
    expect(rejected.code).toBe(1)
    expect(rejected.stderr).toMatch(/a name is required/)
    const described = await json(["workflow", "describe", "-w", id])
    expect(await json(["workflow", "describe", "-w", id, "-r", described.runId])).toEqual(described)
    const otherRun = await hotmesh(["workflow", "describe", "-w", id, "-r", "not-this-run"])
    expect(otherRun.code).toBe(1)
    expect(otherRun.stderr).toMatch(/run not-this-run of workflow .* is not its latest run/)
    expect(described).toMatchObject({ workflowId: id, type: "order", taskQueue, status: "RUNNING", pendingActivities: [] })
    expect((await hotmesh(["workflow", "describe", "-w", id])).stdout).toMatch(/Status\s*│\s*RUNNING/)

    let sawStart!: () => void
    const started = new Promise<void>((resolve) => (sawStart = resolve))
    const following = hotmesh(["workflow", "show", "-w", id, "--follow"], { onStdout: (text) => text.includes("started with") && sawStart() })
    await started
    expect((await hotmesh(["workflow", "signal", "-w", id, "--name", "release", "-i", "\"by cli\""])).code).toBe(0)
    const followed = await following
    expect(followed.code, followed.stderr).toBe(0)
    expect(followed.stdout).toContain("⚑ signal release [\"by cli\"]")
    expect(followed.stdout).toContain(`■ completed with "shipped ${id} (by cli)"`)

    const shown = await json(["workflow", "show", "-w", id])
    expect(shown.events.map((e: { type: string }) => e.type)).toEqual(["WorkflowStarted", "UpdateRequested", "UpdateAccepted", "UpdateCompleted", "SignalReceived", "WorkflowCompleted"])
    expect((await hotmesh(["workflow", "show", "-w", id])).stdout).toMatch(/\+0\.000s\s+\[task 1\]\s+started with/)
  })

  it("cancel and terminate one execution", async () => {
    const cancelled = unique("order")
    const terminated = unique("order")
    await client.workflow.start(order, { taskQueue, workflowId: cancelled, args: [cancelled] })
    await client.workflow.start(order, { taskQueue, workflowId: terminated, args: [terminated] })
    expect(await json(["workflow", "cancel", "-w", cancelled])).toEqual({ workflowId: cancelled, cancelled: true })
    expect((await hotmesh(["workflow", "terminate", "-w", terminated, "--reason", "operator said so"])).stdout).toBe(`terminated: ${terminated}\n`)
    await eventually(async () => ((await client.workflow.getHandle(cancelled).describe()).status === "CANCELLED" ? true : undefined), "cancelled")
    expect((await client.workflow.getHandle(terminated).describe()).status).toBe("TERMINATED")
    const history = await hotmesh(["workflow", "show", "-w", terminated])
    expect(history.stdout).toContain("■ terminated: operator said so")
    const result = await hotmesh(["workflow", "result", "-w", terminated])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^hotmesh: Workflow execution terminated/)
  })

  it("batch terminate -q --yes terminates exactly what the query selects; without --yes and a terminal it refuses", async () => {
    const prefix = unique("batch")
    const chosen = [1, 2, 3].map((i) => `${prefix}-${i}`)
    const other = unique("keep")
    for (const id of [...chosen, other]) await client.workflow.start(order, { taskQueue, workflowId: id, args: [id] })
    const query = `WorkflowId STARTS_WITH '${prefix}' AND ExecutionStatus = 'Running'`

    const refused = await hotmesh(["workflow", "terminate", "-q", query])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^hotmesh: 3 executions match .*: terminate them\? — refused: stdin is not a terminal; pass --yes to confirm\n$/)
    expect((await client.workflow.count(query)).count).toBe(3)

    const summary = await json(["workflow", "terminate", "-q", query, "--yes", "--reason", "batch"])
    expect(summary).toEqual({ operation: "terminated", query, matched: 3, succeeded: 3, failed: [] })
    for (const id of chosen) expect((await client.workflow.getHandle(id).describe()).status).toBe("TERMINATED")
    expect((await client.workflow.getHandle(other).describe()).status).toBe("RUNNING")
    expect(await json(["workflow", "signal", "-q", query, "--name", "release", "--yes"])).toEqual({ operation: "signaled", query, matched: 0, succeeded: 0, failed: [] })
    await client.workflow.getHandle(other).terminate()
  })

  it("on a terminal a batch asks y/N: no leaves everything, yes goes ahead", async () => {
    const id = unique("asked")
    await client.workflow.start(order, { taskQueue, workflowId: id, args: [id] })
    const query = `WorkflowId = '${id}'`
    // `script` gives the bin a pseudo-terminal; what this test writes is what the operator types.
    const onTerminal = (answer: string) =>
      new Promise<Run>((resolve, reject) => {
        const line = [process.execPath, "dist/cli/main.js", "--redis", redis.url, "--namespace", namespace, "workflow", "cancel", "-q", JSON.stringify(query)].join(" ")
        const child = spawn("script", ["-qec", line, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] })
        let stdout = ""
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString()
          if (stdout.includes("[y/N]")) child.stdin.end(`${answer}\n`)
        })
        child.on("error", reject)
        child.on("close", (code) => resolve({ code, stdout, stderr: "" }))
      })
    const declined = await onTerminal("n")
    expect(declined.stdout).toContain(`1 execution matches "${query}": cancel it? [y/N]`)
    expect(declined.stdout).toContain("hotmesh: aborted")
    expect(declined.code).toBe(1)
    expect((await client.workflow.getHandle(id).describe()).status).toBe("RUNNING")
    const accepted = await onTerminal("y")
    expect(accepted.code).toBe(0)
    expect(accepted.stdout).toContain("cancelled 1 of 1")
    await eventually(async () => ((await client.workflow.getHandle(id).describe()).status === "CANCELLED" ? true : undefined), "cancelled")
  })
})

describe("hotmesh task-queue and dlq", { timeout: 120_000 }, () => {
  it("task-queue describe: streams, the worker's consumers, timers", async () => {
    const id = unique("nap")
    await client.workflow.start(napper, { taskQueue, workflowId: id })
    const described = await eventually(async () => {
      const d = await json(["task-queue", "describe", "-t", taskQueue])
      return d.timers.nextAt === undefined ? undefined : d
    }, "the napper's timer", 15_000)
    expect(described.taskQueue).toBe(taskQueue)
    expect(described.streams.map((s: { kind: string }) => s.kind)).toEqual(["workflow", "activity"])
    const workflowStream = described.streams[0]
    expect(workflowStream).toMatchObject({ length: expect.any(Number), pending: expect.any(Number), deadLetters: 0 })
    expect(workflowStream.consumers.length).toBeGreaterThan(0)
    expect(Date.parse(described.timers.nextAt)).toBeGreaterThan(Date.now() + 30 * 60_000)
    const table = await hotmesh(["task-queue", "describe", "-t", taskQueue])
    expect(table.stdout).toMatch(/Stream.*Depth.*Pending.*OldestPending.*DeadLetters/)
    expect(table.stdout).toMatch(/Next timer/)
    await client.workflow.getHandle(id).terminate()
  })

  it("task-queue limit, pause and resume: set, show and clear a queue's limits; bad numbers are usage errors", async () => {
    const queue = unique("limited")
    expect(await json(["task-queue", "limit", queue])).toEqual({ taskQueue: queue, paused: false })
    expect(await json(["task-queue", "limit", queue, "--rate", "50", "--concurrency", "10"])).toEqual({ taskQueue: queue, rate: 50, concurrency: 10, paused: false })
    expect(await client.taskQueue(queue).getLimits()).toEqual({ rate: 50, concurrency: 10 })
    expect(await json(["task-queue", "pause", queue])).toEqual({ taskQueue: queue, rate: 50, concurrency: 10, paused: true })
    const table = await hotmesh(["task-queue", "limit", queue])
    expect(table.stdout).toMatch(/Rate.*50\/s/)
    expect(table.stdout).toMatch(/Concurrency.*10/)
    expect(table.stdout).toMatch(/Paused.*yes/)
    expect(await json(["task-queue", "limit", queue, "--clear", "--concurrency", "3"])).toEqual({ taskQueue: queue, concurrency: 3, paused: true })
    expect(await json(["task-queue", "resume", queue])).toEqual({ taskQueue: queue, concurrency: 3, paused: false })
    expect(await json(["task-queue", "limit", queue, "--clear"])).toEqual({ taskQueue: queue, paused: false })
    for (const bad of [["--rate", "0"], ["--rate", "fast"], ["--concurrency", "2.5"]]) {
      const run = await hotmesh(["task-queue", "limit", queue, ...bad])
      expect({ code: run.code, lines: run.stderr.trim().split("\n").length }, run.stderr).toEqual({ code: 2, lines: 1 })
      expect(run.stderr).toContain(bad[0]!.slice(2))
    }
    expect(await client.taskQueue(queue).getLimits()).toEqual({})
  })

  it("dlq list, show, retry and purge (purge asks first)", async () => {
    const key = unique("hostile")
    await workerConnection.run(Store.use((store) => store.append([{ stream: { kind: "workflow", taskQueue }, key, body: "{\"type\":\"Signal\"" }])))
    const letters = await eventually(async () => {
      const list = await json(["dlq", "list", "-t", taskQueue])
      return list.length === 1 ? list : undefined
    }, "the dead letter", 15_000)
    expect(letters[0]).toMatchObject({ kind: "workflow", workflowId: key, body: "{\"type\":\"Signal\"", reason: expect.stringMatching(/./) })
    const table = await hotmesh(["dlq", "list", "-t", taskQueue])
    expect(table.stdout).toContain(key)
    expect((await hotmesh(["dlq", "show", "-t", taskQueue, "--id", letters[0].id])).stdout).toContain("{\"type\":\"Signal\"")
    const missing = await hotmesh(["dlq", "show", "-t", taskQueue, "--id", "0/0-1", "--kind", "activity"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(`hotmesh: no dead letter 0/0-1 on task queue ${taskQueue} (activity stream)\n`)

    expect(await json(["dlq", "retry", "-t", taskQueue, "--id", letters[0].id, "--kind", "workflow"])).toEqual({ taskQueue, retried: [letters[0].id] })
    // Retried, it is read again and, still undecodable, parked again under a new id.
    const again = await eventually(async () => {
      const list = await json(["dlq", "list", "-t", taskQueue])
      return list.length === 1 && list[0].id !== letters[0].id ? list : undefined
    }, "the dead letter again", 15_000)
    const refused = await hotmesh(["dlq", "purge", "-t", taskQueue])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/purge 1 dead letter of task queue cli\? — refused/)
    expect(await json(["dlq", "purge", "-t", taskQueue, "--yes"])).toEqual({ taskQueue, purged: 1 })
    expect(await json(["dlq", "list", "-t", taskQueue])).toEqual([])
    expect(again[0].workflowId).toBe(key)
  })
})

describe("hotmesh errors", { timeout: 120_000 }, () => {
  const oneLine = (run: Run) => {
    expect(run.stdout).toBe("")
    expect(run.stderr).toMatch(/^hotmesh: [^\n]+\n$/)
  }

  it("an unknown workflow: exit 1, one line naming it", async () => {
    for (const verb of ["describe", "show", "result"]) {
      const run = await hotmesh(["workflow", verb, "-w", "no-such-workflow"])
      expect(run.code).toBe(1)
      oneLine(run)
      expect(run.stderr).toContain("no-such-workflow")
    }
  })

  it("a malformed query: exit 2, the query with a caret under the offending token", async () => {
    const run = await hotmesh(["workflow", "list", "-q", "WorkflowType = 'x' AND"])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^hotmesh: invalid list filter at column \d+: .+\n {2}WorkflowType = 'x' AND\n {2}\s*\^+\n$/)
    const unknown = await hotmesh(["workflow", "count", "-q", "Colour = 'red'"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("Colour")
  })

  it("bad usage: no Redis, a missing option, a bad JSON input, -w with -q: exit 2", async () => {
    const noRedis = await hotmesh(["workflow", "list"], { redis: null })
    expect(noRedis).toMatchObject({ code: 2, stderr: "hotmesh: no Redis store given: pass --redis URL or set HOTMESH_REDIS_URL\n" })
    const missing = await hotmesh(["workflow", "describe"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '-w, --workflow-id <id>' not specified")
    const badJson = await hotmesh(["workflow", "start", "-t", taskQueue, "--type", "greet", "-w", unique("x"), "-i", "{nope"])
    expect(badJson.code).toBe(2)
    expect(badJson.stderr).toMatch(/^hotmesh: input 1 \(-i\) is not JSON/)
    const both = await hotmesh(["workflow", "cancel", "-w", "a", "-q", "WorkflowId = 'a'"])
    expect(both).toMatchObject({ code: 2, stderr: "hotmesh: give either -w/--workflow-id or -q/--query\n" })
    const help = await hotmesh(["workflow", "terminate", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--reason <reason>")
  })

  it("wrong credentials and unreachable Redis: one line naming the cause, exit 1, no hang", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer()
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
      })
    })
    const host = new URL(redis.url).host
    for (const [url, cause] of [[`redis://nouser:bad@${host}`, /WRONGPASS/], [`redis://127.0.0.1:${port}`, /ECONNREFUSED/]] as const) {
      // No clock here (no timed assertions): a CLI that hung instead of failing would hit the test's timeout.
      const run = await hotmesh(["workflow", "list"], { redis: url })
      expect(run.code, url).toBe(1)
      oneLine(run)
      expect(run.stderr).toMatch(cause)
      expect(run.stderr).toContain("cannot connect to")
    }
  })
})

describe("hotmesh dashboard (built)", { timeout: 120_000 }, () => {
  it("the built bin serves the pages and Chart.js from the package (tsc copies no assets), until SIGTERM", async () => {
    const child = spawn(process.execPath, ["dist/cli/main.js", "--redis", redis.url, "--namespace", namespace, "dashboard", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] })
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve))
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = ""
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /on (http:\/\/\S+\/)/.exec(stdout)
        if (match !== null) resolve(match[1]!)
      })
      child.on("close", (code) => reject(new Error(`hotmesh dashboard exited (${code}) before serving`)))
    })
    for (const [path, type] of [["/", "text/html"], ["/assets/app.js", "text/javascript"], ["/vendor/chart.umd.min.js", "text/javascript"]] as const) {
      const response = await fetch(new URL(path, url))
      expect(response.status, path).toBe(200)
      expect(response.headers.get("content-type"), path).toContain(type)
    }
    const listed = await (await fetch(new URL("/api/executions?pageSize=1", url))).json() as { executions: Array<{ taskQueue: string }> }
    expect(listed.executions[0]?.taskQueue).toBe(taskQueue)
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
  })
})
