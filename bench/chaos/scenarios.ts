/**
 * The chaos scenarios of `npm run chaos` (bench/chaos.ts) and, small, of
 * test/redis/chaos.test.ts. Each starts its own `redis-server`(s) through
 * test/support/redisServer.ts, runs `chaosOrder` workflows (two activities
 * around a durable timer) while it breaks something, then audits every
 * acknowledged start:
 *
 * - **completed**: reached COMPLETED with the right result before the deadline;
 * - **lost**: acknowledged (`start()` resolved) but never found, or never
 *   completed, by the deadline;
 * - **duplicate journal facts**: entries of one workflow's history recorded
 *   twice (same type and seq; same attempt for retries) — exactly-once
 *   transitions say there are none;
 * - **dead letters**: entries in the task queue's dead-letter lists.
 *
 * Every completed workflow's history is also replayed with
 * `Worker.runReplayHistory`; a failure shows in the notes.
 *
 * Scenarios already covered by the regular test suite (and not repeated in
 * test/redis/chaos.test.ts):
 *
 * | scenario | covered by |
 * |---|---|
 * | worker SIGKILL / SIGSTOP mid-activity (one process at a time) | test/redis/multiprocess.test.ts |
 * | Redis frozen (SIGSTOP) under start()/signal() | test/redis/outage.test.ts |
 * | silent server: connect fails within connectTimeoutMs naming the endpoint | test/redis/connect.test.ts ("fails after connectTimeoutMs ...") |
 * | evicting Redis refused without allowEviction | test/redis/connect.test.ts ("refuses a Redis that evicts keys ...") |
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer, type Socket } from "node:net"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { Client, Connection, type JournalEntry, Store, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { type RedisServer, startRedis } from "../../test/support/redisServer.ts"
import { activities } from "./activities.ts"
import { startProxy } from "./proxy.ts"
import * as workflows from "./workflows.ts"

/** One row of the chaos table. */
export interface ScenarioResult {
  readonly scenario: string
  readonly workflows: number
  readonly completed: number
  readonly lost: number
  readonly duplicates: number
  readonly deadLetters: number
  /** Histories of final workflows that `Worker.runReplayHistory` rejected (also in the notes). */
  readonly replayFailures: number
  /** Whether the scenario's own check (silent server, eviction) held; true for the others. */
  readonly ok: boolean
  readonly notes: string
}

/** Sizes of a run: `workflows` started over `chaosMs` while the fault is applied; everything must finish by `deadlineMs` after that. */
export interface ScenarioOptions {
  readonly workflows: number
  readonly chaosMs: number
  readonly deadlineMs: number
  /** Progress lines (the CLI prints them; tests pass nothing). */
  readonly log?: (line: string) => void
}

const TASK_QUEUE = "chaos"
const VISIBILITY_MS = 1000
const repoRoot = fileURLToPath(new URL("../..", import.meta.url))
const workerScript = fileURLToPath(new URL("./worker.ts", import.meta.url))

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const between = (min: number, max: number) => min + Math.random() * (max - min)
const namespaceOf = (name: string) => `chaos-${name}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`

/** Connect with short deadlines (chaos makes commands fail; callers retry), quiet logs unless CHAOS_LOG is set. */
const connect = (url: string, namespace: string, extra: Partial<Parameters<typeof Connection.connect>[0]> = {}) =>
  Connection.connect({
    redis: url,
    namespace,
    visibilityTimeoutMs: VISIBILITY_MS,
    commandTimeoutMs: 2000,
    logLevel: (process.env["CHAOS_LOG"] as "Warn" | undefined) ?? "None",
    ...extra,
  })

/**
 * Start `n` workflows spread over `overMs` (load throughout the fault).
 * Resolves to the ids whose `start()` resolved (acknowledged) and the
 * number whose `start()` rejected.
 */
const startSpread = async (client: Client, prefix: string, n: number, overMs: number): Promise<{ readonly acked: Array<string>; readonly refused: number; readonly errors: Array<string> }> => {
  const acked: Array<string> = []
  const errors: Array<string> = []
  const calls: Array<Promise<void>> = []
  const t0 = Date.now()
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * overMs) / n - Date.now()
    if (wait > 0) await delay(wait)
    const workflowId = `${prefix}-${i}`
    calls.push(
      client.workflow.start(workflows.chaosOrder, { taskQueue: TASK_QUEUE, workflowId, args: [workflowId] }).then(
        () => void acked.push(workflowId),
        (error: unknown) => void errors.push(String((error as Error)?.message ?? error)),
      ),
    )
  }
  await Promise.all(calls)
  return { acked, refused: errors.length, errors }
}

