/**
 * The dashboard in a real browser (Debian's chromium via playwright-core),
 * over a real `redis-server`, with real workflows: completed (an activity
 * retried after a failure, a timer, a child), failed, running (a retry
 * waiting, with its heartbeat), stuck on a determinism violation, and one
 * whose id is markup. Each test opens a page and checks what a person would
 * see; every page is saved as a screenshot under test/artifacts/dashboard/.
 */
import { join } from "node:path"
import { ApplicationFailure, Client, Connection, type Dashboard, defineSearchAttributeKey, SearchAttributeType, startDashboard, Store, Worker } from "hotmesh"
import { Context, heartbeat } from "hotmesh/activity"
import { condition, defineQuery, defineSignal, executeChild, proxyActivities, setHandler, sleep } from "hotmesh/workflow"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { collectAll, eventually, unique } from "../fixtures/e2e-support.ts"
import { useRedis } from "../support/redisServer.ts"
import { ARTIFACTS, launchBrowser } from "./browser.ts"

const activities = {
  async charge(order: string): Promise<string> {
    if (Context.current().info.attempt === 1) throw ApplicationFailure.retryable("card network timeout", "NetworkTimeout")
    return `charged ${order}`
  },
  async refuse(): Promise<string> {
    throw ApplicationFailure.nonRetryable("card declined", "CardDeclined")
  },
  async flaky(): Promise<string> {
    heartbeat({ progress: "50%" })
    throw ApplicationFailure.retryable("warehouse unreachable", "Unreachable")
  },
  async step(): Promise<string> {
    return "a"
  },
  async other(): Promise<string> {
    return "b"
  },
}
const { charge, refuse, step, other } = proxyActivities<typeof activities>({ startToCloseTimeout: "10 s", retry: { initialInterval: "50 ms", maximumAttempts: 3 } })
const { flaky } = proxyActivities<typeof activities>({ startToCloseTimeout: "10 s", retry: { initialInterval: "1 hour" } })
const go = defineSignal<[string]>("go")
const stage = defineQuery<string>("stage")

async function ship(order: string): Promise<string> {
  return `shipped ${order}`
}
/** Completed: charge fails once and is retried, a timer, a child. */
async function order(id: string): Promise<string> {
  const charged = await charge(id)
  await sleep("20 ms")
  return `${charged}, ${await executeChild(ship, { args: [id], workflowId: `${id}-ship` })}`
}
async function failing(): Promise<string> {
  return refuse()
}
/** Running until signalled; answers a query. */
async function waiter(): Promise<string> {
  let note: string | undefined
  setHandler(go, (n) => void (note = n))
  setHandler(stage, () => (note === undefined ? "waiting" : `got ${note}`))
  await condition(() => note !== undefined)
  return note!
}
/** Running: its activity heartbeated, failed and waits an hour for attempt 2. */
async function stalled(): Promise<string> {
  return flaky()
}
async function greet(name: string): Promise<string> {
  return `hello ${name}`
}
/** v1 of `drifting`, and an incompatible v2 (another activity first). */
async function driftingV1(): Promise<string> {
  let released = false
  setHandler(go, () => void (released = true))
  await step()
  await condition(() => released)
  return "done"
}
async function driftingV2(): Promise<string> {
  let released = false
  setHandler(go, () => void (released = true))
  await other()
  await condition(() => released)
  return "done"
}

const redis = await useRedis()
const namespace = unique("dash")
const taskQueue = "dash"
const CustomerId = defineSearchAttributeKey("CustomerId", SearchAttributeType.KEYWORD)
const XSS_ID = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`

let connection: Connection
let client: Client
let worker: Worker
let running: Promise<void>
let driftWorker: Worker
let driftRunning: Promise<void>
let dashboard: Dashboard
let browser: Browser
const ids = { order: unique("order"), failing: unique("failing"), waiter: unique("waiter"), stalled: unique("stalled"), drifting: unique("drifting") }

const openPage = async (url: string): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.setDefaultTimeout(10_000)
  page.on("pageerror", (error) => {
    throw error
  })
  await page.goto(url)
  return page
}
/** Wait for what the page shows (a loaded machine can take seconds to render). */
const poll = <T>(probe: () => Promise<T>) => expect.poll(probe, { timeout: 10_000, interval: 50 })
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
const executionUrl = (id: string, base = dashboard.url) => `${base}#/executions/${encodeURIComponent(id)}`

