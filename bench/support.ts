/**
 * Shared helpers of the benchmarks: statistics, Redis options from a URL, and
 * Redis command counting (`INFO commandstats` after `CONFIG RESETSTAT`, and
 * `MONITOR`, which tells commands sent by clients — round trips — from
 * commands run inside scripts).
 */
import { createHash } from "node:crypto"
import type { Redis } from "ioredis"
import { LUA } from "../src/stores/redis/lua.ts"

/** The `p` quantile (0..1) of an ascending array (nearest rank, rounding down). */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** Ascending copy. */
export const sorted = (values: ReadonlyArray<number>): Array<number> => [...values].sort((a, b) => a - b)

/** Median, min and max of repeated measurements. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly runs: ReadonlyArray<number>
}

/** Summarize repetitions (median of an even count: the mean of the middle two). */
export const summarize = (runs: ReadonlyArray<number>): Summary => {
  const s = sorted(runs)
  const mid = Math.floor(s.length / 2)
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: [...runs] }
}

/** ioredis options equivalent to a redis:// URL (host, port, username, password, db). */
export function redisOptionsOf(redisUrl: string) {
  const parsed = new URL(redisUrl)
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username === "" ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === "" ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(parsed.pathname.length > 1 ? { db: Number(parsed.pathname.slice(1)) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  }
}

/** A URL with its password hidden, for printing. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, "//***@")

/** The admin connection's own commands, left out of the counts. */
export const OWN = new Set(["info", "config|resetstat", "config", "monitor", "ping", "client|setname"])

/** `INFO commandstats` as `name -> calls` (the admin connection's own commands left out). */
export const commandStats = async (admin: Redis): Promise<Map<string, number>> => {
  const stats = new Map<string, number>()
  for (const line of (await admin.info("commandstats")).split("\r\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match !== null && !OWN.has(match[1]!)) stats.set(match[1]!, Number(match[2]))
  }
  return stats
}

/** A numeric field of `INFO <section>` (e.g. `total_commands_processed`, `used_memory`). */
export const infoField = async (admin: Redis, section: string, field: string): Promise<number> => {
  const match = new RegExp(`^${field}:(\\d+)`, "m").exec(await admin.info(section))
  return match === null ? Number.NaN : Number(match[1])
}

export const sum = (counts: ReadonlyMap<string, number>): number => [...counts.values()].reduce((a, b) => a + b, 0)
export const perStep = (count: number, steps: number): string => (count / steps).toFixed(2)
export const countTable = (counts: ReadonlyMap<string, number>, steps: number, indent: string): string =>
  [...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${indent}${name.padEnd(22)} ${perStep(n, steps).padStart(7)}`).join("\n")

const scriptBySha = new Map(Object.entries(LUA).map(([name, lua]) => [createHash("sha1").update(lua).digest("hex"), name]))

const increment = (counts: Map<string, number>, name: string) => counts.set(name, (counts.get(name) ?? 0) + 1)

/**
 * Run `phase` under MONITOR (on a connection duplicated from `admin`); count
 * client commands (round trips) and in-script commands, by name (EVALSHA by
 * script name). MONITOR slows Redis down: take no timing in such a phase.
 */
export const monitored = async (admin: Redis, phase: () => Promise<void>) => {
  const roundTrips = new Map<string, number>()
  const inScripts = new Map<string, number>()
  const monitor = await admin.monitor()
  monitor.on("monitor", (_time: string, args: Array<string>, source: string) => {
    let name = (args[0] ?? "?").toLowerCase()
    if (name === "evalsha") name = `evalsha ${scriptBySha.get(args[1] ?? "") ?? "?"}`
    else if (name === "eval") name = `eval ${[...Object.entries(LUA)].find(([, lua]) => lua === args[1])?.[0] ?? "?"}`
    else if (name === "xreadgroup" && args.some((a) => a.toUpperCase() === "BLOCK")) name = "xreadgroup block"
    if (OWN.has(name)) return
    increment(source === "lua" ? inScripts : roundTrips, name)
  })
  await phase()
  // Let MONITOR deliver what Redis has already sent.
  await new Promise((resolve) => setTimeout(resolve, 50))
  monitor.disconnect()
  return { roundTrips, inScripts }
}
