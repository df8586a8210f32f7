/**
 * `hotmesh task-queue describe -t QUEUE`: what waits on a task queue's two
 * streams (depth, pending, the oldest pending message's age, consumers and
 * their idle time, dead letters) and the namespace's timers.
 * `hotmesh task-queue limit QUEUE [--rate N] [--burst N] [--concurrency N] [--clear]`,
 * `pause QUEUE`, `resume QUEUE`: its back-pressure (README "Back-pressure").
 */
import type { Command } from "commander"
import type { QueueLimits, QueueLimitsChange } from "../sdk/taskQueues.ts"
import { CliError, EXIT_USAGE, fields, print, table, withClient } from "./context.ts"

/** Register `task-queue` and its subcommands on `program`. */
export const taskQueueCommands = (program: Command): void => {
  const taskQueue = program.command("task-queue").description("inspect task queues")
  taskQueue.command("describe").description("stream depth, pending work, consumers, timers and dead letters of a task queue")
    .requiredOption("-t, --task-queue <queue>", "the task queue")
    .action(async (options: { taskQueue: string }, command: Command) =>
      withClient(command, async (client, globals) => {
        const d = await client.taskQueue(options.taskQueue).describe()
        print(globals, d, () => {
          const streams = table(["Stream", "Depth", "Pending", "OldestPending", "DeadLetters", "Consumers"], d.streams.map((s) =>
            [s.kind, s.length, s.pending, s.oldestPendingMs === undefined ? "-" : seconds(s.oldestPendingMs), s.deadLetters, s.consumers.length]))
          const consumers = d.streams.flatMap((s) => s.consumers.map((c) => [s.kind, c.name, c.pending, seconds(c.idleMs)] as const))
          const timers = fields([["Timers due", d.timers.due], ["Next timer", d.timers.nextAt ?? "none"]])
          return [streams, consumers.length === 0 ? "No consumers." : table(["Stream", "Consumer", "Pending", "Idle"], consumers), timers].join("\n")
        })
      }))

  taskQueue.command("limit").description("show or change a task queue's limits on activity tasks, across every worker (no options: show them)")
    .argument("<queue>", "the task queue")
    .option("--rate <n>", "activity tasks started per second", number("--rate"))
    .option("--burst <n>", "tokens the rate's bucket holds at most (default: a tenth of a second's worth, at least 1)", number("--burst"))
    .option("--concurrency <n>", "activity tasks running at once", number("--concurrency"))
    .option("--clear", "clear the rate and concurrency limits (a pause stays); with --rate or --concurrency, clear the other one")
    .action(async (queue: string, options: { rate?: number; burst?: number; concurrency?: number; clear?: boolean }, command: Command) =>
      withClient(command, async (client, globals) => {
        const change: QueueLimitsChange = {
          ...(options.clear === true ? { rate: null, burst: null, concurrency: null } : {}),
          ...(options.rate === undefined ? {} : { rate: options.rate }),
          ...(options.burst === undefined ? {} : { burst: options.burst }),
          ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        }
        const handle = client.taskQueue(queue)
        const limits = Object.keys(change).length === 0 ? await handle.getLimits() : await handle.setLimits(change)
        printLimits(globals, queue, limits)
      }))

  for (const [name, description] of [["pause", "pause a task queue: no activity task starts on any worker until resume"], ["resume", "resume a paused task queue"]] as const) {
    taskQueue.command(name).description(description)
      .argument("<queue>", "the task queue")
      .action(async (queue: string, _options: unknown, command: Command) =>
        withClient(command, async (client, globals) => {
          const handle = client.taskQueue(queue)
          printLimits(globals, queue, name === "pause" ? await handle.pause() : await handle.resume())
        }))
  }
}

const number = (flag: string) => (text: string): number => {
  const value = Number(text)
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) throw new CliError(`${flag} must be a number > 0, got ${JSON.stringify(text)}`, EXIT_USAGE)
  return value
}

const printLimits = (globals: Parameters<typeof print>[0], queue: string, limits: QueueLimits): void =>
  print(globals, { taskQueue: queue, ...limits, paused: limits.paused === true }, () =>
    fields([
      ["Task queue", queue],
      ["Rate", limits.rate === undefined ? "unlimited" : `${limits.rate}/s (burst ${limits.burst ?? "default"})`],
      ["Concurrency", limits.concurrency ?? "unlimited"],
      ["Paused", limits.paused === true ? "yes" : "no"],
    ]))

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
