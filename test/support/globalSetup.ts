/**
 * Vitest global setup: make sure the Redis tests can start a real
 * `redis-server`. When it is missing (and no `REDIS_URL` is given) and we run
 * as root, install Debian's package, as CI does; otherwise say in one line
 * how to get it. The Redis tests then start their own servers
 * (`test/support/redisServer.ts`).
 */
import { spawnSync } from "node:child_process"
import { findPython, PYTHON_HINT } from "./python.ts"

const has = (binary: string): boolean => spawnSync(binary, ["--version"], { stdio: "ignore" }).error === undefined

const aptInstall = (pkg = "redis-server"): boolean => {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  const install = () => spawnSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], { stdio: "ignore", env }).status === 0
  if (install()) return true
  spawnSync("apt-get", ["update"], { stdio: "ignore", env })
  return install()
}

/** The Python worker's tests (test/protocol) need a python3 with redis-py: Debian's python3-redis. */
const ensurePythonRedis = (): void => {
  if (findPython() !== undefined) return
  const root = typeof process.getuid === "function" && process.getuid() === 0
  if (root && has("apt-get")) {
    console.log("test setup: no python3 with redis-py; installing Debian's python3-redis package (apt-get install python3-redis)")
    if (aptInstall("python3-redis") && findPython() !== undefined) return
  }
  console.log(`test setup: ${PYTHON_HINT}`)
}

export default function setup(): void {
  ensurePythonRedis()
  const binary = process.env["REDIS_SERVER"] ?? "redis-server"
  if ((process.env["REDIS_URL"] ?? "") !== "" || has(binary)) return
  const root = typeof process.getuid === "function" && process.getuid() === 0
  if (root && has("apt-get")) {
    console.log("test setup: redis-server is missing; installing Debian's redis-server package (apt-get install redis-server)")
    if (aptInstall() && has(binary)) return
    console.log("test setup: apt-get could not install redis-server; the Redis tests will fail until it is installed")
    return
  }
  console.log("test setup: redis-server is missing; the Redis tests need it: apt-get install redis-server (as root), or set REDIS_URL to a Redis 7 server")
}
