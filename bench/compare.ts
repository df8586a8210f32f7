/**
 * `npm run bench:compare`: HotMesh against BullMQ and raw Redis streams, on
 * the same Redis, in one process (issue 13's measurement harness).
 *
 *   npm run bench:compare -- [--redis redis://127.0.0.1:6379] [--quick] [--only a,b,...] [--reps 3]
 *     [--timers 5000:15-25,10000:30-90] [--timer-stores redis,memory] [--latency-runs 100] [--hops 500]
 *     [--throughput 500,3000] [--bull-jobs 10000] [--steps-workflows 2000] [--rss-workflows 10000]
 *     [--bytes-workflows 1000] [--chains 100,1000]
 *
 * Without `--redis` (or `REDIS_URL`) it starts a private `redis-server` on a
 * free loopback port, without persistence, in a temp dir, and stops it at the
 * end. `npm run bench:compare` builds `dist/` first and measures the compiled
 * package, with `--expose-gc` (for the memory scenario).
 *
 * Scenarios (`--only` takes these names):
 *   latency10   10 sequential activities end to end, p50: a HotMesh workflow vs a BullMQ 10-job chain
 *   latency1    1 activity end to end, p50: a HotMesh workflow vs one raw stream hop (XADD → XREADGROUP BLOCK → XACK)
 *   throughput  1-activity workflows/s, N started at once, vs BullMQ no-op jobs/s (one Worker, concurrency 16),
 *               and the process CPU per workflow / per job
 *   timers      timer lateness (real wake time minus due time), Redis and the embedded store
 *   steps       embedded store, durable steps/s (concurrent 10-activity workflows, 21 steps each)
 *   rss         worker RSS per cached running (sleeping) workflow, embedded store
 *   roundtrips  Redis round trips per durable step (under load and alone), Redis bytes per closed workflow
 *   flatness    t(1,000-activity workflow) / t(100-activity workflow), both stores
 *
 * Every scenario warms up first, then repeats `--reps` times (default 3) and
 * reports the median and min–max of the repetitions; the timer scenario runs
 * each configuration once (they take minutes). All figures go to
 * `bench/results/compare-<ISO timestamp>.json`.
 *
 * Use a Redis that nothing else is using: the round-trip scenario resets and
 * reads server-wide statistics and uses MONITOR.
 */
import { execSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { PerformanceObserver } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { Queue, Worker as BullWorker } from "bullmq"
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { startRedis } from "../test/support/redisServer.ts"
import * as activities from "./activities.ts"
import { BENCH_WORKER } from "./benchWorker.ts"
import { flag, num, quick } from "./args.ts"
import { commandStats, infoField, monitored, percentile, redactUrl, redisOptionsOf, sorted, sum, type Summary, summarize } from "./support.ts"
import * as workflows from "./workflows.ts"

// ---------------------------------------------------------------- options

const list = (name: string, full: string, short: string): Array<string> =>
  (flag(name) ?? (quick ? short : full)).split(",").map((s) => s.trim()).filter((s) => s !== "")

const SCENARIOS = ["latency10", "latency1", "throughput", "timers", "steps", "rss", "roundtrips", "flatness"] as const
type Scenario = (typeof SCENARIOS)[number]
const only = new Set(list("--only", SCENARIOS.join(","), SCENARIOS.join(",")))
for (const name of only) {
  if (!(SCENARIOS as ReadonlyArray<string>).includes(name)) throw new Error(`--only: unknown scenario "${name}" (known: ${SCENARIOS.join(", ")})`)
}
const selected = (s: Scenario) => only.has(s)

const reps = num("--reps", 3, 3)
const latencyRuns = num("--latency-runs", 100, 40)
const hops = num("--hops", 500, 200)
const throughputNs = list("--throughput", "500,3000", "500,3000").map(Number)
const bullJobs = num("--bull-jobs", 10_000, 3_000)
const bullConcurrency = num("--bull-concurrency", 16, 16)
const stepsWorkflows = num("--steps-workflows", 2_000, 1_000)
const rssWorkflows = num("--rss-workflows", 10_000, 2_000)
const bytesWorkflows = num("--bytes-workflows", 1_000, 500)
const rtConcurrent = num("--rt-concurrent", 200, 200)
const rtAlone = num("--rt-alone", 20, 10)
const [shortChain, longChainLength] = list("--chains", "100,1000", "100,1000").map(Number) as [number, number]
/** `K:min-max` (seconds), comma-separated. */
const timerConfigs = list("--timers", "5000:15-25,10000:30-90", "2000:5-10").map((spec) => {
  const match = /^(\d+):(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(spec)
  if (match === null) throw new Error(`--timers: expected K:min-max (seconds), got "${spec}"`)
  return { count: Number(match[1]), minS: Number(match[2]), maxS: Number(match[3]) }
})
const timerStores = list("--timer-stores", "redis,memory", "redis,memory") as Array<StoreKind>

type StoreKind = "redis" | "memory"

const here = dirname(fileURLToPath(import.meta.url))
const startedAt = new Date()
const tag = startedAt.getTime().toString(36)
const TASK_QUEUE = "cmp"
const BULL_PREFIX = `bullcmp-${tag}`

const log = (line: string) => process.stderr.write(`[${((performance.now()) / 1000).toFixed(0).padStart(4)} s] ${line}\n`)
const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const gc = (globalThis as { gc?: () => void }).gc

// ---------------------------------------------------------------- Redis

const explicitUrl = flag("--redis")
const redisServer = explicitUrl === undefined ? await startRedis() : undefined
const url = explicitUrl ?? redisServer!.url
const redisOptions = redisOptionsOf(url)
const admin = new Redis(url)
const redisVersion = /redis_version:(\S+)/.exec(await admin.info("server"))?.[1] ?? "?"

// ---------------------------------------------------------------- HotMesh environments

interface Env {
  readonly client: Client
  readonly close: () => Promise<void>
}

let namespaces = 0
/** A worker and a client (on Redis: two connections, so everything goes through Redis), running. */
const hotmesh = async (store: StoreKind, options: { readonly maxCachedWorkflows?: number } = {}): Promise<Env> => {
  const namespace = `cmp-${tag}-${++namespaces}`
  const workerConnection = store === "redis" ? await Connection.connect({ redis: url, namespace }) : await Connection.connect({ namespace })
  const clientConnection = store === "redis" ? await Connection.connect({ redis: url, namespace }) : workerConnection
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue: TASK_QUEUE,
    ...BENCH_WORKER,
    ...options,
  })
  const running = worker.run()
  return {
    client: new Client({ connection: clientConnection }),
    close: async () => {
      await worker.shutdown()
      await running
      await clientConnection.close()
      await workerConnection.close()
    },
  }
}

