/**
 * `npm run bench:chain`: CPU and wall time per durable step of short and
 * long activity chains, alternated in one process on the embedded store —
 * whether a step costs more as a workflow's history grows (flatness, without
 * the noise of timing single runs).
 *
 *   npm run bench:chain -- [--short 100] [--long 1000] [--rounds 3]
 *
 * Each round runs 30 short chains, then as many long ones as make about the
 * same number of steps, and prints µs per step of each and their ratio.
 */
import { Client, Connection, Worker } from "hotmesh"
import { num } from "./args.ts"
import { BENCH_WORKER } from "./benchWorker.ts"
import * as workflows from "./workflows.ts"

const short = num("--short", 100)
const long = num("--long", 1000)
const rounds = num("--rounds", 3)

const connection = await Connection.connect({ namespace: "chain" })
const worker = await Worker.create({ connection, taskQueue: "chain", ...BENCH_WORKER })
const client = new Client({ connection })
let id = 0
/** µs of wall and of CPU per durable step of `times` sequential `n`-activity chains. */
const run = async (n: number, times: number) => {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < times; i++) {
    const result = await client.workflow.execute(workflows.longChain, { taskQueue: "chain", workflowId: `chain-${id++}`, args: [n] })
    if (result !== n) throw new Error(`a ${n}-activity chain returned ${result}`)
  }
  const cpu = process.cpuUsage(cpu0)
  const steps = times * (2 * n + 1)
  return { wall: ((performance.now() - t0) * 1000) / steps, cpu: (cpu.user + cpu.system) / steps }
}
const shortRuns = 30
const longRuns = Math.max(1, Math.round((shortRuns * short) / long))
await worker.runUntil(async () => {
  await run(short, shortRuns) // warm-up
  await run(long, longRuns)
  for (let r = 0; r < rounds; r++) {
    const a = await run(short, shortRuns)
    const b = await run(long, longRuns)
    console.log(
      `round ${r + 1}: µs per step, ${short} / ${long} activities: wall ${a.wall.toFixed(0)} / ${b.wall.toFixed(0)} (ratio ${(b.wall / a.wall).toFixed(2)}), ` +
        `CPU ${a.cpu.toFixed(0)} / ${b.cpu.toFixed(0)} (ratio ${(b.cpu / a.cpu).toFixed(2)})`,
    )
  }
})
await connection.close()
