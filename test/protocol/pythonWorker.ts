/**
 * Spawning the Python reference worker (workers/python) for the protocol
 * tests: `python3 -m hotmesh_worker` with the fixture activities, resolved
 * once it prints that it serves.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { requirePython } from "../support/python.ts"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..")

/** A running `python3 -m hotmesh_worker`. */
export interface PythonWorker {
  readonly process: ChildProcess
  /** What it wrote on stderr so far (its log). */
  readonly log: () => string
  /** SIGKILL, and wait until it has exited. */
  readonly kill: () => Promise<void>
  /** SIGTERM (gives running tasks back), and wait until it has exited; resolves with the exit code. */
  readonly stop: () => Promise<number | null>
}

/** Options of `startPythonWorker`. */
export interface PythonWorkerOptions {
  readonly redisUrl: string
  readonly namespace: string
  readonly taskQueue: string
  readonly visibilityTimeoutMs?: number
  /** Module with the activities. Default `py_activities` (test/protocol/fixtures). */
  readonly module?: string
  /** Where else to look for it (PYTHONPATH entries). */
  readonly paths?: ReadonlyArray<string>
  readonly consumer?: string
  readonly concurrency?: number
  /** More environment for the activities (the fixtures read `TEST_*` settings). */
  readonly env?: Readonly<Record<string, string>>
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once("exit", (code) => resolve(code)))

/** Start a worker; resolves once it is ready, rejects (with its log) if it exits first. */
export const startPythonWorker = (options: PythonWorkerOptions): Promise<PythonWorker> => {
  const python = requirePython()
  const args = [
    "-m", "hotmesh_worker", options.module ?? "py_activities",
    "--redis", options.redisUrl, "--namespace", options.namespace, "--task-queue", options.taskQueue,
    "--visibility-timeout-ms", String(options.visibilityTimeoutMs ?? 30_000),
    ...(options.consumer === undefined ? [] : ["--consumer", options.consumer]),
    ...(options.concurrency === undefined ? [] : ["--concurrency", String(options.concurrency)]),
  ]
  const child = spawn(python, args, {
    env: {
      ...process.env,
      PYTHONPATH: [join(root, "workers", "python"), join(here, "fixtures"), ...(options.paths ?? [])].join(":"),
      PYTHONUNBUFFERED: "1",
      TEST_REDIS_URL: options.redisUrl,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stderr = ""
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const worker: PythonWorker = {
    process: child,
    log: () => stderr,
    kill: async () => {
      child.kill("SIGKILL")
      await exited(child)
    },
    stop: async () => {
      child.kill("SIGTERM")
      return exited(child)
    },
  }
  return new Promise((resolve, reject) => {
    let stdout = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.includes("hotmesh_worker ready")) resolve(worker)
    })
    child.once("error", reject)
    child.once("exit", (code, signal) => reject(new Error(`python worker exited (${code ?? signal}) before it was ready:\n${stderr}`)))
  })
}