let ids = 0
const nextId = (prefix: string) => `${prefix}-${++ids}`
const oneStep = (env: Env, input = 1) =>
  env.client.workflow.execute(workflows.oneStep, { taskQueue: TASK_QUEUE, workflowId: nextId("one"), args: [input] })
const tenSteps = (env: Env, input = 1) =>
  env.client.workflow.execute(workflows.tenSteps, { taskQueue: TASK_QUEUE, workflowId: nextId("ten"), args: [input] })
const chain = (env: Env, n: number) =>
  env.client.workflow.execute(workflows.longChain, { taskQueue: TASK_QUEUE, workflowId: nextId("chain"), args: [n] })
const concurrently = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)))
const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}
const p50Of = (values: ReadonlyArray<number>) => percentile(sorted(values), 0.5)

// ---------------------------------------------------------------- BullMQ

const bullConnection = redisOptions
const bullWorkerConnection = { ...redisOptions, maxRetriesPerRequest: null }
const bullQueue = (name: string) => new Queue(name, { connection: bullConnection, prefix: BULL_PREFIX })

// ---------------------------------------------------------------- results

/** One row of the table. */
interface Row {
  readonly scenario: string
  readonly hotmesh: string
  readonly other: string
  readonly ratio: string
  readonly goal: string
  readonly met: string
}
const rows = new Map<string, Array<Row>>()
const figures: Record<string, unknown> = {}
const addRow = (scenario: Scenario, row: Row) => rows.set(scenario, [...(rows.get(scenario) ?? []), row])

const fmtNumber = (x: number, digits: number) =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
const fmt = (s: Summary, digits: number, unit = "") =>
  `${fmtNumber(s.median, digits)}${unit} (${fmtNumber(s.min, digits)}–${fmtNumber(s.max, digits)})`
const yesNo = (ok: boolean) => (ok ? "yes" : "NO")

// ---------------------------------------------------------------- 1. ten sequential activities

