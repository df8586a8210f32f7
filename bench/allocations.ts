/**
 * `npm run bench:allocations`: bytes allocated per durable step on the
 * embedded store, and which of HotMesh's functions allocate them (V8's
 * sampling heap profiler, counting objects collected since; a library's or
 * the runtime's allocation is charged to the nearest HotMesh frame below it).
 *
 *   npm run bench:allocations -- [--workflows 2000] [--top 25] [--self] [--redis URL]
 *
 * `--redis URL` runs the same workflows on a Redis store instead (in a new
 * namespace; client and worker share one connection and process), to see
 * what the network path adds.
 *
 * `--self` charges each allocation to the function that made it instead
 * (Effect's runtime, Node's internals and all), to see what the runtime's
 * share is made of.
 */
import { Session } from "node:inspector/promises"
import { Client, Connection, Worker } from "hotmesh"
import { flag, has, num } from "./args.ts"
import { BENCH_WORKER } from "./benchWorker.ts"
import * as workflows from "./workflows.ts"

const count = num("--workflows", 2000)
const top = num("--top", 25)
const self = has("--self")
const STEPS_PER_WORKFLOW = 21

interface SampleNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: ReadonlyArray<SampleNode>
}

const redis = flag("--redis")
// A namespace of its own on Redis: nothing of an earlier run is read back.
const connection = await Connection.connect(redis === undefined ? { namespace: "alloc" } : { redis, namespace: `alloc-${Date.now()}` })
const worker = await Worker.create({ connection, taskQueue: "alloc", ...BENCH_WORKER })
const client = new Client({ connection })
const session = new Session()
session.connect()
const tenSteps = (prefix: string, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => client.workflow.execute(workflows.tenSteps, { taskQueue: "alloc", workflowId: `${prefix}-${i}`, args: [i] })))

const profile = await worker.runUntil(async () => {
  await tenSteps("warm", 200)
  await session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never)
  await tenSteps("alloc", count)
  return (await session.post("HeapProfiler.stopSampling")).profile as unknown as { readonly head: SampleNode }
})
await connection.close()

const ours = (url: string) => !url.includes("/node_modules/") && /\/(src|dist|bench)\/.*\.(ts|js)$/.test(url)
const byOwner = new Map<string, number>()
let total = 0
const walk = (node: SampleNode, owner: string): void => {
  const { functionName, url, lineNumber } = node.callFrame
  const here = self || ours(url) ? `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules\/[^/]+|src|dist|bench)\//, "$1/")}:${lineNumber + 1}` : owner
  total += node.selfSize
  byOwner.set(here, (byOwner.get(here) ?? 0) + node.selfSize)
  for (const child of node.children) walk(child, here)
}
walk(profile.head, "(runtime: no HotMesh frame below)")
const steps = count * STEPS_PER_WORKFLOW
console.log(`${count} concurrent 10-activity workflows${redis === undefined ? "" : " on Redis"}: ${Math.round(total / steps).toLocaleString("en-US")} bytes allocated per durable step`)
for (const [owner, bytes] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${String(Math.round(bytes / steps)).padStart(8)} B  ${owner}`)
}
