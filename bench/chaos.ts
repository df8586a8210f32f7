/**
 * `npm run chaos`: HotMesh on real `redis-server`s that the harness breaks —
 * worker processes SIGKILLed, redis-server SIGKILLed and restarted from its
 * AOF, connections reset by a TCP proxy, a silent server, an evicting Redis,
 * malformed stream entries, a rollback to an older RDB snapshot — and a
 * table of what became of every acknowledged start. A few minutes;
 * `--quick` runs each scenario small (well under a minute in all).
 *
 *   npm run chaos [-- --quick] [--workflows N] [--only "worker kills"]
 *
 * The scenarios and what each column means: bench/chaos/scenarios.ts (its
 * header also lists which regular tests cover which scenario).
 * `CHAOS_LOG=Warn` shows the workers' warnings.
 */
import { flag, num, quick } from "./args.ts"
import { allScenarios, formatTable, type ScenarioResult } from "./chaos/scenarios.ts"

const options = {
  workflows: num("--workflows", 200, 20),
  chaosMs: quick ? 4000 : 12_000,
  deadlineMs: quick ? 20_000 : 60_000,
  log: (line: string) => console.error(line),
}
const only = flag("--only")

const rows: Array<ScenarioResult> = []
const t0 = Date.now()
for (const scenario of allScenarios(options)) {
  if (only !== undefined && scenario.name !== only) continue
  const started = Date.now()
  console.error(`${scenario.name}...`)
  try {
    rows.push(await scenario.run())
  } catch (error) {
    rows.push({ scenario: scenario.name, workflows: 0, completed: 0, lost: 0, duplicates: 0, deadLetters: 0, replayFailures: 0, ok: false, notes: `harness error: ${String((error as Error)?.stack ?? error).split("\n")[0]}` })
  }
  console.error(`  ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
console.log(formatTable(rows))
console.log(`\n${options.workflows} workflows per scenario, faults for ${options.chaosMs / 1000} s, deadline ${options.deadlineMs / 1000} s; total ${((Date.now() - t0) / 1000).toFixed(0)} s`)
process.exit(0)
