/**
 * `hotmesh task-queue describe -t QUEUE`: what waits on a task queue's two
 * streams (depth, pending, the oldest pending message's age, consumers and
 * their idle time, dead letters) and the namespace's timers.
 */
import type { Command } from "commander"
import { fields, print, table, withClient } from "./context.ts"

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
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
