/**
 * docs/protocol.md's redis-cli walkthrough, run command by command against a
 * real redis-server: claim one activity task by hand, heartbeat, complete it,
 * and the workflow returns what the shell reported. Each command's output is
 * compared with the document's, entry ids, epoch times and run ids aside
 * (they differ per run; an id the document shows is mapped to the real one
 * where later commands use it).
 */
import { Client, Connection, Worker } from "hotmesh"
import { Redis } from "ioredis"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, expect, it } from "vitest"
import { eventually } from "../fixtures/e2e-support.ts"
import { startRedis } from "../support/redisServer.ts"
import * as workflows from "./fixtures/byHand.ts"

const here = dirname(fileURLToPath(import.meta.url))
const doc = readFileSync(join(here, "..", "..", "docs", "protocol.md"), "utf8")

/** The walkthrough's commands (without `$ `) and the output the document shows for each. */
const walkthrough = (): Array<{ readonly command: string; readonly expected: Array<string> }> => {
  const block = /<!-- walkthrough:begin -->\n```console\n([\s\S]*?)```\n<!-- walkthrough:end -->/.exec(doc)?.[1]
  if (block === undefined) throw new Error("docs/protocol.md has no walkthrough block")
  const steps: Array<{ command: string; expected: Array<string> }> = []
  for (const line of block.split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] })
    else if (line !== "") steps.at(-1)?.expected.push(line)
  }
  return steps
}

/** Shell words: whitespace-separated, single quotes taken literally (all the walkthrough uses). */
const words = (command: string): Array<string> => {
  const out: Array<string> = []
  const re = /'([^']*)'|(\S+)/g
  for (let m = re.exec(command); m !== null; m = re.exec(command)) out.push(m[1] ?? m[2]!)
  return out
}

const ENTRY_ID = /\b\d{13}-\d+\b/g
const normalise = (line: string) =>
  line.replace(ENTRY_ID, "<entry id>").replace(/\b\d{13}\b/g, "<epoch ms>").replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<run id>")

// A private server: the walkthrough uses the default namespace and fixed names.
const redis = await startRedis({ extraArgs: ["--save", ""] })
afterAll(() => redis.stop())

it("the redis-cli walkthrough of docs/protocol.md claims, heartbeats and completes a task by hand", async () => {
  const connection = await Connection.connect({ redis: redis.url })
  const worker = await Worker.create({ connection, taskQueue: "by-hand-workflows", workflows })
  const running = worker.run()
  const probe = new Redis(redis.url)
  try {
    const client = new Client({ connection })
    const handle = await client.workflow.start(workflows.greetByHand, { taskQueue: "by-hand-workflows", workflowId: "by-hand-1", args: ["Ada"] })
    await eventually(async () => ((await probe.xlen("{default:s21}:s:activity:by-hand")) > 0 ? true : undefined), "the activity task")

    const ids = new Map<string, string>()
    const steps = walkthrough()
    expect(steps.map((s) => words(s.command)[0])).toEqual(Array(steps.length).fill("redis-cli"))
    for (const { command, expected } of steps) {
      const args = words(command).slice(1).map((arg) => ids.get(arg) ?? arg)
      const result = spawnSync("redis-cli", ["-p", String(redis.port), "--no-raw", ...args], { encoding: "utf8" })
      expect(result.status, `${command}: ${result.stderr}`).toBe(0)
      const actual = result.stdout.replace(/\n$/, "").split("\n")
      expect(actual.map(normalise), command).toEqual(expected.map(normalise))
      expected.forEach((line, i) => {
        const shown = line.match(ENTRY_ID) ?? []
        const real = actual[i]?.match(ENTRY_ID) ?? []
        shown.forEach((id, j) => ids.set(id, real[j]!))
      })
    }
    expect(await handle.result()).toBe("Hello, Ada")
  } finally {
    probe.disconnect()
    await worker.shutdown()
    await running
    await connection.close()
  }
})