const latency10 = async () => {
  log(`latency10: HotMesh 10-activity workflow and BullMQ 10-job chain, ${latencyRuns} sequential runs each, alternated × ${reps}`)
  const env = await hotmesh("redis")
  const name = "chain"
  const queue = bullQueue(name)
  const waiting = new Map<number, () => void>()
  const worker = new BullWorker<{ run: number; i: number }>(name, async (job) => {
    if (job.data.i < 10) await queue.add("link", { run: job.data.run, i: job.data.i + 1 })
    return job.data.i
  }, { connection: bullWorkerConnection, prefix: BULL_PREFIX, concurrency: 1 })
  worker.on("completed", (job) => {
    if (job.data.i === 10) waiting.get(job.data.run)?.()
  })
  await worker.waitUntilReady()
  let runId = 0
  const runChain = () =>
    timed(async () => {
      const run = ++runId
      const done = new Promise<void>((resolve) => waiting.set(run, resolve))
      await queue.add("link", { run, i: 1 })
      await done
      waiting.delete(run)
    })
  // A full repetition's worth of warm-up each: with 20 runs, HotMesh's p50 still fell rep after rep (7.6, 7.2, 5.5 ms) while the JIT warmed.
  for (let i = 0; i < latencyRuns; i++) await tenSteps(env)
  for (let i = 0; i < latencyRuns; i++) await runChain()
  // Alternated repetitions: the VM's speed drifts over minutes, and both sides of a ratio should see the same drift.
  const hm: Array<number> = []
  const bull: Array<number> = []
  for (let r = 0; r < reps; r++) {
    const runs: Array<number> = []
    for (let i = 0; i < latencyRuns; i++) runs.push(await timed(() => tenSteps(env, i)))
    hm.push(p50Of(runs))
    const chains: Array<number> = []
    for (let i = 0; i < latencyRuns; i++) chains.push(await runChain())
    bull.push(p50Of(chains))
  }
  await worker.close()
  await queue.close()
  await env.close()

  const h = summarize(hm)
  const b = summarize(bull)
  figures["latency10"] = { runsPerRep: latencyRuns, hotmeshP50Ms: h, bullmqChainP50Ms: b }
  addRow("latency10", {
    scenario: "1. 10 sequential activities, e2e p50 (ms)",
    hotmesh: fmt(h, 2),
    other: `${fmt(b, 2)} BullMQ chain`,
    ratio: `${(h.median / b.median).toFixed(2)}×`,
    goal: "≤ 1×",
    met: yesNo(h.median <= b.median),
  })
}

// ---------------------------------------------------------------- 2. one activity vs one raw hop

const latency1 = async () => {
  log(`latency1: HotMesh 1-activity workflow (${latencyRuns * 2} sequential runs) and raw stream hop XADD → XREADGROUP BLOCK → XACK (${hops} hops), alternated × ${reps}`)
  const env = await hotmesh("redis")
  const producer = new Redis(url)
  const consumer = new Redis(url)
  const key = `rawhop:${tag}`
  await producer.xgroup("CREATE", key, "g", "$", "MKSTREAM")
  const hop = async () => {
    const reading = consumer.call("XREADGROUP", "GROUP", "g", "c", "COUNT", 1, "BLOCK", 0, "STREAMS", key, ">") as Promise<
      Array<[string, Array<[string, Array<string>]>]>
    >
    await sleepMs(0) // let the blocking read reach the server first
    const t0 = performance.now()
    await producer.xadd(key, "*", "b", "x")
    const reply = await reading
    const id = reply[0]![1][0]![0]
    await consumer.xack(key, "g", id)
    const dt = performance.now() - t0
    await producer.xdel(key, id)
    return dt
  }
  for (let i = 0; i < latencyRuns * 2; i++) await oneStep(env)
  for (let i = 0; i < hops; i++) await hop()
  const hm: Array<number> = []
  const raw: Array<number> = []
  for (let r = 0; r < reps; r++) {
    const runs: Array<number> = []
    for (let i = 0; i < latencyRuns * 2; i++) runs.push(await timed(() => oneStep(env, i)))
    hm.push(p50Of(runs))
    const hopRuns: Array<number> = []
    for (let i = 0; i < hops; i++) hopRuns.push(await hop())
    raw.push(p50Of(hopRuns))
  }
  await producer.del(key)
  producer.disconnect()
  consumer.disconnect()
  await env.close()

  const h = summarize(hm)
  const b = summarize(raw)
  figures["latency1"] = { runsPerRep: latencyRuns * 2, hopsPerRep: hops, hotmeshP50Ms: h, rawHopP50Ms: b }
  addRow("latency1", {
    scenario: "2. 1 activity, e2e p50 (ms)",
    hotmesh: fmt(h, 2),
    other: `${fmt(b, 3)} raw hop`,
    ratio: `${(h.median / b.median).toFixed(1)}×`,
    goal: "≤ 12×",
    met: yesNo(h.median / b.median <= 12),
  })
}

// ---------------------------------------------------------------- 3. throughput