/**
 * `fn()`, retried on `StoreError` for up to 15 s: the SDK retries store
 * errors of `start()` and `signal()` only, so the harness's own reads
 * (history, result, dead letters) ride out the tail of a fault here.
 */
const retrying = async <T>(fn: () => Promise<T>): Promise<T> => {
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if ((error as { _tag?: string })._tag !== "StoreError" || Date.now() > deadline) throw error
      await delay(200)
    }
  }
}

/** Run `fn` on `items`, `concurrency` at a time. */
const eachLimited = async <T>(items: ReadonlyArray<T>, concurrency: number, fn: (item: T) => Promise<void>): Promise<void> => {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!)
  }))
}

type Final = { readonly status: string; readonly history?: { readonly workflowId: string; readonly runId: string; readonly workflowType: string; readonly events: ReadonlyArray<JournalEntry> } }

/**
 * Wait until every id is in a final state (polling `describe()`; store
 * errors and "not found yet" are retried), or `deadlineMs` passes. Returns
 * the final states found (ids missing from it were lost).
 */
const settle = async (client: Client, ids: ReadonlyArray<string>, deadlineMs: number): Promise<Map<string, Final>> => {
  const finals = new Map<string, Final>()
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const pending = ids.filter((id) => !finals.has(id))
    await eachLimited(pending, 16, async (id) => {
      try {
        const { status } = await client.workflow.getHandle(id).describe()
        if (status !== "RUNNING") finals.set(id, { status })
      } catch (error) {
        // The store answered that an acknowledged start has no record: lost for good.
        if ((error as Error).name === "WorkflowNotFoundError") finals.set(id, { status: "NOT_FOUND" })
        // Otherwise the store is down or slow: ask again.
      }
    })
    if (finals.size === ids.length || Date.now() > deadline) return finals
    await delay(200)
  }
}

/** History entries recorded twice: same type and seq (and attempt, for retries). */
export const duplicateFacts = (events: ReadonlyArray<JournalEntry>): number => {
  const seen = new Set<string>()
  let duplicates = 0
  for (const entry of events) {
    if (entry.type === "SignalReceived") continue
    const e = entry as { type: string; seq?: number; attempt?: number; patchId?: string }
    const key = `${e.type}/${e.seq ?? ""}/${e.attempt ?? ""}/${e.patchId ?? ""}`
    if (seen.has(key)) duplicates++
    else seen.add(key)
  }
  return duplicates
}

/** Fetch, check and replay every final workflow: completed with the right result, duplicate facts, replay failures. */
const audit = async (client: Client, finals: Map<string, Final>) => {
  let completed = 0
  let duplicates = 0
  let replayFailures = 0
  let wrongResults = 0
  const otherStatuses: Record<string, number> = {}
  await eachLimited([...finals.entries()], 8, async ([id, final]) => {
    if (final.status === "NOT_FOUND") {
      otherStatuses[final.status] = (otherStatuses[final.status] ?? 0) + 1
      return
    }
    const handle = client.workflow.getHandle(id)
    const history = await retrying(() => handle.fetchHistory())
    duplicates += duplicateFacts(history.events)
    try {
      await Worker.runReplayHistory({ workflows }, history)
    } catch {
      replayFailures++
    }
    if (final.status === "COMPLETED") {
      const result = await retrying(() => handle.result())
      if (result === `${id}.1+${id}.2`) completed++
      else wrongResults++
    } else {
      otherStatuses[final.status] = (otherStatuses[final.status] ?? 0) + 1
    }
  })
  return { completed, duplicates, replayFailures, wrongResults, otherStatuses }
}

const deadLetterCount = (connection: Connection): Promise<number> =>
  retrying(() => connection.run(
    Effect.gen(function* () {
      const store = yield* Store
      const activity = yield* store.deadLetters({ kind: "activity", taskQueue: TASK_QUEUE })
      const workflow = yield* store.deadLetters({ kind: "workflow", taskQueue: TASK_QUEUE })
      return activity.length + workflow.length
    }),
  ))

