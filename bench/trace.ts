/**
 * `npm run bench:trace`: the timeline of one workflow on Redis as this
 * process sees it — every socket write (its size and command) and every read
 * (its size, and how long its handler ran), with the wall time and the
 * process CPU time between them. Client and worker share the process, on two
 * connections, after a warm-up of sequential runs.
 *
 *   npm run bench:trace -- [--redis URL] [--ten] [--warm 500]
 *
 * `--ten` traces a 10-activity workflow instead of a 1-activity one. Without
 * `--redis` (or `REDIS_URL`) it starts a private `redis-server`. The
 * interval after a write holds that write's own syscall; the CPU column is
 * the whole process's (GC helper threads included).
 */
import net from "node:net"
import { Client, Connection, Worker } from "hotmesh"
import { startRedis } from "../test/support/redisServer.ts"
import { flag, has, num } from "./args.ts"
import { BENCH_WORKER } from "./benchWorker.ts"
import * as workflows from "./workflows.ts"

const ten = has("--ten")
const warm = num("--warm", 500)
const explicitUrl = flag("--redis")
const redisServer = explicitUrl === undefined ? await startRedis() : undefined
const url = explicitUrl ?? redisServer!.url

interface Event {
  readonly at: number
  readonly cpu: number
  readonly what: string
}
const events: Array<Event> = []
let tracing = false
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const socketIds = new WeakMap<object, number>()
let sockets = 0
const socketId = (socket: object) => {
  let id = socketIds.get(socket)
  if (id === undefined) socketIds.set(socket, (id = ++sockets))
  return `s${id}`
}
/** The command of a RESP request: `*N\r\n$len\r\nNAME\r\n$len\r\nfirst argument...`. */
const commandOf = (text: string) => {
  const match = /\r\n([A-Za-z]+)\r\n(?:\$\d+\r\n([^\r]{0,12}))?/.exec(text)
  return match === null ? "" : `${match[1]} ${match[2] ?? ""}`.trim()
}
const write = net.Socket.prototype.write
net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: Array<unknown>) {
  if (tracing) {
    const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("latin1") : ""
    events.push({ at: performance.now(), cpu: cpuMs(), what: `${socketId(this)} write ${text.length} B  ${commandOf(text)}` })
  }
  return (write as (...a: Array<unknown>) => boolean).call(this, chunk, ...rest)
} as typeof write
const emit = net.Socket.prototype.emit
net.Socket.prototype.emit = function (this: net.Socket, event: string | symbol, ...args: Array<unknown>) {
  if (!tracing || event !== "data") return (emit as (...a: Array<unknown>) => boolean).call(this, event, ...args)
  const at = performance.now()
  const cpu = cpuMs()
  const result = (emit as (...a: Array<unknown>) => boolean).call(this, event, ...args)
  const length = (args[0] as { length?: number } | undefined)?.length ?? 0
  events.push({ at, cpu, what: `${socketId(this)} read ${length} B  (handled in ${((performance.now() - at) * 1000).toFixed(0)} µs)` })
  return result
} as typeof emit

const namespace = `trace-${Date.now()}`
const workerConnection = await Connection.connect({ redis: url, namespace })
const clientConnection = await Connection.connect({ redis: url, namespace })
const worker = await Worker.create({ connection: workerConnection, taskQueue: "trace", ...BENCH_WORKER })
const running = worker.run()
const client = new Client({ connection: clientConnection })
let ids = 0
const one = () =>
  client.workflow.execute(ten ? workflows.tenSteps : workflows.oneStep, { taskQueue: "trace", workflowId: `w-${++ids}`, args: [1] })
for (let i = 0; i < warm; i++) await one()

tracing = true
events.push({ at: performance.now(), cpu: cpuMs(), what: "execute()" })
await one()
events.push({ at: performance.now(), cpu: cpuMs(), what: "resolved" })
tracing = false

console.log(`one ${ten ? "10" : "1"}-activity workflow on Redis after ${warm} warm-up runs (socket ids: first use order)`)
console.log("      at µs   +wall µs   +cpu µs  event")
const [first] = events
let previous = first!
for (const e of events) {
  const at = ((e.at - first!.at) * 1000).toFixed(0)
  const wall = ((e.at - previous.at) * 1000).toFixed(0)
  const cpu = ((e.cpu - previous.cpu) * 1000).toFixed(0)
  console.log(`${at.padStart(12)} ${wall.padStart(10)} ${cpu.padStart(9)}  ${e.what}`)
  previous = e
}
await worker.shutdown()
await running
await clientConnection.close()
await workerConnection.close()
await redisServer?.stop()
