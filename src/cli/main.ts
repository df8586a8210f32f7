#!/usr/bin/env node
/**
 * `hotmesh`: the operator CLI. Names follow Temporal's CLI (`workflow list`,
 * `workflow describe -w ID`, ...); every command works on the Redis store
 * `--redis` (or `HOTMESH_REDIS_URL`) names, in `--namespace`.
 */
import { Command, CommanderError, Option } from "commander"
import { EXIT_USAGE, reportOf } from "./context.ts"
import { dashboardCommand } from "./dashboard.ts"
import { dlqCommands } from "./dlq.ts"
import { taskQueueCommands } from "./taskQueue.ts"
import { workflowCommands } from "./workflow.ts"

const program = new Command("hotmesh")
  .description("Operate HotMesh: list, inspect and steer workflow executions, task queues and dead letters on a Redis store.")
  .addOption(new Option("--redis <url>", "the Redis store (redis://[user:password@]host:port[/db])").env("HOTMESH_REDIS_URL"))
  .addOption(new Option("-n, --namespace <name>", "the namespace").env("HOTMESH_NAMESPACE").default("default"))
  .addOption(new Option("-o, --output <format>", "table for people, json for scripts").choices(["table", "json"]).default("table"))
  .showHelpAfterError("(add --help for usage)")
  // Subcommands inherit this: commander's usage errors throw, and exit below like every other error.
  .exitOverride()

workflowCommands(program)
taskQueueCommands(program)
dlqCommands(program)
dashboardCommand(program)

try {
  await program.parseAsync()
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version print and exit 0; usage errors were printed by commander.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE
  } else {
    const { text, code } = reportOf(error)
    process.stderr.write(`hotmesh: ${text}\n`)
    process.exitCode = code
  }
}