const throughput = async () => {
  const env = await hotmesh("redis")
  const name = "noop"
  const queue = bullQueue(name)
  let completed = 0
  let target = 0
  let reached: (() => void) | undefined
  const worker = new BullWorker(name, async () => undefined, { connection: bullWorkerConnection, prefix: BULL_PREFIX, concurrency: bullConcurrency })
  worker.on("completed", () => {
    if (++completed >= target) reached?.()
  })
  await worker.waitUntilReady()
  /** Process CPU (user + system, every thread: GC helpers included) per workflow or job, µs. */
  const bullCpu: Array<number> = []
  const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system
  const bullBatch = async (jobs: number) => {
    completed = 0
    target = jobs
    const all = new Promise<void>((resolve) => (reached = resolve))
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < jobs; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({ name: "noop", data: { i: i + j } })))
    }
    await all
    bullCpu.push(cpuMicros(process.cpuUsage(cpu0)) / jobs)
    return jobs / ((performance.now() - t0) / 1000)
  }
  // Warm-up in the measured shape: two batches of the largest N at once. With
  // 200 workflows the JIT and V8's young generation were still cold when the
  // first (smallest) N ran: successive batches of 3,000 went from ~1,300 to
  // ~2,400 workflows/s, which made the small-N rate look like a fixed tail.
  const largest = Math.max(...throughputNs)
  log(`throughput: warm-up, 2 × ${largest} 1-activity workflows at once, ${1000} BullMQ jobs`)
  for (let w = 0; w < 2; w++) await concurrently(largest, (i) => oneStep(env, i))
  await bullBatch(1000)
  bullCpu.length = 0
  const byN = new Map<number, Array<number>>(throughputNs.map((n) => [n, []]))
  const cpuByN = new Map<number, Array<number>>(throughputNs.map((n) => [n, []]))
  const tailsByN = new Map<number, Array<unknown>>(throughputNs.map((n) => [n, []]))
  const bull: Array<number> = []
  // Alternated repetitions (every N, then BullMQ): the VM's speed drifts over minutes, and both sides of a ratio should see the same drift.
  for (let r = 0; r < reps; r++) {
    for (const n of throughputNs) {
      log(`throughput: ${n} 1-activity workflows at once (rep ${r + 1}/${reps})`)
      const t0 = performance.now()
      const cpu0 = process.cpuUsage()
      let lastStarted = 0
      const done: Array<number> = []
      await concurrently(n, async (i) => {
        const handle = await env.client.workflow.start(workflows.oneStep, { taskQueue: TASK_QUEUE, workflowId: nextId("tp"), args: [i] })
        lastStarted = Math.max(lastStarted, performance.now() - t0)
        await handle.result()
        done.push(performance.now() - t0)
      })
      const ms = performance.now() - t0
      cpuByN.get(n)!.push(cpuMicros(process.cpuUsage(cpu0)) / n)
      byN.get(n)!.push(n / (ms / 1000))
      const s = sorted(done)
      tailsByN.get(n)!.push({
        totalMs: ms, lastStartReturnedMs: lastStarted,
        resultP50Ms: percentile(s, 0.5), resultP90Ms: percentile(s, 0.9), resultP99Ms: percentile(s, 0.99), lastResultMs: s[s.length - 1],
      })
      await sleepMs(200)
    }
    log(`throughput: BullMQ ${bullJobs} no-op jobs, one Worker, concurrency ${bullConcurrency} (rep ${r + 1}/${reps})`)
    bull.push(await bullBatch(bullJobs))
  }
  const details: Record<string, unknown> = {}
  for (const n of throughputNs) {
    details[String(n)] = { workflowsPerSecond: summarize(byN.get(n)!), cpuMicrosPerWorkflow: summarize(cpuByN.get(n)!), runs: tailsByN.get(n) }
  }
  await worker.close()
  await queue.close()
  await env.close()

  const b = summarize(bull)
  const bc = summarize(bullCpu)
  figures["throughput"] = { hotmesh: details, bullmq: { jobs: bullJobs, concurrency: bullConcurrency, jobsPerSecond: b, cpuMicrosPerJob: bc } }
  for (const n of throughputNs) {
    const h = summarize(byN.get(n)!)
    addRow("throughput", {
      scenario: `3. 1-activity workflows/s, N = ${n.toLocaleString("en-US")} at once`,
      hotmesh: fmt(h, 0),
      other: `${fmt(b, 0)} BullMQ jobs/s`,
      ratio: `${(h.median / b.median).toFixed(2)}×`,
      goal: "≥ 0.5×",
      met: yesNo(h.median / b.median >= 0.5),
    })
  }
  // Not a goal of its own: where the rate goes (the process, not Redis, is the limit on this machine).
  const largestCpu = summarize(cpuByN.get(largest)!)
  addRow("throughput", {
    scenario: `3. process CPU per workflow / per job (µs), N = ${largest.toLocaleString("en-US")}`,
    hotmesh: fmt(largestCpu, 0),
    other: `${fmt(bc, 0)} BullMQ`,
    ratio: `${(largestCpu.median / bc.median).toFixed(1)}×`,
    goal: "—",
    met: "—",
  })
  if (throughputNs.length >= 2) {
    const small = summarize(byN.get(throughputNs[0]!)!)
    const large = summarize(byN.get(throughputNs[throughputNs.length - 1]!)!)
    const ratio = small.median / large.median
    figures["throughputFlat"] = { small: throughputNs[0], large: throughputNs[throughputNs.length - 1], ratio }
    addRow("throughput", {
      scenario: `3. rate at N = ${throughputNs[0]} / rate at N = ${throughputNs[throughputNs.length - 1]}`,
      hotmesh: ratio.toFixed(2),
      other: "—",
      ratio: "—",
      goal: "≈ 1 (≥ 0.9)",
      met: yesNo(ratio >= 0.9),
    })
  }
}

