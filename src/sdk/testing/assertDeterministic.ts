/**
 * `assertDeterministic(workflows, histories)`: replay saved histories — every
 * prefix cut at a workflow task, as a worker resuming the execution at that
 * point would — against the current code, with the non-determinism detector
 * on. Rejects with one `Error` listing every history that does not replay.
 */
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { InvalidArgumentError } from "../../core/errors.ts"
import type { WorkflowHistory } from "../worker.ts"
import { detectNonDeterminism, type NonDeterministicCall } from "../workflow/internal/determinism.ts"
import type { WorkflowFunction } from "../workflow/internal/run.ts"
import { replayPrefixes, taskPrefixes } from "./internal/checks.ts"

/** What a passing `assertDeterministic` replayed. */
export interface DeterminismSummary {
  readonly histories: number
  /** Prefixes replayed (one per workflow task of each history). */
  readonly prefixes: number
}

const isHistory = (value: unknown): value is WorkflowHistory =>
  typeof value === "object" && value !== null && Array.isArray((value as { events?: unknown }).events) && typeof (value as { workflowType?: unknown }).workflowType === "string"

/** Every `*.json` file under `folder` (recursively): a history, or an array of them. */
const loadFolder = async (folder: string): Promise<Array<{ readonly source: string; readonly history: WorkflowHistory }>> => {
  const out: Array<{ readonly source: string; readonly history: WorkflowHistory }> = []
  const entries = await readdir(folder, { withFileTypes: true })
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) out.push(...(await loadFolder(path)))
    else if (entry.name.endsWith(".json")) {
      const parsed = JSON.parse(await readFile(path, "utf8")) as unknown
      const histories = Array.isArray(parsed) ? parsed : [parsed]
      histories.forEach((history, i) => {
        if (!isHistory(history)) throw new InvalidArgumentError({ message: `assertDeterministic: ${path}${histories.length > 1 ? ` [${i}]` : ""} is not a workflow history (handle.fetchHistory())` })
        out.push({ source: histories.length > 1 ? `${path} [${i}]` : path, history })
      })
    }
  }
  return out
}

/**
 * Replay `histories` (an array, or a folder of `*.json` files saved from
 * `handle.fetchHistory()`) against `workflows` (a workflow function, an array
 * of them, or an object of them by type name — a module namespace works).
 */
export async function assertDeterministic(
  workflows: ((...args: Array<any>) => Promise<unknown>) | ReadonlyArray<(...args: Array<any>) => Promise<unknown>> | Readonly<Record<string, unknown>>,
  histories: ReadonlyArray<WorkflowHistory> | string,
): Promise<DeterminismSummary> {
  const registry: Record<string, WorkflowFunction> = {}
  const add = (name: string, fn: unknown) => {
    if (typeof fn === "function") registry[name] = fn as WorkflowFunction
  }
  if (typeof workflows === "function") add(workflows.name, workflows)
  else if (Array.isArray(workflows)) for (const fn of workflows as ReadonlyArray<{ name: string }>) add(fn.name, fn)
  else for (const [name, fn] of Object.entries(workflows)) add(name, fn)
  if (Object.keys(registry).length === 0) throw new InvalidArgumentError({ message: "assertDeterministic: no workflow functions given" })
  const loaded = typeof histories === "string" ? await loadFolder(histories) : histories.map((history, i) => ({ source: `histories[${i}] (${history.workflowId})`, history }))
  if (loaded.length === 0) throw new InvalidArgumentError({ message: `assertDeterministic: no histories in ${typeof histories === "string" ? histories : "the array"}` })
  const failures: Array<string> = []
  let prefixes = 0
  let detected: Array<NonDeterministicCall> = []
  const stop = detectNonDeterminism((call) => detected.push(call))
  try {
    for (const { source, history } of loaded) {
      if (registry[history.workflowType] === undefined) {
        failures.push(`${source}: workflow type "${history.workflowType}" is not among the workflows given (${Object.keys(registry).join(", ")})`)
        continue
      }
      detected = []
      prefixes += taskPrefixes(history.events).length
      const failed = await replayPrefixes(registry, history)
      const call = detected[0]
      if (call !== undefined) failures.push(`${source}: workflow code called ${call.call}: ${call.advice}`)
      else if (failed !== undefined) failures.push(`${source}: replaying its first ${failed.tasks} workflow tasks fails: ${failed.error.name}: ${failed.error.message}`)
    }
  } finally {
    stop()
  }
  if (failures.length > 0) {
    throw new Error(`assertDeterministic: ${failures.length} of ${loaded.length} histories do not replay against the current code:\n${failures.map((f) => `  - ${f}`).join("\n")}\n` +
      "Guard changes to the calls a workflow makes with patched(), so executions recorded before the change keep the old path.")
  }
  return { histories: loaded.length, prefixes }
}
