/**
 * `hotmesh dlq …`: a task queue's dead letters — list them with their
 * reason, show one, retry (re-append for delivery) and purge (confirmed).
 */
import { Option, type Command } from "commander"
import type { Client } from "../sdk/client.ts"
import type { DeadLetterEntry } from "../sdk/deadLetters.ts"
import type { StreamKind } from "../stores/Store.ts"
import { cell, CliError, confirm, EXIT_USAGE, fields, print, table, withClient } from "./context.ts"

interface DlqOptions {
  readonly taskQueue: string
  readonly kind?: StreamKind
  readonly id?: string
  readonly yes?: boolean
}

const kindOption = () => new Option("-k, --kind <kind>", "only the workflow stream or the activity stream").choices(["workflow", "activity"])

/** The dead letters `options` select (one, with `--id`). */
const selected = async (letters: ReadonlyArray<DeadLetterEntry>, options: DlqOptions): Promise<ReadonlyArray<DeadLetterEntry>> => {
  if (options.id === undefined) return letters
  const found = letters.filter((letter) => letter.id === options.id)
  if (found.length === 0) throw new CliError(`no dead letter ${options.id} on task queue ${options.taskQueue}${options.kind === undefined ? "" : ` (${options.kind} stream)`}`)
  if (found.length > 1) throw new CliError(`dead letter id ${options.id} is on both streams of task queue ${options.taskQueue}: add --kind`, EXIT_USAGE)
  return found
}

/** Register `dlq` and its subcommands on `program`. */
export const dlqCommands = (program: Command): void => {
  const dlq = program.command("dlq").description("a task queue's dead letters: list, show, retry, purge")
  const sub = (name: string, description: string) =>
    dlq.command(name).description(description)
      .requiredOption("-t, --task-queue <queue>", "the task queue")
      .addOption(kindOption())
      .option("--id <id>", "one dead letter")
  const lettersOf = (client: Client, options: DlqOptions) =>
    client.deadLetters.list({ taskQueue: options.taskQueue, ...(options.kind === undefined ? {} : { kind: options.kind }) }).then((letters) => selected(letters, options))

  sub("list", "the dead letters with their reason, oldest first")
    .action(async (options: DlqOptions, command: Command) =>
      withClient(command, async (client, globals) => {
        const letters = await lettersOf(client, options)
        print(globals, letters, () =>
          table(["Id", "Kind", "WorkflowId", "Deliveries", "DeadLetteredAt", "Reason"], letters.map((l) => [l.id, l.kind, l.workflowId, l.deliveries, cell(l.deadLetteredAt), l.reason])))
      }))

  sub("show", "one dead letter (or all), with its original message")
    .action(async (options: DlqOptions, command: Command) =>
      withClient(command, async (client, globals) => {
        const letters = await lettersOf(client, options)
        print(globals, letters, () =>
          letters.map((l) => fields([
            ["Id", l.id], ["Kind", l.kind], ["TaskQueue", l.taskQueue], ["WorkflowId", l.workflowId], ["MessageId", l.messageId],
            ["Deliveries", l.deliveries], ["DeadLetteredAt", l.deadLetteredAt], ["Reason", l.reason], ["Body", l.body], ["Raw", l.raw],
          ])).join("\n"))
      }))

  sub("retry", "re-append dead letters to their stream for delivery")
    .option("-y, --yes", "do not ask for confirmation when retrying all")
    .action(async (options: DlqOptions, command: Command) =>
      withClient(command, async (client, globals) => {
        const letters = await lettersOf(client, options)
        if (options.id === undefined && letters.length > 0) await confirm(`retry ${letters.length} dead letter${letters.length === 1 ? "" : "s"} of task queue ${options.taskQueue}?`, options.yes)
        for (const letter of letters) await client.deadLetters.retry(letter)
        print(globals, { taskQueue: options.taskQueue, retried: letters.map((l) => l.id) }, () => `retried ${letters.length} dead letter${letters.length === 1 ? "" : "s"}`)
      }))

  sub("purge", "delete dead letters (asks first)")
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (options: DlqOptions, command: Command) =>
      withClient(command, async (client, globals) => {
        const letters = await lettersOf(client, options)
        if (letters.length > 0) await confirm(`purge ${letters.length} dead letter${letters.length === 1 ? "" : "s"} of task queue ${options.taskQueue}?`, options.yes)
        let purged = 0
        for (const kind of ["workflow", "activity"] as const) {
          const ids = letters.filter((l) => l.kind === kind).map((l) => l.id)
          if (ids.length > 0) purged += await client.deadLetters.purge({ taskQueue: options.taskQueue, kind, ids })
        }
        print(globals, { taskQueue: options.taskQueue, purged }, () => `purged ${purged} dead letter${purged === 1 ? "" : "s"}`)
      }))
}