// ---------------------------------------------------------------- 4. timer lateness

/** A small seeded PRNG (mulberry32): the same durations on every run. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/**
 * The process's GC pauses while `f` runs (a p99 of timer lateness is the top
 * 1%: 50 of 5,000 wakes, so one 40 ms pause with ~500 wakes due per second
 * is enough to move it).
 */
const gcPauses = async (f: () => Promise<void>): Promise<ReadonlyArray<number>> => {
  const pausesMs: Array<number> = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pausesMs.push(entry.duration)
  })
  observer.observe({ entryTypes: ["gc"] })
  try {
    await f()
    return pausesMs
  } finally {
    observer.disconnect()
  }
}

const timers = async () => {
  const results: Array<unknown> = []
  for (const store of timerStores) {
    for (const config of timerConfigs) {
      const label = `${config.count.toLocaleString("en-US")} × ${config.minS}–${config.maxS} s, ${store}`
      log(`timers: ${label} (one run)`)
      const env = await hotmesh(store)
      await concurrently(50, (i) => oneStep(env, i))
      const random = prng(13)
      const prefix = nextId("timer")
      const intended = new Map<string, { readonly startedAt: number; readonly durationMs: number }>()
      activities.wakes.length = 0
      const t0 = performance.now()
      await concurrently(config.count, async (i) => {
        const durationMs = Math.round((config.minS + random() * (config.maxS - config.minS)) * 1000)
        const workflowId = `${prefix}-${i}`
        const startedAt = Date.now()
        intended.set(workflowId, { startedAt, durationMs })
        await env.client.workflow.start(workflows.sleepThenRecord, { taskQueue: TASK_QUEUE, workflowId, args: [durationMs] })
      })
      const startSeconds = (performance.now() - t0) / 1000
      log(`timers: ${config.count} started in ${startSeconds.toFixed(1)} s; waiting for the wakes`)
      const deadline = Date.now() + config.maxS * 1000 + 120_000
      const pausesMs = await gcPauses(async () => {
        while (activities.wakes.length < config.count && Date.now() < deadline) await sleepMs(200)
      })
      const gc = { count: pausesMs.length, maxMs: Math.round(Math.max(0, ...pausesMs)), over10Ms: pausesMs.filter((ms) => ms > 10).length }
      const wakes = activities.wakes.filter((w) => intended.has(w.workflowId))
      const seen = new Set<string>()
      const lateness: Array<number> = []
      const sinceClientStart: Array<number> = []
      for (const w of wakes) {
        if (seen.has(w.workflowId)) continue // an activity may run twice (at least once)
        seen.add(w.workflowId)
        lateness.push(w.wokeAt - w.scheduledAt)
        const i = intended.get(w.workflowId)!
        sinceClientStart.push(w.wokeAt - (i.startedAt + i.durationMs))
      }
      await sleepMs(500)
      await env.close()
      const s = sorted(lateness)
      const c = sorted(sinceClientStart)
      const result = {
        store, count: config.count, minS: config.minS, maxS: config.maxS, woke: seen.size, startSeconds, gc,
        latenessMs: { p50: percentile(s, 0.5), p99: percentile(s, 0.99), min: s[0], max: s[s.length - 1] },
        latenessVsClientStartMs: { p50: percentile(c, 0.5), p99: percentile(c, 0.99), min: c[0], max: c[c.length - 1] },
      }
      results.push(result)
      const complete = seen.size === config.count
      addRow("timers", {
        scenario: `4. timer lateness (ms), ${label}`,
        hotmesh: `p50 ${s.length === 0 ? "—" : percentile(s, 0.5)} · p99 ${s.length === 0 ? "—" : percentile(s, 0.99)} · min ${s[0] ?? "—"}${complete ? "" : ` (${seen.size} woke)`}; GC pauses > 10 ms: ${gc.over10Ms} (longest ${gc.maxMs})`,
        other: "—",
        ratio: "—",
        goal: "p99 ≤ 20, never early (min ≥ 0), all wake",
        met: yesNo(complete && (s[0] ?? -1) >= 0 && percentile(s, 0.99) <= 20),
      })
    }
  }
  figures["timers"] = results
}

