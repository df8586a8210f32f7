/**
 * Connecting never hangs and always says where and why: a server that
 * accepts TCP but never answers, a port nobody listens on, a command with no
 * reply, and options refused before anything connects.
 */
import { Effect } from "effect"
import { createServer, type Server, type Socket } from "node:net"
import { afterAll, describe, expect, it } from "vitest"
import { Redis } from "ioredis"
import { Connection, InvalidArgumentError } from "hotmesh"
import { makeRedisStore } from "../../src/stores/redis/layer.ts"
import { useRedis } from "../support/redisServer.ts"

const redis = await useRedis()
const evicting = await useRedis({ extraArgs: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] })
const admin = new Redis(redis.url)
afterAll(() => admin.quit().then(() => undefined))

/** A TCP server on a free loopback port that accepts connections and never writes a byte. */
const silentServer = async (): Promise<{ readonly port: number; readonly close: () => Promise<void> }> => {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    port,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    }),
  }
}

/** A loopback port with nothing listening (bound, then released). */
const closedPort = async (): Promise<number> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe("connecting to Redis", () => {
  it("fails after connectTimeoutMs against a server that never answers, naming it", async () => {
    const silent = await silentServer()
    try {
      const attempt = Connection.connect({ redis: `redis://127.0.0.1:${silent.port}`, namespace: "silent", connectTimeoutMs: 300 })
      await expect(attempt).rejects.toThrow(`timeout after 0.3 s waiting for 127.0.0.1:${silent.port}`)
    } finally {
      await silent.close()
    }
  })

  it("names the endpoint and the cause when nothing listens", async () => {
    const port = await closedPort()
    const attempt = Connection.connect({ redis: `redis://127.0.0.1:${port}`, namespace: "refused" })
    await expect(attempt).rejects.toThrow(`cannot connect to 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`)
  })

  it("refuses invalid options with InvalidArgumentError before connecting", async () => {
    for (const options of [
      { namespace: "has space" },
      { namespace: "a{b}" },
      { namespace: "" },
      { partitions: 0 },
      { maxDeliveries: 1.5 },
      { visibilityTimeoutMs: -1 },
      { connectTimeoutMs: Number.NaN },
    ]) {
      const attempt = Connection.connect({ redis: redis.url, ...options })
      await expect(attempt, JSON.stringify(options)).rejects.toBeInstanceOf(InvalidArgumentError)
    }
    await expect(Connection.connect({ commandTimeoutMs: 100 })).rejects.toThrow(/commandTimeoutMs applies to Redis only/)
  })

  it("refuses a Redis that evicts keys, unless allowEviction says the risk is accepted", async () => {
    const refused = Connection.connect({ redis: evicting.url, namespace: "evicting" })
    await expect(refused).rejects.toThrow(/maxmemory-policy allkeys-lru, which deletes keys when memory runs out/)
    const accepted = await Connection.connect({ redis: evicting.url, namespace: "evicting", allowEviction: true })
    await accepted.close()
  })

  it("a command with no reply fails after commandTimeoutMs (a StoreError its caller retries)", async () => {
    const error = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const store = yield* makeRedisStore({ redis: redis.url, namespace: "paused", commandTimeoutMs: 200 })
      // Redis stops serving every client for 1 s: the load gets no reply in time.
      yield* Effect.promise(() => admin.client("PAUSE", 1000, "ALL"))
      return yield* Effect.flip(store.load("anything"))
    })))
    expect(error._tag).toBe("StoreError")
    expect(error.message).toMatch(/timed out/i)
  })
})