/** The row of a scenario that ran workflows; `extra` notes go first. */
const row = async (
  scenario: string,
  client: Client,
  connection: Connection,
  acked: ReadonlyArray<string>,
  refused: number,
  deadlineMs: number,
  extra: Array<string>,
): Promise<ScenarioResult> => {
  const finals = await settle(client, acked, deadlineMs)
  const result = await audit(client, finals)
  const notes = [...extra]
  if (refused > 0) notes.push(`${refused} start() calls rejected (not acknowledged, not counted)`)
  if (result.replayFailures > 0) notes.push(`${result.replayFailures} histories failed to replay`)
  if (result.wrongResults > 0) notes.push(`${result.wrongResults} wrong results`)
  for (const [status, count] of Object.entries(result.otherStatuses)) notes.push(`${count} ${status}`)
  const stuck = acked.length - finals.size
  if (stuck > 0) notes.push(`${stuck} not final after ${deadlineMs} ms`)
  return {
    scenario,
    workflows: acked.length,
    completed: result.completed,
    lost: acked.length - result.completed,
    duplicates: result.duplicates,
    deadLetters: await deadLetterCount(connection),
    replayFailures: result.replayFailures,
    ok: true,
    notes: notes.join("; "),
  }
}

/** `promise`, or `undefined` once `ms` have passed without it settling. */
const bounded = <T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([promise, new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)))]).finally(() => clearTimeout(timer))
}

/** Resources a scenario must release whatever happens; a step that hangs is abandoned after 15 s (and reported). */
const cleanup = () => {
  const steps: Array<{ readonly what: string; readonly step: () => Promise<unknown> }> = []
  const hung: Array<string> = []
  return {
    hung,
    add: (step: () => Promise<unknown>, what = "cleanup") => void steps.unshift({ what, step }),
    run: async () => {
      for (const { what, step } of steps) {
        if ((await bounded(step().catch(() => undefined), 15_000)) === "timeout") hung.push(what)
      }
      if (hung.length > 0) console.error(`chaos: ${hung.join(", ")} did not finish within 15 s (abandoned)`)
    },
  }
}

/** A worker of the chaos workflows running in this process on `connection`, shut down by `done`. */
const runWorker = async (done: ReturnType<typeof cleanup>, connection: Connection): Promise<void> => {
  const worker = await Worker.create({ connection, taskQueue: TASK_QUEUE, workflows, activities })
  const running = worker.run()
  running.catch(() => undefined)
  done.add(async () => {
    await worker.shutdown()
    await running
  }, "worker.shutdown()")
}

/** A chaos worker in a child process (bench/chaos/worker.ts); resolves once it prints `ready`. */
const spawnWorker = (url: string, namespace: string): { readonly child: ChildProcess; readonly ready: Promise<void>; readonly exited: Promise<void> } => {
  const child = spawn(process.execPath, ["--conditions=hotmesh-source", "--import", "tsx", workerScript], {
    cwd: repoRoot,
    env: { ...process.env, HOTMESH_REDIS_URL: url, HOTMESH_NAMESPACE: namespace, HOTMESH_TASK_QUEUE: TASK_QUEUE, HOTMESH_VISIBILITY_MS: String(VISIBILITY_MS) },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("ready")) resolve()
    })
    child.stderr!.on("data", (chunk: Buffer) => void (output += chunk.toString()))
    void exited.then(() => reject(new Error(`chaos worker ${child.pid} exited before it was ready:\n${output}`)))
  })
  ready.catch(() => undefined)
  return { child, ready, exited }
}

/**
 * (1) Three worker processes; every ~2 s (1.5–2.5 s) a random one is
 * SIGKILLed and a new one started, while workflows are started. Nothing runs
 * workflows in the harness's process.
 */
export const workerKills = async (options: ScenarioOptions): Promise<ScenarioResult> => {
  const done = cleanup()
  try {
    const redis = await startRedis({ extraArgs: ["--save", ""] })
    done.add(() => redis.stop())
    const namespace = namespaceOf("kill")
    const connection = await connect(redis.url, namespace)
    done.add(() => connection.close())
    const client = new Client({ connection })
    const workers = Array.from({ length: 3 }, () => spawnWorker(redis.url, namespace))
    done.add(async () => {
      for (const w of workers) w.child.kill("SIGKILL")
      await Promise.all(workers.map((w) => w.exited))
    })
    await Promise.all(workers.map((w) => w.ready))
    let kills = 0
    let chaos = true
    const killer = (async () => {
      while (chaos) {
        await delay(between(1500, 2500))
        if (!chaos) return
        const index = Math.floor(Math.random() * workers.length)
        const victim = workers[index]!
        victim.child.kill("SIGKILL")
        await victim.exited
        kills++
        workers[index] = spawnWorker(redis.url, namespace)
        options.log?.(`  killed worker ${victim.child.pid}, started ${workers[index]!.child.pid}`)
      }
    })()
    const { acked, refused } = await startSpread(client, "kill", options.workflows, options.chaosMs)
    // Keep killing until the chaos window is over, then let the survivors finish.
    const settled = settle(client, acked, options.chaosMs)
    await settled
    chaos = false
    await killer
    return await row("worker SIGKILL every ~2 s (3 processes)", client, connection, acked, refused, options.deadlineMs, [`${kills} kills`])
  } finally {
    await done.run()
  }
}