// ---------------------------------------------------------------- 5. embedded store steps/s

const steps = async () => {
  log(`steps: embedded store, ${stepsWorkflows} concurrent 10-activity workflows × ${reps}`)
  const env = await hotmesh("memory")
  await concurrently(200, (i) => tenSteps(env, i))
  const rates: Array<number> = []
  for (let r = 0; r < reps; r++) {
    const ms = await timed(() => concurrently(stepsWorkflows, (i) => tenSteps(env, i)))
    rates.push((stepsWorkflows * 21) / (ms / 1000))
  }
  await env.close()
  const h = summarize(rates)
  figures["steps"] = { workflows: stepsWorkflows, stepsPerWorkflow: 21, stepsPerSecond: h }
  addRow("steps", {
    scenario: `5. embedded store, durable steps/s (${stepsWorkflows.toLocaleString("en-US")} × 10 activities)`,
    hotmesh: fmt(h, 0),
    other: "—",
    ratio: "—",
    goal: "(design target ≥ 50,000)",
    met: yesNo(h.median >= 50_000),
  })
}

// ---------------------------------------------------------------- 6. RSS per cached workflow

const rss = async () => {
  log(`rss: embedded store, ${rssWorkflows} workflows sleeping 1 hour × ${reps}${gc === undefined ? " (no global.gc: run node with --expose-gc)" : ""}`)
  const collect = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.()
      await sleepMs(50)
    }
    return process.memoryUsage()
  }
  // Every repetition keeps its workflows until the end, so none reuses memory another freed.
  const envs: Array<Env> = []
  const perWorkflow: Array<number> = []
  const heapPerWorkflow: Array<number> = []
  for (let r = 0; r < reps; r++) {
    const env = await hotmesh("memory", { maxCachedWorkflows: rssWorkflows + 1000 })
    envs.push(env)
    await concurrently(100, async (i) => {
      const handle = await env.client.workflow.start(workflows.sleepLong, { taskQueue: TASK_QUEUE, workflowId: nextId("warm"), args: [1] })
      await handle.result()
      return i
    })
    const before = await collect()
    const handles = await concurrently(rssWorkflows, () =>
      env.client.workflow.start(workflows.sleepLong, { taskQueue: TASK_QUEUE, workflowId: nextId("rss"), args: [3_600_000] }))
    // Reached the sleep: the first workflow task committed (WorkflowStarted, the timer command, ...).
    for (;;) {
      const lengths = await Promise.all(handles.map(async (h) => (await h.describe()).historyLength))
      if (lengths.every((n) => n >= 2)) break
      await sleepMs(200)
    }
    const after = await collect()
    perWorkflow.push((after.rss - before.rss) / rssWorkflows)
    heapPerWorkflow.push((after.heapUsed - before.heapUsed) / rssWorkflows)
  }
  for (const env of envs) await env.close()
  const h = summarize(perWorkflow.map((b) => b / 1024))
  const heap = summarize(heapPerWorkflow.map((b) => b / 1024))
  figures["rss"] = { workflows: rssWorkflows, gcExposed: gc !== undefined, rssKiBPerWorkflow: h, heapUsedKiBPerWorkflow: heap }
  addRow("rss", {
    scenario: `6. RSS per cached sleeping workflow (KiB), embedded`,
    hotmesh: `${fmt(h, 1)}; heap ${heap.median.toFixed(1)}`,
    other: "—",
    ratio: "—",
    goal: "≤ 10 KB (10,000 B)",
    met: yesNo(h.median * 1024 <= 10_000),
  })
}

// ---------------------------------------------------------------- 7. round trips per step, bytes per workflow

/** Commands sent by ioredis clients of this process (the admin and MONITOR connections excepted). */
let clientCommands = 0
let countingClients = false
const uncounted = new WeakSet<object>([admin])
{
  const prototype = Redis.prototype as unknown as { sendCommand: (this: object, ...args: Array<unknown>) => unknown }
  const original = prototype.sendCommand
  prototype.sendCommand = function(this: object, ...args: Array<unknown>) {
    if (countingClients && !uncounted.has(this)) clientCommands++
    return original.apply(this, args)
  }
}

