/**
 * Connection options pass through to ioredis: a password in the URL, an ACL
 * user and password, and TLS with a private CA — each against a real
 * redis-server configured for it, running a workflow end to end.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Client, Connection, Worker } from "hotmesh"
import { proxyActivities } from "hotmesh/workflow"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RedisServer, startRedis } from "../support/redisServer.ts"

const activities = {
  async echo(text: string): Promise<string> {
    return text
  },
}
const { echo } = proxyActivities<typeof activities>({ startToCloseTimeout: "10s" })
async function echoWorkflow(text: string): Promise<string> {
  return echo(text)
}

/** Run one workflow through a worker and a client on `connection`. */
const roundTrip = async (connection: Connection, text: string): Promise<string> => {
  const taskQueue = `auth-${Math.random().toString(36).slice(2, 8)}`
  const worker = await Worker.create({ connection, taskQueue, workflows: { echoWorkflow }, activities })
  const client = new Client({ connection })
  return worker.runUntil(client.workflow.execute(echoWorkflow, { taskQueue, workflowId: `w-${taskQueue}`, args: [text] }))
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** A throwaway CA and a server certificate for 127.0.0.1. */
const certificates = () => {
  const dir = mkdtempSync(join(tmpdir(), "hotmesh-tls-"))
  const ssl = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" })
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=hotmesh-test-ca")
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n")
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "ext.cnf")
  return { dir, ca: readFileSync(join(dir, "ca.crt"), "utf8") }
}

describe("AUTH, ACL users and TLS pass through to ioredis", () => {
  let secured: RedisServer
  let tls: RedisServer
  let tlsPort: number
  let ca: string
  beforeAll(async () => {
    secured = await startRedis({ extraArgs: ["--requirepass", "s3cret", "--user", "alice", "on", ">wonderland", "~*", "&*", "+@all"] })
    const certs = certificates()
    ca = certs.ca
    tlsPort = await freePort()
    tls = await startRedis({
      extraArgs: [
        "--tls-port", String(tlsPort),
        "--tls-cert-file", join(certs.dir, "server.crt"),
        "--tls-key-file", join(certs.dir, "server.key"),
        "--tls-ca-cert-file", join(certs.dir, "ca.crt"),
        "--tls-auth-clients", "no",
      ],
    })
  })
  afterAll(async () => {
    await secured.stop()
    await tls.stop()
  })

  it("a password in the URL", async () => {
    const connection = await Connection.connect({ redis: `redis://:s3cret@127.0.0.1:${secured.port}`, namespace: "auth-url" })
    try {
      expect(await roundTrip(connection, "via url")).toBe("via url")
    } finally {
      await connection.close()
    }
  })

  it("an ACL user and password as ioredis options", async () => {
    const connection = await Connection.connect({ redis: { host: "127.0.0.1", port: secured.port!, username: "alice", password: "wonderland" }, namespace: "auth-acl" })
    try {
      expect(await roundTrip(connection, "as alice")).toBe("as alice")
    } finally {
      await connection.close()
    }
  })

  it("a wrong password fails the connect with a clear error", async () => {
    const error = await Connection.connect({ redis: { host: "127.0.0.1", port: secured.port!, password: "wrong", retryStrategy: () => null }, namespace: "auth-bad" })
      .then(async (connection) => {
        await connection.close()
        return undefined
      }, (e: unknown) => e as Error)
    expect(error?.message).toMatch(/WRONGPASS|invalid username-password|NOAUTH/i)
  })

  it("TLS with the server's CA", async () => {
    const connection = await Connection.connect({ redis: { host: "127.0.0.1", port: tlsPort, tls: { ca } }, namespace: "tls" })
    try {
      expect(await roundTrip(connection, "over tls")).toBe("over tls")
    } finally {
      await connection.close()
    }
  })
})
