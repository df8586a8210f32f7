/**
 * `startDashboard(...)`: the web dashboard, served by this process on
 * `node:http` — the pages (plain ES modules, HTML and CSS from
 * `src/dashboard/public`, found from the package root so the built `dist/`
 * serves them too), Chart.js from its installed dist file, the JSON API
 * (`/api/…`, see `api.ts`) and, when given, Prometheus text at `/metrics`.
 *
 * Safety: it binds to loopback by default and refuses any other host
 * without a token. With a token every request must carry it (a Bearer
 * header, basic auth with the token as password, or the cookie set by
 * opening `/?token=…` once). Actions are POSTs with a JSON body from the
 * same origin (a page elsewhere cannot forge one), refused (403) in
 * read-only mode; the pages run under a CSP that allows only this origin's
 * scripts.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { createRequire } from "node:module"
import { dirname, extname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { InvalidArgumentError } from "../core/errors.ts"
import { Client } from "../sdk/client.ts"
import type { Connection } from "../sdk/connection.ts"
import { checkOptions } from "../sdk/internal/options.ts"
import { type ApiContext, handleApi } from "./api.ts"
import { TaskQueueSampler } from "./sampler.ts"

/** Options of `startDashboard`. */
export interface DashboardOptions {
  /** The store whose executions it shows (`Connection.connect(...)`, Redis or embedded). */
  readonly connection: Connection
  /** Default 8233; 0 picks a free port (see `url`). */
  readonly port?: number
  /** Default `127.0.0.1`. Any non-loopback host requires `token`. */
  readonly host?: string
  /** Hide every action (signal, query, update, cancel, terminate, dead-letter retry and purge); the API refuses them with 403. */
  readonly readOnly?: boolean
  /** Required on every request when set (Bearer, basic-auth password, or `/?token=…` once for a cookie). */
  readonly token?: string
  /**
   * What `/metrics` serves (Prometheus text format 0.0.4). Default: the
   * connection's own `connection.metrics()`, with the stream gauges of every
   * task queue the dashboard has shown; none when the connection was made
   * with `metrics: false`.
   */
  readonly metricsText?: () => Promise<string>
  /** How often task queues are sampled for the sparklines (default 5 s). */
  readonly sampleIntervalMs?: number
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port/` it listens on. */
  readonly url: string
  /** Stop listening (open connections are closed) and stop sampling; the connection stays open. */
  close(): Promise<void>
}

const OPTIONS = ["connection", "port", "host", "readOnly", "token", "metricsText", "sampleIntervalMs"] satisfies Array<keyof DashboardOptions>
const COOKIE = "hotmesh_dashboard"
const MAX_BODY = 1 << 20

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
}

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
}

const invalid = (message: string) => new InvalidArgumentError({ message: `startDashboard: ${message}` })

/** Is `host` a loopback address or name? */
export const isLoopback = (host: string): boolean => {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase()
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1"
}

/** The package's root (where package.json is): the same from `src/` (tsx) and `dist/`. */
const packageRoot = (): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir
    if (dirname(dir) === dir) throw new Error("hotmesh dashboard: cannot find the package root (package.json) above " + fileURLToPath(import.meta.url))
  }
}

/** The files the dashboard serves, read once: its own pages and Chart.js's UMD build. */
const loadAssets = (): ReadonlyMap<string, { readonly type: string; readonly body: Buffer }> => {
  const assets = new Map<string, { type: string; body: Buffer }>()
  const publicDir = join(packageRoot(), "src", "dashboard", "public")
  for (const name of readdirSync(publicDir)) {
    const type = CONTENT_TYPES[extname(name)]
    if (type !== undefined) assets.set(`/assets/${name}`, { type, body: readFileSync(join(publicDir, name)) })
  }
  // Chart.js's package exports no dist subpaths: resolve its entry, then its UMD file beside it.
  const chartDir = dirname(createRequire(import.meta.url).resolve("chart.js"))
  assets.set("/vendor/chart.umd.min.js", { type: CONTENT_TYPES[".js"]!, body: readFileSync(join(chartDir, "chart.umd.min.js")) })
  const index = assets.get("/assets/index.html")
  if (index === undefined) throw new Error(`hotmesh dashboard: ${publicDir}/index.html is missing`)
  assets.set("/", index)
  return assets
}

const digest = (text: string): Buffer => createHash("sha256").update(text).digest()

/** Does the request carry `token` (Bearer, basic-auth password, or the cookie)? */
const authorized = (request: IncomingMessage, token: Buffer): boolean => {
  const given: Array<string> = []
  const header = request.headers.authorization ?? ""
  if (/^Bearer /i.test(header)) given.push(header.slice(7).trim())
  if (/^Basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8")
    given.push(decoded.slice(decoded.indexOf(":") + 1))
  }
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=")
    if (name === COOKIE) given.push(decodeURIComponent(value.join("=")))
  }
  return given.some((candidate) => timingSafeEqual(digest(candidate), token))
}

const send = (response: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void => {
  response.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, ...headers })
  response.end(body)
}

/** Dates as ISO strings. */
const jsonText = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (v instanceof Date ? v.toISOString() : v))

const sendJson = (response: ServerResponse, status: number, body: unknown): void => send(response, status, "application/json; charset=utf-8", jsonText(body))

const readBody = async (request: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Array<Buffer> = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw invalid("request body too large")
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString("utf8")
  if (text.trim() === "") return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new InvalidArgumentError({ message: `the request body is not JSON: ${(error as Error).message}` })
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError({ message: "the request body must be a JSON object" })
  return parsed as Record<string, unknown>
}

/**
 * Serve the dashboard for `connection`'s namespace. Resolves once it
 * listens; rejects with `InvalidArgumentError` for a bad option (a
 * non-loopback `host` without `token`, among others).
 */
export const startDashboard = async (options: DashboardOptions): Promise<Dashboard> => {
  checkOptions("startDashboard(options)", options, OPTIONS, {})
  const { connection, readOnly = false, token, metricsText, host = "127.0.0.1", port = 8233, sampleIntervalMs = 5_000 } = options
  if (connection === undefined || typeof (connection as Partial<Connection>).run !== "function") throw invalid("connection must come from Connection.connect()")
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw invalid(`port must be an integer from 0 to 65535; got ${String(port)}`)
  if (typeof host !== "string" || host === "") throw invalid("host must be a non-empty string")
  if (typeof readOnly !== "boolean") throw invalid("readOnly must be a boolean")
  if (token !== undefined && (typeof token !== "string" || token.length < 8)) throw invalid("token must be a string of at least 8 characters")
  if (metricsText !== undefined && typeof metricsText !== "function") throw invalid("metricsText must be a function returning the Prometheus text")
  if (!Number.isInteger(sampleIntervalMs) || sampleIntervalMs < 100) throw invalid("sampleIntervalMs must be an integer of at least 100")
  if (!isLoopback(host) && token === undefined) {
    throw invalid(`refusing to serve on ${host} without a token: anyone who can reach it could cancel and terminate workflows. Pass a token (--token), or bind to 127.0.0.1`)
  }
  const assets = loadAssets()
  const client = new Client({ connection })
  const sampler = new TaskQueueSampler(client, sampleIntervalMs)
  const metrics = metricsText ?? (connection.metricsEnabled ? () => connection.metrics({ taskQueues: sampler.taskQueues }) : undefined)
  const context: ApiContext = { client, sampler, readOnly, namespace: connection.namespace, metrics: metrics !== undefined }
  const tokenDigest = token === undefined ? undefined : digest(token)

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://dashboard.invalid")
    const method = request.method ?? "GET"
    const hostHeader = request.headers.host ?? ""
    // Without a token, only loopback names may address it (a DNS-rebinding page cannot).
    if (tokenDigest === undefined && !isLoopback(hostHeader.replace(/:\d+$/, ""))) {
      return send(response, 421, "text/plain; charset=utf-8", "this dashboard answers to loopback host names only\n")
    }
    if (tokenDigest !== undefined) {
      const fromQuery = url.searchParams.get("token")
      if (method === "GET" && fromQuery !== null && timingSafeEqual(digest(fromQuery), tokenDigest)) {
        url.searchParams.delete("token")
        return send(response, 303, "text/plain; charset=utf-8", "", {
          "set-cookie": `${COOKIE}=${encodeURIComponent(fromQuery)}; HttpOnly; SameSite=Strict; Path=/`,
          "location": `${url.pathname}${url.search}`,
        })
      }
      if (!authorized(request, tokenDigest)) {
        if (url.pathname.startsWith("/api/")) return sendJson(response, 401, { error: "a token is required" })
        return send(response, 401, "text/plain; charset=utf-8", "This HotMesh dashboard requires a token: open /?token=… or sign in with the token as the password.\n", {
          "www-authenticate": 'Basic realm="hotmesh dashboard", charset="UTF-8"',
        })
      }
    }
    if (url.pathname === "/metrics" && metrics !== undefined) {
      return send(response, 200, "text/plain; version=0.0.4; charset=utf-8", await metrics())
    }
    if (url.pathname.startsWith("/api/")) {
      let body: Record<string, unknown> = {}
      if (method === "POST") {
        // A JSON body from this origin only: a form or a page elsewhere cannot send one without a CORS preflight, which is never granted.
        const origin = request.headers.origin
        if (origin !== undefined && origin !== `http://${hostHeader}`) return sendJson(response, 403, { error: `cross-origin request from ${origin} refused` })
        if (!/^application\/json\b/i.test(request.headers["content-type"] ?? "")) return sendJson(response, 415, { error: "actions take a JSON body (content-type: application/json)" })
        try {
          body = await readBody(request)
        } catch (error) {
          return sendJson(response, 400, { error: (error as Error).message })
        }
      }
      const reply = await handleApi(context, { method, path: url.pathname, params: url.searchParams, body })
      return sendJson(response, reply.status, reply.body)
    }
    if (method !== "GET" && method !== "HEAD") return send(response, 405, "text/plain; charset=utf-8", "method not allowed\n")
    const asset = assets.get(url.pathname)
    if (asset === undefined) return send(response, 404, "text/plain; charset=utf-8", "not found\n")
    return send(response, 200, asset.type, asset.body)
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: error instanceof Error ? error.message : String(error) })
      else response.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`hotmesh dashboard: port ${port} on ${host} is in use`) : error))
    server.listen(port, host, resolve)
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address
  return {
    url: `http://${shownHost}:${address.port}/`,
    async close() {
      await sampler.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