const roundtrips = async () => {
  const env = await hotmesh("redis")
  for (let i = 0; i < 50; i++) await tenSteps(env)
  await concurrently(200, (i) => tenSteps(env, i))
  const phases = [
    { name: "load", label: `${rtConcurrent} concurrent`, workflows: rtConcurrent, run: () => concurrently(rtConcurrent, (i) => tenSteps(env, i)) },
    {
      name: "alone", label: "1 at a time", workflows: rtAlone, run: async () => {
        for (let i = 0; i < rtAlone; i++) await tenSteps(env, i)
      },
    },
  ] as const
  const results: Record<string, unknown> = {}
  const perStepByPhase = new Map<string, Array<number>>()
  for (const phase of phases) {
    const monitorRoundTrips: Array<number> = []
    const clientSide: Array<number> = []
    const processed: Array<number> = []
    const executed: Array<number> = []
    const details: Array<unknown> = []
    for (let r = 0; r < reps; r++) {
      log(`roundtrips: ${phase.label} 10-activity workflows (rep ${r + 1}/${reps}, under MONITOR)`)
      const stepsCount = phase.workflows * 21
      await admin.config("RESETSTAT")
      clientCommands = 0
      countingClients = true
      const { roundTrips, inScripts } = await monitored(admin, async () => {
        await phase.run()
      })
      countingClients = false
      const total = await infoField(admin, "stats", "total_commands_processed")
      const stats = await commandStats(admin)
      monitorRoundTrips.push(sum(roundTrips) / stepsCount)
      clientSide.push(clientCommands / stepsCount)
      processed.push(total / stepsCount)
      executed.push(sum(stats) / stepsCount)
      details.push({
        roundTripsByCommand: Object.fromEntries([...roundTrips].map(([k, v]) => [k, v / stepsCount])),
        inScriptsByCommand: Object.fromEntries([...inScripts].map(([k, v]) => [k, v / stepsCount])),
      })
    }
    perStepByPhase.set(phase.name, monitorRoundTrips)
    results[phase.name] = {
      workflows: phase.workflows, stepsPerWorkflow: 21,
      roundTripsPerStepMonitor: summarize(monitorRoundTrips),
      commandsSentPerStepClientSide: summarize(clientSide),
      totalCommandsProcessedPerStep: summarize(processed),
      commandstatsPerStep: summarize(executed),
      byCommand: details,
    }
  }
  await env.close()

  // Redis bytes per closed 1-activity workflow (default retention: the record and journal stay 7 days).
  log(`roundtrips: Redis used_memory per closed 1-activity workflow, ${bytesWorkflows} workflows × ${reps}`)
  const memEnv = await hotmesh("redis")
  await concurrently(100, (i) => oneStep(memEnv, i))
  const bytes: Array<number> = []
  for (let r = 0; r < reps; r++) {
    await sleepMs(1000)
    const before = await infoField(admin, "memory", "used_memory")
    await concurrently(bytesWorkflows, (i) => oneStep(memEnv, i))
    await sleepMs(1000)
    const after = await infoField(admin, "memory", "used_memory")
    bytes.push((after - before) / bytesWorkflows)
  }
  await memEnv.close()
  const bytesSummary = summarize(bytes)
  results["bytesPerClosedWorkflow"] = { workflows: bytesWorkflows, bytes: bytesSummary }
  figures["roundtrips"] = results

  const load = summarize(perStepByPhase.get("load")!)
  const alone = summarize(perStepByPhase.get("alone")!)
  const clientLoad = (results["load"] as { commandsSentPerStepClientSide: Summary }).commandsSentPerStepClientSide
  const clientAlone = (results["alone"] as { commandsSentPerStepClientSide: Summary }).commandsSentPerStepClientSide
  addRow("roundtrips", {
    scenario: `7. Redis round trips per durable step, ${rtConcurrent} concurrent`,
    hotmesh: `${fmt(load, 2)}; client-side ${clientLoad.median.toFixed(2)}`,
    other: "—",
    ratio: "—",
    goal: "≤ 2.5",
    met: yesNo(load.median <= 2.5),
  })
  addRow("roundtrips", {
    scenario: "7. Redis round trips per durable step, alone",
    hotmesh: `${fmt(alone, 2)}; client-side ${clientAlone.median.toFixed(2)}`,
    other: "—",
    ratio: "—",
    goal: "≤ 3",
    met: yesNo(alone.median <= 3),
  })
  addRow("roundtrips", {
    scenario: "7. Redis bytes per closed 1-activity workflow",
    hotmesh: fmt(bytesSummary, 0),
    other: "—",
    ratio: "—",
    goal: "≤ 2 KB",
    met: yesNo(bytesSummary.median <= 2048),
  })
}

// ---------------------------------------------------------------- 8. flatness

