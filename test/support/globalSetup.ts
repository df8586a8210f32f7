/**
 * Vitest global setup: make sure the Redis tests can start a real
 * `redis-server`, the dashboard's browser tests a real `chromium`, and the
 * Python worker's tests a `python3` with redis-py (Debian's `python3-redis`). When
 * one is missing (and, for Redis, no `REDIS_URL` is given; for chromium, no
 * `CHROMIUM_PATH`) and we run as root, install Debian's package, as CI does;
 * otherwise say in one line how to get it. The Redis tests then start their
 * own servers (`test/support/redisServer.ts`); the browser tests launch
 * chromium through playwright-core (`test/dashboard/browser.ts`).
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { findPython } from "./python.ts"

const has = (binary: string): boolean => spawnSync(binary, ["--version"], { stdio: "ignore" }).error === undefined

const aptInstall = (pkg: string): boolean => {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  const install = () => spawnSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], { stdio: "ignore", env }).status === 0
  if (install()) return true
  spawnSync("apt-get", ["update"], { stdio: "ignore", env })
  return install()
}

const root = (): boolean => typeof process.getuid === "function" && process.getuid() === 0

/** Install Debian's `pkg` when `present()` is false and we are root; otherwise say how to get it. */
const ensure = (pkg: string, present: () => boolean, needs: string, alternative: string): void => {
  if (present()) return
  if (root() && has("apt-get")) {
    console.log(`test setup: ${pkg} is missing; installing Debian's ${pkg} package (apt-get install ${pkg})`)
    if (aptInstall(pkg) && present()) return
    console.log(`test setup: apt-get could not install ${pkg}; ${needs} will fail until it is installed`)
    return
  }
  console.log(`test setup: ${pkg} is missing; ${needs} need it: apt-get install ${pkg} (as root), or ${alternative}`)
}

export default function setup(): void {
  const redis = process.env["REDIS_SERVER"] ?? "redis-server"
  ensure("redis-server", () => (process.env["REDIS_URL"] ?? "") !== "" || has(redis), "the Redis tests", "set REDIS_URL to a Redis 7 server")
  const chromium = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"
  ensure("chromium", () => existsSync(chromium), "the dashboard's browser tests", "set CHROMIUM_PATH to a Chromium or Chrome binary")
  ensure("python3-redis", () => findPython() !== undefined, "the Python worker's tests (test/protocol)", "set HOTMESH_PYTHON to a python3 that can import redis")
}
