/**
 * A real Redis for tests: `startRedis()` starts `redis-server` on a free
 * loopback port (no persistence, in a temp dir) and waits until it answers
 * PING; `stop()` shuts it down and removes the dir; `kill()` and `revive()`
 * take it down abruptly and bring it back on the same port and dir (what
 * survives depends on the persistence `extraArgs` ask for: AOF, RDB). When `REDIS_URL` is set,
 * that server is used instead and `stop()` does nothing — give each test
 * file its own namespace so runs do not collide.
 *
 * With `persistence: "snapshot"` the server writes `dump.rdb` in its dir
 * only when asked (`SAVE`; automatic snapshots stay off), and `restart()`
 * starts it again from the last one — a Redis restored from an older
 * snapshot, having lost every write since.
 *
 * @example
 * ```ts
 * const redis = await startRedis()
 * afterAll(() => redis.stop())
 * storeConformance("redis", layerRedis({ redis: redis.url, namespace: "conf" }), { maxDeliveries: 3 })
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { createConnection, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A running Redis server for a test file. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` (or `REDIS_URL`). */
  readonly url: string
  /** The port on 127.0.0.1 (undefined when using `REDIS_URL`). */
  readonly port: number | undefined
  /** Stop the server (no-op for `REDIS_URL`). */
  readonly stop: () => Promise<void>
  /**
   * Stop the server process abruptly (SIGKILL) and start it again on the same
   * port: with no data, or with `persistence: "snapshot"` the data of the last
   * `SAVE` (writes since are lost).
   */
  readonly restart: () => Promise<void>
  /** The server's working dir, where `dump.rdb` goes (undefined when using `REDIS_URL`). */
  /** SIGKILL the server and wait until it has exited (private servers only). */
  readonly kill: () => Promise<void>
  /** Start a killed server again on the same port and dir, and wait until it answers PING (it loads its AOF or RDB file, if any). */
  readonly revive: () => Promise<void>
  readonly dir: string | undefined
}

/** A TCP port free on 127.0.0.1 now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Resolve once `PING` gets `+PONG` on 127.0.0.1:port, or reject after `timeoutMs`. */
const waitForPing = async (port: number, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port })
      socket.setTimeout(500)
      socket.on("connect", () => socket.write("PING\r\n"))
      socket.on("data", (data) => {
        socket.destroy()
        // +PONG, or -NOAUTH from a server that requires a password: either way it is up.
        resolve(/^(\+PONG|-NOAUTH)/.test(data.toString()))
      })
      socket.on("error", () => resolve(false))
      socket.on("timeout", () => {
        socket.destroy()
        resolve(false)
      })
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Options of `startRedis`. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments (e.g. `["--cluster-enabled", "yes"]`); implies a private server. */
  readonly extraArgs?: ReadonlyArray<string>
  /**
   * `"none"` (default): nothing survives `restart()`. `"snapshot"`: `SAVE`
   * writes `dump.rdb` and `restart()` loads it (no automatic snapshots, no
   * AOF); implies a private server.
   */
  readonly persistence?: "none" | "snapshot"
}

/** The redis-server binary: `REDIS_SERVER`, or `redis-server` on the PATH. */
const redisBinary = (): string => process.env["REDIS_SERVER"] ?? "redis-server"

const spawnServer = (port: number, dir: string, extraArgs: ReadonlyArray<string>): ChildProcess => {
  const child = spawn(
    redisBinary(),
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extraArgs],
    { stdio: "ignore" },
  )
  child.on("error", () => {})
  return child
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()))

/** Start a private `redis-server`, or use `REDIS_URL` when set (and no `extraArgs` are asked for). */
export const startRedis = async (options: StartRedisOptions = {}): Promise<RedisServer> => {
  const extraArgs = options.extraArgs ?? []
  const persistent = options.persistence === "snapshot"
  const external = process.env["REDIS_URL"]
  if (external !== undefined && external !== "" && extraArgs.length === 0 && !persistent) {
    return {
      url: external,
      port: undefined,
      dir: undefined,
      stop: async () => {},
      restart: () => Promise.reject(new Error("cannot restart the REDIS_URL server")),
      kill: () => Promise.reject(new Error("cannot kill the REDIS_URL server")),
      revive: () => Promise.reject(new Error("cannot revive the REDIS_URL server")),
    }
  }
  const binary = redisBinary()
  if (spawnSync(binary, ["--version"], { stdio: "ignore" }).error !== undefined) {
    throw new Error(
      `The Redis tests need a redis-server: "${binary}" was not found. Install it (Debian/Ubuntu: apt-get install redis-server) ` +
        "or point REDIS_URL at a server of your own. .ci/run installs it.",
    )
  }
  const dir = await mkdtemp(join(tmpdir(), "hotmesh-redis-"))
  const port = await freePort()
  let child = spawnServer(port, dir, extraArgs)
  await waitForPing(port)
  const kill = async () => {
    child.kill("SIGKILL")
    await exited(child)
  }
  const revive = async () => {
    child = spawnServer(port, dir, extraArgs)
    // Loading a large AOF or RDB file can take a while.
    await waitForPing(port, 30_000)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {
      child.kill("SIGTERM")
      await exited(child)
      await rm(dir, { recursive: true, force: true })
    },
    restart: async () => {
      await kill()
      await rm(join(dir, "nodes.conf"), { force: true })
      // Without persistence nothing may survive, not even a dump a test's SAVE wrote.
      if (!persistent) await rm(join(dir, "dump.rdb"), { force: true })
      await revive()
    },
    kill,
    revive,
  }
}

/** Whether tests may restart the server (false when using `REDIS_URL`). */
export const canRestartRedis = (): boolean => !process.env["REDIS_URL"]

/**
 * Vitest helper: start Redis for the calling test file (top-level `await`)
 * and stop it after the file's tests.
 */
export const useRedis = async (options?: StartRedisOptions): Promise<RedisServer> => {
  const { afterAll } = await import("vitest")
  const server = await startRedis(options)
  afterAll(() => server.stop())
  return server
}