const flatness = async () => {
  const results: Record<string, unknown> = {}
  for (const store of ["memory", "redis"] as const) {
    log(`flatness: ${store}, ${shortChain}- and ${longChainLength}-activity workflows × ${reps}`)
    const env = await hotmesh(store)
    await chain(env, 50)
    await chain(env, shortChain)
    await chain(env, longChainLength)
    const ratios: Array<number> = []
    const shortMs: Array<number> = []
    const longMs: Array<number> = []
    // Each repetition: the median of 15 short and of 5 long runs, each started
    // after a full GC so that garbage left by the previous run is not charged
    // to it (a 100-activity run on the embedded store takes milliseconds, so
    // one major GC landing in it would double it).
    const medianOf = async (runs: number, n: number) => {
      const times: Array<number> = []
      for (let i = 0; i < runs; i++) {
        gc?.()
        times.push(await timed(() => chain(env, n)))
      }
      return summarize(times).median
    }
    for (let r = 0; r < reps; r++) {
      const a = await medianOf(15, shortChain)
      const b = await medianOf(5, longChainLength)
      shortMs.push(a)
      longMs.push(b)
      ratios.push(b / a)
    }
    await env.close()
    const h = summarize(ratios)
    results[store] = { ratio: h, shortMs: summarize(shortMs), longMs: summarize(longMs) }
    addRow("flatness", {
      scenario: `8. t(${longChainLength}-activity) / t(${shortChain}-activity), ${store}`,
      hotmesh: `${fmt(h, 2)}; ${summarize(longMs).median.toFixed(0)} / ${summarize(shortMs).median.toFixed(1)} ms`,
      other: "—",
      ratio: "—",
      goal: `≤ ${(longChainLength / shortChain) * 1.1}`,
      met: yesNo(h.median <= (longChainLength / shortChain) * 1.1),
    })
  }
  figures["flatness"] = results
}

// ---------------------------------------------------------------- run

const bullmqVersion = (JSON.parse(readFileSync(join(here, "..", "node_modules", "bullmq", "package.json"), "utf8")) as { version: string }).version
const commit = (() => {
  try {
    return execSync("git rev-parse --short HEAD", { cwd: here, stdio: ["ignore", "pipe", "ignore"] }).toString().trim()
  } catch {
    return "?"
  }
})()
log(`bench:compare${quick ? " --quick" : ""}: Redis ${redisVersion} at ${redactUrl(url)}${redisServer === undefined ? "" : " (private)"}, BullMQ ${bullmqVersion}, Node ${process.version}, hotmesh ${commit}, ${reps} reps`)

// The memory scenario first: it measures RSS growth, which other scenarios' freed memory would hide.
const order: ReadonlyArray<[Scenario, () => Promise<void>]> = [
  ["rss", rss], ["latency10", latency10], ["latency1", latency1], ["throughput", throughput], ["steps", steps],
  ["roundtrips", roundtrips], ["flatness", flatness], ["timers", timers],
]
try {
  for (const [name, run] of order) if (selected(name)) await run()
} finally {
  admin.disconnect()
  await redisServer?.stop()
}

// ---------------------------------------------------------------- report

const header: Row = { scenario: "scenario", hotmesh: "HotMesh median (min–max)", other: "BullMQ / raw median (min–max)", ratio: "ratio", goal: "goal", met: "met?" }
const table = SCENARIOS.flatMap((s) => rows.get(s) ?? [])
const columns = ["scenario", "hotmesh", "other", "ratio", "goal", "met"] as const
const widths = columns.map((c) => Math.max(...[header, ...table].map((row) => row[c].length)))
const line = (row: Row) => `| ${columns.map((c, i) => row[c].padEnd(widths[i]!)).join(" | ")} |`
console.log()
console.log(`bench:compare — ${startedAt.toISOString()} — Redis ${redisVersion}, BullMQ ${bullmqVersion}, Node ${process.version}, hotmesh ${commit}${quick ? ", --quick" : ""}`)
console.log(`${reps} repetitions after a warm-up (median and min–max of the repetitions); timer configurations run once each.`)
console.log(line(header))
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
for (const row of table) console.log(line(row))

const resultsDir = join(here, "results")
mkdirSync(resultsDir, { recursive: true })
const file = join(resultsDir, `compare-${startedAt.toISOString().replace(/:/g, "-")}.json`)
writeFileSync(file, `${JSON.stringify({
  startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), quick, reps,
  node: process.version, redis: redisVersion, redisPrivate: redisServer !== undefined, bullmq: bullmqVersion, hotmeshCommit: commit,
  options: { latencyRuns, hops, throughputNs, bullJobs, bullConcurrency, stepsWorkflows, rssWorkflows, bytesWorkflows, rtConcurrent, rtAlone, chains: [shortChain, longChainLength], timerConfigs, timerStores, only: [...only] },
  figures, table,
}, null, 2)}\n`)
console.log(`\nfigures: ${file}`)