/**
 * (2) redis-server SIGKILLed a third into the run and restarted 3 s later
 * from its AOF (`appendfsync` as given), while workflows are started and run.
 */
export const redisKill = async (fsync: "always" | "everysec", options: ScenarioOptions): Promise<ScenarioResult> => {
  const done = cleanup()
  try {
    const redis = await startRedis({ extraArgs: ["--save", "", "--appendonly", "yes", "--appendfsync", fsync] })
    done.add(() => redis.stop())
    const namespace = namespaceOf(`aof-${fsync}`)
    const connection = await connect(redis.url, namespace)
    done.add(() => connection.close())
    const client = new Client({ connection })
    await runWorker(done, connection)
    const outage = (async () => {
      await delay(options.chaosMs / 3)
      await redis.kill()
      options.log?.(`  redis-server killed (appendfsync ${fsync}); down for 3 s`)
      await delay(3000)
      await redis.revive()
      options.log?.("  redis-server restarted from its AOF")
    })()
    const { acked, refused } = await startSpread(client, `aof-${fsync}`, options.workflows, options.chaosMs)
    await outage
    const notes = ["3 s down"]
    if (fsync === "everysec") notes.push("everysec may lose up to 1 s of acknowledged writes (Redis' documented trade-off)")
    return await row(`redis-server SIGKILL, AOF appendfsync ${fsync}`, client, connection, acked, refused, options.deadlineMs, notes)
  } finally {
    await done.run()
  }
}

/**
 * (3) Workers and client reach Redis through a TCP proxy that drops every
 * connection every 0.5–3 s.
 */
export const connectionResets = async (options: ScenarioOptions): Promise<ScenarioResult> => {
  const done = cleanup()
  try {
    const redis = await startRedis({ extraArgs: ["--save", ""] })
    done.add(() => redis.stop())
    const proxy = await startProxy(redis.port!)
    done.add(() => proxy.close())
    const url = `redis://127.0.0.1:${proxy.port}`
    const namespace = namespaceOf("reset")
    const connection = await connect(url, namespace)
    done.add(() => connection.close())
    const client = new Client({ connection })
    await runWorker(done, connection)
    let resets = 0
    let chaos = true
    const resetter = (async () => {
      // The first reset lands while the starts are still being spread, however short the run.
      let first = true
      while (chaos) {
        // (The starts are spread over less than chaosMs: the first reset lands in its first half.)
        await delay(first ? between(Math.min(500, options.chaosMs / 4), Math.min(3000, options.chaosMs / 2)) : between(500, 3000))
        first = false
        if (chaos) {
          proxy.resetAll()
          resets++
        }
      }
    })()
    const { acked, refused } = await startSpread(client, "reset", options.workflows, options.chaosMs)
    await settle(client, acked, options.chaosMs)
    chaos = false
    await resetter
    return await row("connection resets every 0.5–3 s (TCP proxy)", client, connection, acked, refused, options.deadlineMs, [`${resets} resets, ${proxy.accepted()} connections`])
  } finally {
    await done.run()
  }
}