beforeAll(async () => {
  connection = await Connection.connect({ redis: redis.url, namespace })
  client = new Client({ connection })
  await client.searchAttributes.define([CustomerId])
  worker = await Worker.create({ connection, taskQueue, workflows: { order, ship, failing, waiter, stalled, greet }, activities })
  running = worker.run()
  const done = await Promise.all([
    client.workflow.execute(order, { taskQueue, workflowId: ids.order, args: [ids.order], typedSearchAttributes: [{ key: CustomerId, value: "ada" }], memo: { note: "leave at the door" } }),
    client.workflow.execute(greet, { taskQueue, workflowId: XSS_ID, args: ["<b>bold</b>"] }),
    client.workflow.execute(failing, { taskQueue, workflowId: ids.failing }).catch((error: unknown) => error),
  ])
  expect(done[0]).toBe(`charged ${ids.order}, shipped ${ids.order}`)
  await client.workflow.start(waiter, { taskQueue, workflowId: ids.waiter })
  const stalledHandle = await client.workflow.start(stalled, { taskQueue, workflowId: ids.stalled })
  await eventually(async () => ((await stalledHandle.describe()).pendingActivities[0]?.attempt === 2 ? true : undefined), "the stalled activity's second attempt", 15_000)

  // Determinism: v1 runs up to its condition; v2 takes over and replays it on the signal.
  const v1 = await Worker.create({ connection, taskQueue: "dash-drift", workflows: { drifting: driftingV1 }, activities })
  const drifting = await v1.runUntil(async () => {
    const handle = await client.workflow.start("drifting", { taskQueue: "dash-drift", workflowId: ids.drifting })
    await eventually(async () => ((await handle.fetchHistory()).events.some((e) => e.type === "ActivityCompleted") ? true : undefined), "drifting's first activity", 15_000)
    return handle
  })
  driftWorker = await Worker.create({ connection, taskQueue: "dash-drift", workflows: { drifting: driftingV2 }, activities })
  driftRunning = driftWorker.run()
  await drifting.signal(go, "now")
  await eventually(async () => ((await drifting.describe()).taskFailure !== undefined ? true : undefined), "drifting's task failure", 15_000)

  dashboard = await startDashboard({ connection, port: 0, sampleIntervalMs: 250 })
  browser = await launchBrowser()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await dashboard?.close()
  for (const id of [ids.waiter, ids.stalled, ids.drifting]) await client?.workflow.getHandle(id).terminate().catch(() => {})
  await driftWorker?.shutdown()
  await driftRunning
  await worker?.shutdown()
  await running
  await connection?.close()
})

