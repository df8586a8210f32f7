/**
 * A real local Redis Cluster for tests: `startRedisCluster()` starts six
 * `redis-server --cluster-enabled yes` on free loopback ports (each in its
 * own temp dir, no persistence), joins them with `redis-cli --cluster create
 * … --cluster-replicas 1` (3 masters, 3 replicas), and waits until every
 * node reports `cluster_state:ok` and every replica's link to its master is
 * up and synced. `stop()` shuts everything down and removes the dirs;
 * `kill(port)` SIGKILLs one node (a failover: its replica is promoted after
 * `--cluster-node-timeout`); `reshard()` runs `redis-cli --cluster reshard`.
 * Nothing beyond Debian's `redis-server` package (which ships `redis-cli`)
 * is needed. Same style as `redisServer.ts`.
 *
 * @example
 * ```ts
 * const cluster = await useRedisCluster()
 * const connection = await Connection.connect({ redis: { cluster: cluster.startupNodes }, namespace: "t" })
 * ```
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createServer } from "node:net"
import { freePort } from "./redisServer.ts"

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNode {
  readonly id: string
  readonly port: number
  readonly role: "master" | "replica"
  /** The master's node id (replicas only). */
  readonly masterId: string | undefined
  /** Slot ranges served (masters only), inclusive. */
  readonly slots: ReadonlyArray<readonly [number, number]>
  /** Marked failed by the cluster (`fail` flag). */
  readonly failed: boolean
}

/** A running local cluster of a test file. */
export interface RedisCluster {
  /** The six ports on 127.0.0.1. */
  readonly ports: ReadonlyArray<number>
  /** `[{ host, port }, …]` of every node, for ioredis' `Cluster` / `Connection.connect({ redis: { cluster } })`. */
  readonly startupNodes: ReadonlyArray<{ readonly host: string; readonly port: number }>
  /** The cluster's nodes as a live node sees them now. */
  readonly nodes: () => Promise<ReadonlyArray<ClusterNode>>
  /** The live masters, by first slot. */
  readonly masters: () => Promise<ReadonlyArray<ClusterNode>>
  /** The master serving `slot` now. */
  readonly masterOf: (slot: number) => Promise<ClusterNode>
  /** SIGKILL the node on `port` and wait until its process has exited. */
  readonly kill: (port: number) => Promise<void>
  /** Start a killed node again on its port and dir: it rejoins (as a replica of whoever took over its slots). */
  readonly revive: (port: number) => Promise<void>
  /**
   * Wait until the live nodes agree on a cluster where every slot is served
   * by a live master (after a `kill`: the replica promoted) and report
   * `cluster_state:ok`.
   */
  readonly waitHealthy: (timeoutMs?: number) => Promise<void>
  /**
   * `redis-cli --cluster reshard`: move `slots` slots from the master `from`
   * to the master `to` (node ids). Resolves when the move is done.
   */
  readonly reshard: (from: string, to: string, slots: number) => Promise<void>
  /** Run a command on the node of `port` with redis-cli; its reply as text. */
  readonly cli: (port: number, ...args: ReadonlyArray<string>) => Promise<string>
  /** Stop every node and remove the dirs. */
  readonly stop: () => Promise<void>
}

/** Options of `startRedisCluster`. */
export interface StartRedisClusterOptions {
  /** `--cluster-node-timeout`: how long a master may be unreachable before its replica is promoted. Default 1 000 ms. */
  readonly nodeTimeoutMs?: number
  /** Extra `redis-server` arguments for every node. */
  readonly extraArgs?: ReadonlyArray<string>
}

const cliBinary = (): string => process.env["REDIS_CLI"] ?? "redis-cli"

