/**
 * An in-process TCP proxy (node:net) in front of a server, for the
 * "connection resets" scenario: `resetAll()` destroys every open connection
 * (both sides), as a flaky network or a load balancer failover would.
 */
import { createConnection, createServer, type Socket } from "node:net"

/** A running proxy. */
export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number
  /** Destroy every open connection; returns how many there were. */
  readonly resetAll: () => number
  /** Connections accepted so far. */
  readonly accepted: () => number
  /** Stop accepting and destroy every connection. */
  readonly close: () => Promise<void>
}

/** Proxy 127.0.0.1:<random port> to 127.0.0.1:`targetPort`. */
export const startProxy = async (targetPort: number): Promise<TcpProxy> => {
  const open = new Set<Socket>()
  let accepted = 0
  const server = createServer((client) => {
    accepted++
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort })
    open.add(client)
    open.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    client.on("error", drop).on("close", drop)
    upstream.on("error", drop).on("close", drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  const resetAll = () => {
    const sockets = [...open]
    for (const socket of sockets) socket.destroy()
    open.clear()
    return sockets.length / 2
  }
  return {
    port,
    resetAll,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        resetAll()
        server.close(() => resolve())
      }),
  }
}