describe("the dashboard in chromium", { timeout: 30_000 }, () => {
  it("executions: every workflow listed, status chips with counts, the query filters, a bad query shows its error inline", async () => {
    const page = await openPage(dashboard.url)
    const rows = page.locator("#executions tbody tr")
    await poll(() => rows.count()).toBe(7)
    await poll(() => page.locator("#results").getAttribute("aria-busy")).toBe("false")
    for (const id of [ids.order, `${ids.order}-ship`, ids.failing, ids.waiter, ids.stalled, ids.drifting]) {
      await poll(() => page.locator("#executions").getByRole("link", { name: id, exact: true }).count()).toBe(1)
    }
    expect(await page.locator('.chip[data-status="All"] .count').textContent()).toBe("7")
    expect(await page.locator('.chip[data-status="Running"] .count').textContent()).toBe("3")
    expect(await page.locator('.chip[data-status="Failed"] .count').textContent()).toBe("1")
    expect(await page.locator('.chip[data-status="Completed"] .count').textContent()).toBe("3")
    // The id that is markup shows as text, and nothing of it ran.
    await poll(() => page.locator("#executions").getByText(XSS_ID, { exact: true }).count()).toBe(1)
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined()
    await shot(page, "executions")
    await page.locator("#executions").getByRole("link", { name: XSS_ID, exact: true }).click()
    await poll(() => page.locator("h1 .id").textContent()).toBe(XSS_ID)
    await poll(() => page.locator("#history").getByText('started with ["<b>bold</b>"]', { exact: true }).count()).toBe(1)
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined()
    await page.goBack()

    await page.getByLabel("List filter").fill("WorkflowType = 'failing'")
    await page.getByRole("button", { name: "Search" }).click()
    await poll(() => rows.count()).toBe(1)
    expect(await rows.first().textContent()).toContain(ids.failing)
    expect(await rows.first().locator(".status").textContent()).toBe("Failed")

    await page.getByLabel("List filter").fill("CustomerId = 'ada'")
    await page.getByRole("button", { name: "Search" }).click()
    await poll(() => rows.locator("td:nth-child(2)").allTextContents()).toEqual([ids.order])

    await page.getByLabel("List filter").fill("")
    await page.getByRole("button", { name: "Search" }).click()
    await poll(() => rows.count()).toBe(7)
    await page.locator('.chip[data-status="Running"]').click()
    await poll(() => rows.count()).toBe(3)

    // Paging: 3 a page, newest first. Executions started in the same
    // millisecond are ordered by key, so the expected page is the list's
    // own first three (checked newest first), not the order they were started in.
    const listed = await collectAll(client.workflow.list())
    const startTimes = listed.map((e) => e.startTime.getTime())
    expect(startTimes).toEqual([...startTimes].sort((a, b) => b - a))
    expect(listed.slice(0, 3).map((e) => e.workflowId).sort()).toEqual([ids.drifting, ids.stalled, ids.waiter].sort())
    await page.goto(`${dashboard.url}#/executions?pageSize=3`)
    await poll(() => page.locator("#executions tbody tr td:nth-child(2)").allTextContents()).toEqual(listed.slice(0, 3).map((e) => e.workflowId))
    await page.getByRole("link", { name: "Next →" }).click()
    await poll(() => page.locator(".pager").textContent()).toContain("Page 2")
    expect(await rows.count()).toBe(3)
    await page.getByRole("link", { name: "Next →" }).click()
    await poll(() => page.locator(".pager").textContent()).toContain("Page 3")
    expect(await rows.count()).toBe(1)
    expect(await page.getByRole("link", { name: "Next →" }).count()).toBe(0)
    await page.getByRole("link", { name: "← Previous" }).click()
    await poll(() => page.locator(".pager").textContent()).toContain("Page 2")

    await page.getByLabel("List filter").fill("WorkflowType = ")
    await page.getByRole("button", { name: "Search" }).click()
    const error = page.locator("#query-error")
    await poll(() => error.isVisible()).toBe(true)
    expect(await error.textContent()).toMatch(/^invalid list filter at column 15: expected a value .*, found the end of the query\n {2}WorkflowType =\n {16}\^$/)
    expect(await page.getByLabel("List filter").getAttribute("aria-invalid")).toBe("true")
    await shot(page, "executions-query-error")
    await page.close()
  })

  it("one completed execution: summary with its child, and a timeline of each attempt, the backoff, the timer and the child", async () => {
    const page = await openPage(executionUrl(ids.order))
    await poll(() => page.locator("#status").textContent()).toBe("Completed")
    expect(await page.locator("#children").getByRole("link").textContent()).toBe(`${ids.order}-ship`)
    expect(await page.locator("#search-attributes tbody td").allTextContents()).toEqual(["CustomerId", "ada"])
    expect(await page.locator("#memo tbody td").allTextContents()).toEqual(["note", "leave at the door"])
    const bars = await page.locator("#timeline-table tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)))
    const summary = bars.map(([lane, label, kind, , , outcome]) => `${lane} | ${label} | ${kind} | ${outcome}`)
    expect(summary).toEqual([
      "workflow | run | workflow | completed",
      "activity charge #1 | attempt 1 | attempt | failed",
      "activity charge #1 | backoff before attempt 2 | backoff | completed",
      "activity charge #1 | attempt 2 | attempt | completed",
      "timer #2 | sleep 20 ms | timer | completed",
      `child ship #3 | ${ids.order}-ship | child | completed`,
    ])
    expect(bars[1]![6]).toContain("NetworkTimeout: card network timeout")
    // The chart draws the same bars, one row per lane.
    const chart = await page.locator("#timeline-chart").evaluate((canvas) => {
      const instance = (globalThis as unknown as { Chart: { getChart(c: unknown): { data: { labels: Array<string>; datasets: Array<{ data: Array<unknown> }> } } } }).Chart.getChart(canvas)
      return { lanes: instance.data.labels, bars: instance.data.datasets[0]!.data.length }
    })
    expect(chart).toEqual({ lanes: ["workflow", "activity charge #1", "timer #2", "child ship #3"], bars: 6 })
    expect(await page.locator("#history tbody tr").count()).toBeGreaterThan(6)
    expect(await page.locator("#history-json").textContent()).toContain('"type": "WorkflowCompleted"')
    await shot(page, "execution")

    await page.locator("#children").getByRole("link").click()
    await poll(() => page.locator("#parent").textContent()).toBe(ids.order)
    await page.close()
  })

  it("a workflow stuck on a determinism violation shows the failing task first; a retrying activity shows its attempt, failure and heartbeat", async () => {
    const page = await openPage(executionUrl(ids.drifting))
    const alert = page.locator("#task-failure")
    await poll(() => alert.isVisible()).toBe(true)
    expect(await alert.locator("h2").textContent()).toBe("Workflow task failing: DeterminismViolationError")
    expect(await alert.locator("pre").textContent()).toMatch(/step|other/)
    await shot(page, "execution-determinism")

    await page.goto(executionUrl(ids.stalled))
    const pending = page.locator("#pending-activities tbody tr")
    await poll(() => pending.count()).toBe(1)
    const cells = await pending.first().locator("td").allTextContents()
    expect(cells.slice(1)).toEqual(["flaky", "SCHEDULED", "2", "Unreachable: warehouse unreachable", '{\n  "progress": "50%"\n}'])
    await shot(page, "execution-pending")
    await page.close()
  })

  it("actions: a query answers, cancel asks first, then the status changes to cancelled", async () => {
    const page = await openPage(executionUrl(ids.waiter))
    await poll(() => page.locator("#status").textContent()).toBe("Running")
    await page.getByLabel("Signal, query or update name").fill("stage")
    await page.getByRole("button", { name: "Query" }).click()
    await poll(() => page.locator("#action-output").textContent()).toBe('query returned "waiting"')
    // By keyboard: Escape backs out of the confirmation; Enter on the focused Confirm goes ahead.
    const cancel = page.getByRole("button", { name: "Cancel" })
    const dialog = page.getByRole("dialog")
    await cancel.focus()
    await page.keyboard.press("Enter")
    await poll(() => dialog.isVisible()).toBe(true)
    await page.keyboard.press("Escape")
    await poll(() => dialog.isVisible()).toBe(false)
    expect((await client.workflow.getHandle(ids.waiter).describe()).status).toBe("RUNNING")
    await cancel.focus()
    await page.keyboard.press("Enter")
    await poll(() => dialog.isVisible()).toBe(true)
    expect(await dialog.locator("h2").textContent()).toBe(`Cancel ${ids.waiter}?`)
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).toBe("Confirm")
    await shot(page, "execution-confirm")
    await page.keyboard.press("Enter")
    await poll(() => page.locator("#status").textContent()).toBe("Cancelled")
    expect((await client.workflow.getHandle(ids.waiter).describe()).status).toBe("CANCELLED")
    await page.close()
  })

  it("task queues: depth, workers seen, sparklines, and a dead letter retried then purged", async () => {
    const key = unique("hostile")
    await connection.run(Store.use((store) => store.append([{ stream: { kind: "workflow", taskQueue }, key, body: "{\"type\":\"Signal\"" }])))
    await eventually(async () => ((await client.deadLetters.list({ taskQueue })).length === 1 ? true : undefined), "the dead letter", 15_000)
    const page = await openPage(`${dashboard.url}#/task-queues`)
    const queues = page.locator("#task-queues tbody tr")
    await poll(() => queues.count()).toBe(2)
    expect(await queues.locator("td:first-child").allTextContents()).toEqual(["dash", "dash-drift"])
    expect(await queues.first().locator("canvas.spark").count()).toBe(2)
    // dash-drift: the v1 worker (gone) and the v2 worker, each seen on its streams.
    expect(await queues.nth(1).locator("td").nth(5).textContent()).toBe("2")
    await shot(page, "task-queues")

    await page.getByRole("link", { name: "dash", exact: true }).click()
    // One worker on the queue, seen on both its streams.
    await poll(() => page.locator("#workers tbody tr td:nth-child(2)").allTextContents()).toEqual(["workflow", "activity"])
    expect(new Set(await page.locator("#workers tbody tr td:first-child").allTextContents()).size).toBe(1)
    const row = page.locator("#dead-letters tbody tr")
    await poll(() => row.count()).toBe(1)
    expect(await row.first().textContent()).toContain(key)
    // Sampled while the page refreshes: executions closing now show up in the throughput and latency sparklines.
    await Promise.all(Array.from({ length: 5 }, (_, i) => client.workflow.execute(greet, { taskQueue, workflowId: unique(`greet-${i}`), args: ["sampled"] })))
    await eventually(async () => {
      const queue = await (await fetch(`${dashboard.url}api/task-queues/${taskQueue}`)).json() as { samples: Array<{ meanDurationMs?: number }> }
      return queue.samples.some((sample) => sample.meanDurationMs !== undefined) ? true : undefined
    }, "a sample with the closed executions' duration", 15_000)
    await page.reload()
    await poll(() => page.locator("canvas.spark").nth(1).getAttribute("aria-label")).toMatch(/^latency: ([2-9]|\d\d+) samples, latest \d+ ms$/)
    await shot(page, "task-queue")

    const first = (await client.deadLetters.list({ taskQueue }))[0]!
    await row.getByRole("button", { name: "Retry" }).click()
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click()
    await poll(() => page.locator("#dlq-output").textContent()).toBe("retried 1 dead letter")
    // Still undecodable, it is parked again under a new id.
    await eventually(async () => {
      const letters = await client.deadLetters.list({ taskQueue })
      return letters.length === 1 && letters[0]!.id !== first.id ? true : undefined
    }, "the dead letter parked again", 15_000)
    await page.reload()
    await page.getByRole("button", { name: "Purge all" }).click()
    await page.getByRole("dialog").getByRole("button", { name: "Confirm" }).click()
    await poll(() => page.locator("#dlq-output").textContent()).toBe("purged 1 dead letter")
    expect(await client.deadLetters.list({ taskQueue })).toEqual([])
    await page.close()
  })

  it("read-only hides every action and the API refuses them", async () => {
    const readOnly = await startDashboard({ connection, port: 0, readOnly: true })
    try {
      const page = await openPage(executionUrl(ids.stalled, readOnly.url))
      await poll(() => page.locator("#status").textContent()).toBe("Running")
      expect(await page.locator("#read-only").isVisible()).toBe(true)
      expect(await page.getByRole("button").count()).toBe(0)
      await shot(page, "execution-read-only")
      const refused = await fetch(`${readOnly.url}api/executions/${encodeURIComponent(ids.stalled)}/terminate`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
      expect(refused.status).toBe(403)
      expect(await refused.json()).toEqual({ error: "this dashboard is read-only" })
      expect((await client.workflow.getHandle(ids.stalled).describe()).status).toBe("RUNNING")
      await page.close()
    } finally {
      await readOnly.close()
    }
  })

  it("with a token, nothing is served without it; opening ?token= once signs the browser in", async () => {
    const token = "s3cret-token-for-tests"
    const guarded = await startDashboard({ connection, port: 0, token })
    try {
      expect((await fetch(`${guarded.url}api/executions`)).status).toBe(401)
      expect((await fetch(guarded.url)).headers.get("www-authenticate")).toMatch(/^Basic/)
      expect((await fetch(`${guarded.url}api/config`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
      expect((await fetch(`${guarded.url}api/config`, { headers: { authorization: `Basic ${Buffer.from(`ops:${token}`).toString("base64")}` } })).status).toBe(200)
      expect((await fetch(`${guarded.url}api/config`, { headers: { authorization: "Bearer wrong-token-here" } })).status).toBe(401)
      const page = await openPage(`${guarded.url}?token=${token}`)
      expect(page.url()).toBe(guarded.url)
      await poll(() => page.locator("#executions tbody tr").count()).toBeGreaterThan(0)
      await page.close()
    } finally {
      await guarded.close()
    }
  })
})
