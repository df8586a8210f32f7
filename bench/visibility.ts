/**
 * Visibility at scale, on Redis: `npm run bench:visibility [-- --closed N --running M]`.
 *
 * Fills a fresh namespace with N closed (terminated) and M running
 * executions of two workflow types (client starts and terminates: real
 * commits through the commit script, no worker), then times, over 21 runs
 * each: the first page (100) of `WorkflowType = 'x' AND ExecutionStatus =
 * 'Running'`, of no filter and of `WorkflowType = 'x'`, `count()` grouped by status, and a filter the index cannot
 * narrow (a scan). Without `--redis` (or `REDIS_URL`) it starts a private
 * `redis-server`. Prints a table; writes JSON under bench/results/.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Client, Connection } from "hotmesh"
import { startRedis } from "../test/support/redisServer.ts"
import { summarize, type Summary } from "./support.ts"

const { values } = parseArgs({
  options: {
    redis: { type: "string" },
    closed: { type: "string", default: "100000" },
    running: { type: "string", default: "10000" },
  },
})
const closed = Number(values.closed)
const running = Number(values.running)
const server = values.redis === undefined ? await startRedis() : undefined
const url = values.redis ?? (server as { url: string }).url
const namespace = `visbench${Date.now().toString(36)}`
const connection = await Connection.connect({ redis: url, namespace, logLevel: "WARN" })
const client = new Client({ connection })

/** Run `task(i)` for i in [0, n) with `concurrency` in flight. */
const pool = async (n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> => {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await task(next++)
  }))
}

const fillStart = performance.now()
await pool(closed + running, 64, async (i) => {
  const workflowId = `vis-${i}`
  const handle = await client.workflow.start(i % 2 === 0 ? "x" : "y", { taskQueue: "bench-visibility", workflowId })
  if (i < closed) await handle.terminate("bench")
})
const fillSeconds = (performance.now() - fillStart) / 1000
console.log(`filled ${closed} closed + ${running} running executions in ${fillSeconds.toFixed(1)} s (${Math.round((closed * 2 + running) / fillSeconds)} commits/s)`)

const time = async (runs: number, body: () => Promise<void>): Promise<Summary> => {
  await body() // warm-up
  const ms: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    await body()
    ms.push(performance.now() - t0)
  }
  return summarize(ms)
}

const firstPage = async (query: string, want: number) => {
  let n = 0
  for await (const _ of client.workflow.list({ query, pageSize: want })) if (++n >= want) break
  if (n < Math.min(want, running / 2)) throw new Error(`expected ${want} results for ${query}, got ${n}`)
}

const results = {
  firstPage: await time(21, () => firstPage("WorkflowType = 'x' AND ExecutionStatus = 'Running'", 100)),
  firstPageAll: await time(21, () => firstPage("", 100)),
  firstPageType: await time(21, () => firstPage("WorkflowType = 'x'", 100)),
  count: await time(21, async () => {
    const { count } = await client.workflow.count("GROUP BY ExecutionStatus")
    if (count !== closed + running) throw new Error(`count ${count}`)
  }),
  countType: await time(21, async () => void (await client.workflow.count("WorkflowType = 'y'"))),
  scan: await time(5, async () => {
    const { count } = await client.workflow.count("HistoryLength > 0 AND WorkflowType = 'x' OR WorkflowId = 'vis-1'")
    if (count === 0) throw new Error("scan found nothing")
  }),
}
const row = (name: string, s: Summary) => console.log(`| ${name.padEnd(62)} | ${s.median.toFixed(1).padStart(8)} | ${s.min.toFixed(1)}–${s.max.toFixed(1)} |`)
console.log(`\nRedis, ${closed} closed + ${running} running, 8 partitions (ms)`)
console.log(`| ${"operation".padEnd(62)} | ${"p50".padStart(8)} | min–max |`)
row("list first page (100): WorkflowType='x' AND ExecutionStatus='Running'", results.firstPage)
row("list first page (100): no filter", results.firstPageAll)
row("list first page (100): WorkflowType='x'", results.firstPageType)
row("count() GROUP BY ExecutionStatus", results.count)
row("count(WorkflowType = 'y') (index terms)", results.countType)
row("count(a filter the index cannot narrow: scan of all)", results.scan)

const here = dirname(fileURLToPath(import.meta.url))
mkdirSync(join(here, "results"), { recursive: true })
const file = join(here, "results", `visibility-${new Date().toISOString().replace(/[:.]/g, "-")}.json`)
writeFileSync(file, JSON.stringify({ closed, running, fillSeconds, results }, null, 2))
console.log(`\nwrote ${file}`)
await connection.close()
await server?.stop()