const run = (args: ReadonlyArray<string>, timeoutMs = 60_000): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(cliBinary(), [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`))
      else resolve(stdout)
    })
  })

const until = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch((error: unknown) => {
      if (error instanceof NodeExited) throw error
      return false
    })) return
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Parse `CLUSTER NODES` output. */
export const parseClusterNodes = (text: string): Array<ClusterNode> =>
  text.trim().split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [id = "", address = "", flags = "", master = "-", , , , , ...slotFields] = line.trim().split(" ")
    const port = Number(address.split("@")[0]?.split(":")[1])
    const slots: Array<readonly [number, number]> = []
    for (const field of slotFields) {
      if (field.startsWith("[")) continue // a slot being migrated/imported
      const [a, b] = field.split("-")
      slots.push([Number(a), Number(b ?? a)])
    }
    const flagSet = new Set(flags.split(","))
    return {
      id,
      port,
      role: flagSet.has("master") ? "master" : "replica",
      masterId: master === "-" ? undefined : master,
      slots,
      failed: flagSet.has("fail"),
    } satisfies ClusterNode
  })

/** Whether nothing listens on 127.0.0.1:`port` now. */
const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/** A node exited before it answered: its port (or its bus port) was taken in the meantime. */
class NodeExited extends Error {}

/** Start a 3-master, 3-replica cluster on loopback (with fresh ports again, up to twice, when a node cannot bind its own). */
export const startRedisCluster = async (options: StartRedisClusterOptions = {}): Promise<RedisCluster> => {
  const binary = process.env["REDIS_SERVER"] ?? "redis-server"
  for (const b of [binary, cliBinary()]) {
    if (spawnSync(b, ["--version"], { stdio: "ignore" }).error !== undefined) {
      throw new Error(`The Redis Cluster tests need ${b} (Debian/Ubuntu: apt-get install redis-server, which ships redis-cli). .ci/run installs it.`)
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, options)
    } catch (error) {
      if (!(error instanceof NodeExited) || attempt === 3) throw error
    }
  }
}

const startOnce = async (binary: string, options: StartRedisClusterOptions): Promise<RedisCluster> => {
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000
  const ports: Array<number> = []
  while (ports.length < 6) {
    const port = await freePort()
    // The cluster bus listens on port + 10000: both must be free and distinct.
    if (port + 10_000 < 65_536 && !ports.includes(port) && !ports.includes(port + 10_000) && await portFree(port + 10_000)) ports.push(port)
  }
  const dirs = await Promise.all(ports.map(() => mkdtemp(join(tmpdir(), "hotmesh-cluster-"))))
  const children = new Map<number, ChildProcess>()
  const spawnNode = (port: number, i: number) => {
    const child = spawn(binary, [
      "--port", String(port), "--bind", "127.0.0.1", "--dir", dirs[i]!, "--save", "", "--appendonly", "no",
      "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", String(nodeTimeoutMs),
      // Replicas sync at once (the default waits 5 s for more replicas to share one transfer).
      "--repl-diskless-sync-delay", "0",
      ...(options.extraArgs ?? []),
    ], { stdio: "ignore" })
    child.on("error", () => {})
    children.set(port, child)
  }
  ports.forEach(spawnNode)
  const cli = (port: number, ...args: ReadonlyArray<string>) => run(["-h", "127.0.0.1", "-p", String(port), ...args])
  const alive = () => ports.filter((p) => { const c = children.get(p); return c !== undefined && c.exitCode === null && c.signalCode === null })
  const stop = async () => {
    await Promise.all([...children.values()].map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve()
      c.kill("SIGKILL")
      return new Promise<void>((resolve) => c.once("exit", () => resolve()))
    }))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  }
  try {
    for (const port of ports) {
      await until(`node ${port} to answer PING`, async () => {
        if (!alive().includes(port)) throw new NodeExited(`redis cluster: node ${port} exited before it answered`)
        return (await cli(port, "PING")).trim() === "PONG"
      }, 10_000)
    }
    await run(["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "1", "--cluster-yes"])
    const nodes = async () => parseClusterNodes(await cli(alive()[0]!, "CLUSTER", "NODES"))
    const waitHealthy = async (timeoutMs = 30_000) => {
      await until("a healthy cluster", async () => {
        const live = alive()
        for (const port of live) {
          if (!(await cli(port, "CLUSTER", "INFO")).includes("cluster_state:ok")) return false
        }
        const seen = await nodes()
        const livePorts = new Set(live)
        let covered = 0
        for (const n of seen) {
          if (n.role !== "master" || n.failed || !livePorts.has(n.port)) continue
          for (const [a, b] of n.slots) covered += b - a + 1
        }
        if (covered !== 16384) return false
        // Every live replica of a live master is linked and synced.
        for (const n of seen) {
          if (n.role !== "replica" || !livePorts.has(n.port)) continue
          const master = seen.find((m) => m.id === n.masterId)
          if (master === undefined || !livePorts.has(master.port)) continue
          const info = await cli(n.port, "INFO", "replication")
          if (!info.includes("master_link_status:up") || info.includes("master_sync_in_progress:1")) return false
        }
        return true
      }, timeoutMs)
    }
    await waitHealthy()
    const masters = async () =>
      (await nodes()).filter((n) => n.role === "master" && !n.failed && n.slots.length > 0 && alive().includes(n.port))
        .sort((a, b) => (a.slots[0]?.[0] ?? 0) - (b.slots[0]?.[0] ?? 0))
    return {
      ports,
      startupNodes: ports.map((port) => ({ host: "127.0.0.1", port })),
      nodes,
      masters,
      masterOf: async (slot) => {
        const m = (await masters()).find((n) => n.slots.some(([a, b]) => a <= slot && slot <= b))
        if (m === undefined) throw new Error(`redis cluster: no live master serves slot ${slot}`)
        return m
      },
      kill: async (port) => {
        const c = children.get(port)
        if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
        c.kill("SIGKILL")
        await new Promise<void>((resolve) => c.once("exit", () => resolve()))
      },
      revive: async (port) => {
        spawnNode(port, ports.indexOf(port))
        await until(`node ${port} to answer PING`, async () => (await cli(port, "PING")).trim() === "PONG", 10_000)
      },
      waitHealthy,
      reshard: async (from, to, slots) => {
        await run([
          "--cluster", "reshard", `127.0.0.1:${alive()[0]!}`, "--cluster-from", from, "--cluster-to", to,
          "--cluster-slots", String(slots), "--cluster-yes", "--cluster-pipeline", "100",
        ], 120_000)
      },
      cli,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Vitest helper: start a cluster for the calling test file (top-level `await`) and stop it after the file's tests. */
export const useRedisCluster = async (options?: StartRedisClusterOptions): Promise<RedisCluster> => {
  const { afterAll } = await import("vitest")
  const cluster = await startRedisCluster(options)
  afterAll(() => cluster.stop())
  return cluster
}
