/**
 * The dashboard's server without a browser, on the embedded store: what it
 * refuses (a non-loopback host without a token, unknown options, a foreign
 * Host header, a cross-origin or non-JSON action), the JSON API's errors,
 * `/metrics` when given, and `hotmesh dashboard` from the command line.
 */
import { spawn } from "node:child_process"
import { get } from "node:http"
import { Client, Connection, type Dashboard, startDashboard, Worker } from "hotmesh"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"

async function hello(name: string): Promise<string> {
  return `hello ${name}`
}

const connection = Connection.embedded(unique("dash-server"))
let dashboard: Dashboard
let worker: Worker
let running: Promise<void>

beforeAll(async () => {
  worker = await Worker.create({ connection, taskQueue: "srv", workflows: { hello } })
  running = worker.run()
  await new Client({ connection }).workflow.execute(hello, { taskQueue: "srv", workflowId: "h-1", args: ["ada"] })
  dashboard = await startDashboard({ connection, port: 0, metricsText: async () => "# TYPE hotmesh_up gauge\nhotmesh_up 1\n" })
})

afterAll(async () => {
  await dashboard?.close()
  await worker?.shutdown()
  await running
})

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL(path, dashboard.url), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })

describe("startDashboard", () => {
  it("refuses a non-loopback host without a token, and options it does not know", async () => {
    await expect(startDashboard({ connection, port: 0, host: "0.0.0.0" })).rejects.toMatchObject({
      _tag: "InvalidArgumentError",
      message: expect.stringMatching(/^startDashboard: refusing to serve on 0\.0\.0\.0 without a token/),
    })
    await expect(startDashboard({ connection, port: 0, colour: "blue" } as never)).rejects.toMatchObject({ _tag: "InvalidArgumentError", message: expect.stringContaining("colour") })
    await expect(startDashboard({ connection, port: 0, token: "short" })).rejects.toMatchObject({ message: expect.stringContaining("at least 8 characters") })
    const open = await startDashboard({ connection, port: 0, host: "0.0.0.0", token: "a-long-enough-token" })
    expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/)
    await open.close()
  })

  it("serves the page, its assets and Chart.js, with a CSP; answers to loopback host names only", async () => {
    const page = await fetch(dashboard.url)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'")
    expect(await page.text()).toContain('<script type="module" src="/assets/app.js">')
    const chart = await fetch(new URL("/vendor/chart.umd.min.js", dashboard.url))
    expect(chart.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
    expect((await chart.text()).length).toBeGreaterThan(100_000)
    expect((await fetch(new URL("/assets/../server.ts", dashboard.url))).status).toBe(404)
    // fetch cannot set Host: node:http can, as a DNS-rebinding page's request would carry it.
    const status = (host: string) => new Promise<number | undefined>((resolve, reject) =>
      get(dashboard.url, { headers: { host } }, (response) => {
        response.resume()
        resolve(response.statusCode)
      }).on("error", reject))
    expect(await status("evil.example")).toBe(421)
    expect(await status(`localhost:${new URL(dashboard.url).port}`)).toBe(200)
  })

  it("the API: executions with counts, a malformed query as a 400 naming the field, one execution, 404s", async () => {
    const listed = await (await fetch(new URL("/api/executions?query=" + encodeURIComponent("WorkflowType = 'hello'"), dashboard.url))).json()
    expect(listed).toMatchObject({ executions: [{ workflowId: "h-1", runId: expect.any(String), type: "hello", status: "COMPLETED", taskQueue: "srv", historyLength: expect.any(Number), durationMs: expect.any(Number) }], hasMore: false, counts: { total: 1, byStatus: { Completed: 1 } } })
    const bad = await fetch(new URL("/api/executions?query=" + encodeURIComponent("Nope = 1"), dashboard.url))
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ field: "query", error: expect.stringMatching(/^invalid list filter at column 1: .*Nope/) })
    expect((await fetch(new URL("/api/executions?status=Sleeping", dashboard.url))).status).toBe(400)
    const one = await (await fetch(new URL("/api/executions/h-1", dashboard.url))).json() as { execution: unknown; timeline: { lanes: unknown }; descriptions: Array<string> }
    expect(one.execution).toMatchObject({ workflowId: "h-1", status: "COMPLETED", searchAttributes: {} })
    expect(one.timeline.lanes).toEqual(["workflow"])
    expect(one.descriptions[0]).toBe('started with ["ada"]')
    expect((await fetch(new URL("/api/executions/nobody", dashboard.url))).status).toBe(404)
    expect((await fetch(new URL("/api/nothing", dashboard.url))).status).toBe(404)
    expect((await fetch(new URL("/api/executions/h-1/cancel", dashboard.url))).status).toBe(405)
  })

  it("actions: JSON from the same origin only; a bad request says what is wrong", async () => {
    expect((await post("/api/executions/h-1/cancel", {}, { origin: "http://evil.example" })).status).toBe(403)
    const form = await fetch(new URL("/api/executions/h-1/cancel", dashboard.url), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a=1" })
    expect(form.status).toBe(415)
    const unnamed = await post("/api/executions/h-1/signal", { args: [] })
    expect(unnamed.status).toBe(400)
    expect(await unnamed.json()).toEqual({ error: "name is required and must be a non-empty string" })
    expect((await post("/api/task-queues/srv/dead-letters/retry", { kind: "mail", id: "1" })).status).toBe(400)
  })

  it("/metrics serves the given text in Prometheus's format", async () => {
    const metrics = await fetch(new URL("/metrics", dashboard.url))
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
    expect(await metrics.text()).toBe("# TYPE hotmesh_up gauge\nhotmesh_up 1\n")
  })
})

describe("hotmesh dashboard", () => {
  const cli = (args: ReadonlyArray<string>, onStdout?: (text: string) => void) => {
    const child = spawn(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", "src/cli/main.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      onStdout?.(stdout)
    })
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })))
    return { child, exited }
  }

  it("serves until interrupted; refuses a public host without a token in one line", async () => {
    const redis = await useRedis()
    try {
      const refused = await cli(["--redis", redis.url, "dashboard", "--host", "0.0.0.0", "--port", "0"]).exited
      expect(refused).toMatchObject({ code: 2, stdout: "" })
      expect(refused.stderr).toMatch(/^hotmesh: startDashboard: refusing to serve on 0\.0\.0\.0 without a token[^\n]*\n$/)

      let announced!: (url: string) => void
      const url = new Promise<string>((resolve) => (announced = resolve))
      const serving = cli(["--redis", redis.url, "--namespace", "cli-dash", "dashboard", "--port", "0", "--read-only"], (text) => {
        const match = /on (http:\/\/\S+\/)/.exec(text)
        if (match !== null) announced(match[1]!)
      })
      const at = await url
      expect(await (await fetch(new URL("/api/config", at))).json()).toEqual({ readOnly: true, namespace: "cli-dash", metrics: true })
      // By default /metrics is the connection's own Prometheus text.
      expect(await (await fetch(new URL("/metrics", at))).text()).toMatch(/^# HELP hotmesh_/m)
      serving.child.kill("SIGTERM")
      expect((await serving.exited).code).toBe(0)
    } finally {
      await redis.stop()
    }
  }, 30_000)
})