/** (4) A server that accepts TCP and never answers: connect must fail within its deadline, naming the endpoint. */
export const silentServer = async (): Promise<ScenarioResult> => {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => void sockets.add(socket))
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as { port: number }).port
  const connectTimeoutMs = 1000
  const t0 = Date.now()
  let notes: string
  let ok = false
  try {
    const connection = await Connection.connect({ redis: `redis://127.0.0.1:${port}`, namespace: namespaceOf("silent"), connectTimeoutMs, logLevel: "None" })
    await connection.close()
    notes = "connected to a silent server (unexpected)"
  } catch (error) {
    const elapsed = Date.now() - t0
    const message = String((error as Error).message)
    ok = message.includes(`127.0.0.1:${port}`) && elapsed < connectTimeoutMs + 2000
    notes = `connect rejected after ${elapsed} ms (deadline ${connectTimeoutMs} ms)${message.includes(`127.0.0.1:${port}`) ? ", naming the endpoint" : `: ${message}`}`
  } finally {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return { scenario: "silent server (accepts TCP, never answers)", workflows: 0, completed: 0, lost: 0, duplicates: 0, deadLetters: 0, replayFailures: 0, ok, notes: `${ok ? "ok" : "FAILED"}: ${notes}` }
}

/** (5) A Redis with `maxmemory-policy allkeys-lru`: refused without `allowEviction`, accepted with it. */
export const evictingRedis = async (): Promise<ScenarioResult> => {
  const redis = await startRedis({ extraArgs: ["--save", "", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] })
  try {
    const namespace = namespaceOf("evict")
    let refused: string | undefined
    try {
      const connection = await Connection.connect({ redis: redis.url, namespace, logLevel: "None" })
      await connection.close()
    } catch (error) {
      refused = String((error as Error).message)
    }
    const accepted = await Connection.connect({ redis: redis.url, namespace, allowEviction: true, logLevel: "None" })
    await accepted.close()
    const ok = refused !== undefined && refused.includes("allowEviction")
    return {
      scenario: "evicting Redis (allkeys-lru)",
      workflows: 0,
      completed: 0,
      lost: 0,
      duplicates: 0,
      deadLetters: 0,
      replayFailures: 0,
      ok,
      notes: `${ok ? "ok" : "FAILED"}: ${refused === undefined ? "connected without allowEviction" : "refused without allowEviction"}, accepted with allowEviction: true`,
    }
  } finally {
    await redis.stop()
  }
}

/**
 * The malformed entries of scenario (6): what a buggy or hostile producer
 * could XADD. `unreadable` ones fail to decode; `misrouted` ones name a
 * workflow of another partition, or none (the Redis store parks those as it
 * reads them).
 */
export const hostileEntries = {
  unreadable: [
    ["k", "hostile-1", "b", "not json"],
    ["k", "hostile-2", "b", JSON.stringify({ type: "NoSuchMessage" })],
    ["garbage", "\u0000\u0001"],
  ],
  misrouted: [
    ["k", "hostile-3", "b", JSON.stringify({ type: "Start" })],
    ["b", JSON.stringify({ type: "Signal", name: "x", args: [] })],
    ["k", "hostile-5", "b", JSON.stringify({ type: "ActivityCompleted", seq: "one", attempt: null })],
  ],
} satisfies Record<string, ReadonlyArray<ReadonlyArray<string>>>

/**
 * (6) Malformed entries XADDed to the workflow and activity streams while
 * good workflows run. Counts the good workflows and the dead letters (each
 * malformed entry is dead-lettered on its first delivery: it does not decode,
 * or its key belongs to another partition or is missing).
 */
export const hostileStreamEntries = async (
  options: ScenarioOptions,
  entries: ReadonlyArray<ReadonlyArray<string>> = [...hostileEntries.unreadable, ...hostileEntries.misrouted],
): Promise<ScenarioResult> => {
  const done = cleanup()
  try {
    const redis = await startRedis({ extraArgs: ["--save", ""] })
    done.add(() => redis.stop())
    const namespace = namespaceOf("hostile")
    const connection = await connect(redis.url, namespace, { maxDeliveries: 3 })
    done.add(() => connection.close())
    const admin = new Redis(redis.url)
    done.add(() => admin.quit())
    const client = new Client({ connection })
    await runWorker(done, connection)
    const injected = (async () => {
      await delay(options.chaosMs / 4)
      let count = 0
      // Partition 0's hash tag, as the namespace's config records it (docs/protocol.md, "Keys").
      const tag = (await admin.hget(`{${namespace}}:config`, "tags"))?.split(" ")[0]
      if (tag === undefined) throw new Error(`namespace ${namespace} has no recorded hash tags`)
      for (const kind of ["workflow", "activity"]) {
        for (const fields of entries) {
          await admin.xadd(`${tag}:s:${kind}:${TASK_QUEUE}`, "*", ...fields)
          count++
        }
      }
      return count
    })()
    const { acked, refused } = await startSpread(client, "hostile", options.workflows, options.chaosMs)
    const count = await injected
    const result = await row(entries.length === hostileEntries.unreadable.length + hostileEntries.misrouted.length ? "hostile stream entries" : `hostile stream entries (${entries.length} kinds)`, client, connection, acked, refused, options.deadlineMs, [`${count} malformed entries XADDed`])
    // The malformed entries reach the dead-letter lists on their first delivery; wait for them, with a deadline.
    const deadline = Date.now() + 3 * 3 * VISIBILITY_MS + 5000
    let deadLetters = result.deadLetters
    while (deadLetters < count && Date.now() < deadline) {
      await delay(250)
      deadLetters = await deadLetterCount(connection)
    }
    return { ...result, deadLetters, notes: `${result.notes}${deadLetters < count ? `; only ${deadLetters} of ${count} dead-lettered` : ""}` }
  } finally {
    await done.run()
  }
}

/**
 * (7) Rollback: start half the workflows, `SAVE` an RDB snapshot while they
 * run, start the other half and let them progress, SIGKILL redis-server and
 * restart it from the old snapshot. Workflows started after the snapshot are
 * gone by construction (counted as lost, and said so); every workflow the
 * snapshot holds must reach a final state with a replayable journal.
 */
export const rdbRollback = async (options: ScenarioOptions): Promise<ScenarioResult> => {
  const done = cleanup()
  try {
    const redis: RedisServer = await startRedis({ extraArgs: ["--save", "", "--appendonly", "no"] })
    done.add(() => redis.stop())
    const namespace = namespaceOf("rollback")
    const connection = await connect(redis.url, namespace)
    done.add(() => connection.close())
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 })
    done.add(async () => admin.disconnect())
    const client = new Client({ connection })
    await runWorker(done, connection)
    const half = Math.ceil(options.workflows / 2)
    const before = await startSpread(client, "before", half, options.chaosMs / 3)
    await admin.save()
    options.log?.("  SAVE (RDB snapshot)")
    const after = await startSpread(client, "after", options.workflows - half, options.chaosMs / 3)
    // Progress after the snapshot: wait (bounded) until the first half has finished.
    await settle(client, before.acked, options.chaosMs / 3)
    await redis.kill()
    await redis.revive()
    options.log?.("  redis-server killed and restarted from the old snapshot")
    const acked = [...before.acked, ...after.acked]
    const result = await row("rollback to an older RDB snapshot", client, connection, acked, before.refused + after.refused, options.deadlineMs, [])
    // Which of the lost were started after the snapshot (gone by construction)?
    let missingAfter = 0
    let missingBefore = 0
    await eachLimited(acked, 16, async (id) => {
      try {
        await client.workflow.getHandle(id).describe()
      } catch (error) {
        if ((error as Error).name === "WorkflowNotFoundError") {
          if (id.startsWith("after")) missingAfter++
          else missingBefore++
        }
      }
    })
    const notes = [`${missingAfter} of ${after.acked.length} started after SAVE are gone (expected)`, `${missingBefore} of ${before.acked.length} in the snapshot are gone`]
    return { ...result, notes: [...notes, ...(result.notes === "" ? [] : [result.notes])].join("; ") }
  } finally {
    await done.run()
  }
}

/** Every scenario in order, at the given size. */
export const allScenarios = (options: ScenarioOptions): Array<{ readonly name: string; readonly run: () => Promise<ScenarioResult> }> => [
  { name: "worker kills", run: () => workerKills(options) },
  { name: "redis kill (AOF always)", run: () => redisKill("always", options) },
  { name: "redis kill (AOF everysec)", run: () => redisKill("everysec", options) },
  { name: "connection resets", run: () => connectionResets(options) },
  { name: "silent server", run: () => silentServer() },
  { name: "evicting redis", run: () => evictingRedis() },
  { name: "hostile entries", run: () => hostileStreamEntries(options) },
  { name: "rdb rollback", run: () => rdbRollback(options) },
]

/** The table, as Markdown. */
export const formatTable = (rows: ReadonlyArray<ScenarioResult>): string =>
  [
    "| scenario | workflows | completed | lost | duplicate journal facts | dead letters | notes |",
    "|---|---:|---:|---:|---:|---:|---|",
    ...rows.map((r) => `| ${r.scenario} | ${r.workflows} | ${r.completed} | ${r.lost} | ${r.duplicates} | ${r.deadLetters} | ${r.notes} |`),
  ].join("\n")
