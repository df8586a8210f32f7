/**
 * `hotmesh workflow …`: Temporal's CLI verbs over the public client —
 * list, count, describe, show (the `formatHistory` timeline, `--follow`ed
 * until the run closes), result, start, execute, signal, query, update, cancel,
 * terminate; signal, cancel and terminate also over a list filter (`-q`),
 * confirmed, with a progress bar and a summary.
 */
import { setTimeout as sleep } from "node:timers/promises"
import { Option, type Command } from "commander"
import type { WorkflowHandle } from "../sdk/client.ts"
import { formatHistory } from "../sdk/history.ts"
import { attributeRecord } from "../sdk/searchAttributes.ts"
import { executionRow, type WorkflowExecutionInfo } from "../sdk/visibility.ts"
import { runBatch } from "./batch.ts"
import { cell, CliError, collect, EXIT_USAGE, fields, print, parseJson, table, withClient } from "./context.ts"

/** An execution as `workflow list --output json` prints it. */
const listed = (info: WorkflowExecutionInfo) => ({
  ...executionRow(info),
  memo: info.memo,
  searchAttributes: attributeRecord(info.typedSearchAttributes),
})

const inputsOf = (inputs: ReadonlyArray<string> | undefined): Array<unknown> => (inputs ?? []).map((text, i) => parseJson(text, `input ${i + 1} (-i)`))

/** Polling interval of `show --follow` between reads of the history (the run's close ends it at once). */
const FOLLOW_INTERVAL_MS = 500

/** Print `handle`'s history; with `follow`, keep printing new events until the run closes. */
const show = async (handle: WorkflowHandle, json: boolean, follow: boolean): Promise<void> => {
  const history = await handle.fetchHistory()
  if (!follow) {
    process.stdout.write(json ? `${JSON.stringify(history, null, 2)}\n` : `${formatHistory(history)}\n`)
    return
  }
  // Follow: one line per event (NDJSON with --output json), times relative to the run's first event.
  const origin = history.events[0]?.at
  let printed = 0
  let closed = false
  let last = false
  const done = handle.result().then(() => {}, () => {}).finally(() => (closed = true))
  for (let current = history; ; current = await handle.fetchHistory()) {
    if (current.runId !== history.runId) {
      process.stderr.write(`run ${history.runId} closed; the workflow now runs as ${current.runId}\n`)
      return
    }
    const fresh = current.events.slice(printed)
    printed = current.events.length
    for (const event of fresh) {
      process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatHistory({ events: [event] }, origin)}\n`)
    }
    if (last || fresh.some((event) => event.type.startsWith("Workflow") && event.type !== "WorkflowStarted")) return
    await Promise.race([sleep(FOLLOW_INTERVAL_MS), done])
    last = closed // the run closed: one more read picks up its closing events
  }
}

/** `-w ID` or `-q QUERY`, exactly one. */
const target = (options: { readonly workflowId?: string; readonly query?: string }): { readonly workflowId: string } | { readonly query: string } => {
  if ((options.workflowId === undefined) === (options.query === undefined)) throw new CliError("give either -w/--workflow-id or -q/--query", EXIT_USAGE)
  return options.workflowId === undefined ? { query: options.query! } : { workflowId: options.workflowId }
}

/**
 * Apply `operation` to one workflow (`-w`) or, confirmed, to every
 * execution a query selects (`-q`).
 */
const singleOrBatch = (command: Command, [verb, done]: readonly [string, string], options: { readonly workflowId?: string; readonly query?: string; readonly yes?: boolean }, operation: (handle: WorkflowHandle) => Promise<void>) =>
  withClient(command, async (client, globals) => {
    const which = target(options)
    if ("workflowId" in which) {
      await operation(client.workflow.getHandle(which.workflowId))
      print(globals, { workflowId: which.workflowId, [done]: true }, () => `${done}: ${which.workflowId}`)
      return
    }
    await runBatch(client, globals, [verb, done], which.query, options.yes, (workflowId) => operation(client.workflow.getHandle(workflowId)))
  })

const workflowIdOption = () => new Option("-w, --workflow-id <id>", "the workflow id")
const queryOption = () => new Option("-q, --query <filter>", "a list filter selecting executions (batch form)")
const yesOption = () => new Option("-y, --yes", "do not ask for confirmation (batch form)")

/** Register `workflow` and its subcommands on `program`. */
export const workflowCommands = (program: Command): void => {
  const workflow = program.command("workflow").description("list, inspect and steer workflow executions")

  workflow.command("list").description("list executions (newest first unless the query says ORDER BY)")
    .option("-q, --query <filter>", "a list filter, e.g. \"WorkflowType = 'order' AND ExecutionStatus = 'Running'\"")
    .option("--limit <n>", "at most this many executions", positiveInt, 100)
    .action(async (options: { query?: string; limit: number }, command: Command) =>
      withClient(command, async (client, globals) => {
        const rows: Array<ReturnType<typeof listed>> = []
        for await (const info of client.workflow.list({ ...(options.query === undefined ? {} : { query: options.query }), pageSize: Math.min(options.limit, 1000) })) {
          rows.push(listed(info))
          if (rows.length >= options.limit) break
        }
        print(globals, rows, () =>
          table(["WorkflowId", "Type", "Status", "TaskQueue", "StartTime", "CloseTime"], rows.map((r) => [r.workflowId, r.type, r.status, r.taskQueue, cell(r.startTime), cell(r.closeTime)])))
      }))

  workflow.command("count").description("count executions; GROUP BY ExecutionStatus counts each status")
    .option("-q, --query <filter>", "a list filter, optionally ending in GROUP BY ExecutionStatus")
    .action(async (options: { query?: string }, command: Command) =>
      withClient(command, async (client, globals) => {
        const counted = await client.workflow.count(options.query)
        const groups = counted.groups.map((group) => ({ status: group.groupValues[0] ?? "", count: group.count }))
        print(globals, { count: counted.count, groups }, () =>
          groups.length === 0 ? `Total: ${counted.count}` : `${table(["ExecutionStatus", "Count"], groups.map((g) => [g.status, g.count]))}\nTotal: ${counted.count}`)
      }))

  workflow.command("describe").description("an execution's status, pending activities and task failure")
    .addOption(workflowIdOption().makeOptionMandatory())
    .option("-r, --run-id <run>", "fail unless this is the execution's latest run (the only one HotMesh keeps)")
    .action(async (options: { workflowId: string; runId?: string }, command: Command) =>
      withClient(command, async (client, globals) => {
        const d = await client.workflow.getHandle(options.workflowId, options.runId).describe()
        print(globals, d, () => {
          const summary = fields([
            ["WorkflowId", d.workflowId], ["RunId", d.runId], ["Type", d.type], ["TaskQueue", d.taskQueue], ["Status", d.status],
            ["StartTime", d.startTime], ["CloseTime", d.closeTime], ["HistoryLength", d.historyLength],
            ["Parent", d.parent === undefined ? undefined : `${d.parent.workflowId} (run ${d.parent.runId})`],
            ["TaskFailure", d.taskFailure === undefined ? undefined : `${d.taskFailure.type}: ${d.taskFailure.message} (attempt ${d.taskFailure.attempt})`],
          ])
          if (d.pendingActivities.length === 0) return summary
          return `${summary}\nPending activities:\n${table(["ActivityId", "Type", "State", "Attempt", "LastFailure"], d.pendingActivities.map((a) =>
            [a.activityId, a.activityType, a.state, a.attempt, a.lastFailure === undefined ? "" : `${a.lastFailure.type ?? "Error"}: ${a.lastFailure.message}`]))}`
        })
      }))

  workflow.command("show").description("the execution's history as a timeline")
    .addOption(workflowIdOption().makeOptionMandatory())
    .option("-f, --follow", "keep printing new events until the run closes")
    .action(async (options: { workflowId: string; follow?: boolean }, command: Command) =>
      withClient(command, (client, globals) => show(client.workflow.getHandle(options.workflowId), globals.output === "json", options.follow === true)))

  workflow.command("result").description("wait for the execution's result (exit 1 if it did not complete)")
    .addOption(workflowIdOption().makeOptionMandatory())
    .action(async (options: { workflowId: string }, command: Command) =>
      withClient(command, async (client, globals) => {
        const result = await client.workflow.getHandle(options.workflowId).result()
        print(globals, { workflowId: options.workflowId, result }, () => cell(result))
      }))

  const starting = (name: string, description: string, wait: boolean) =>
    workflow.command(name).description(description)
      .requiredOption("-t, --task-queue <queue>", "the task queue its workers poll")
      .requiredOption("--type <type>", "the workflow type")
      .addOption(workflowIdOption().makeOptionMandatory())
      .option("-i, --input <json>", "an argument as JSON (repeat for more)", collect)
      .action(async (options: { taskQueue: string; type: string; workflowId: string; input?: Array<string> }, command: Command) =>
        withClient(command, async (client, globals) => {
          const handle = await client.workflow.start(options.type, { taskQueue: options.taskQueue, workflowId: options.workflowId, args: inputsOf(options.input) })
          const started = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId }
          if (!wait) return print(globals, started, () => `started ${started.workflowId} (run ${started.runId})`)
          const result = await handle.result()
          print(globals, { ...started, result }, () => cell(result))
        }))
  starting("start", "start an execution", false)
  starting("execute", "start an execution and wait for its result", true)

  workflow.command("signal").description("signal an execution, or every execution a query selects")
    .addOption(workflowIdOption()).addOption(queryOption()).addOption(yesOption())
    .requiredOption("--name <name>", "the signal name")
    .option("-i, --input <json>", "an argument as JSON (repeat for more)", collect)
    .action(async (options: { workflowId?: string; query?: string; yes?: boolean; name: string; input?: Array<string> }, command: Command) => {
      const args = inputsOf(options.input)
      await singleOrBatch(command, ["signal", "signaled"], options, (handle) => handle.signal(options.name, ...args))
    })

  workflow.command("query").description("query a running execution")
    .addOption(workflowIdOption().makeOptionMandatory())
    .requiredOption("--name <name>", "the query name")
    .option("-i, --input <json>", "an argument as JSON (repeat for more)", collect)
    .action(async (options: { workflowId: string; name: string; input?: Array<string> }, command: Command) =>
      withClient(command, async (client, globals) => {
        const result = await client.workflow.getHandle(options.workflowId).query(options.name, ...inputsOf(options.input))
        print(globals, { workflowId: options.workflowId, result }, () => cell(result))
      }))

  workflow.command("update").description("run an update on a running execution and print its result")
    .addOption(workflowIdOption().makeOptionMandatory())
    .requiredOption("--name <name>", "the update name")
    .option("-i, --input <json>", "an argument as JSON (repeat for more)", collect)
    .option("--update-id <id>", "dedupes: an update with this id already run gives its outcome")
    .action(async (options: { workflowId: string; name: string; input?: Array<string>; updateId?: string }, command: Command) =>
      withClient(command, async (client, globals) => {
        const args = inputsOf(options.input) as [unknown, ...Array<unknown>]
        const result = await client.workflow.getHandle(options.workflowId).executeUpdate(options.name, {
          args,
          ...(options.updateId === undefined ? {} : { updateId: options.updateId }),
        })
        print(globals, { workflowId: options.workflowId, result }, () => cell(result))
      }))

  workflow.command("cancel").description("request cancellation of an execution, or of every execution a query selects")
    .addOption(workflowIdOption()).addOption(queryOption()).addOption(yesOption())
    .action(async (options: { workflowId?: string; query?: string; yes?: boolean }, command: Command) =>
      singleOrBatch(command, ["cancel", "cancelled"], options, (handle) => handle.cancel()))

  workflow.command("terminate").description("terminate an execution, or every execution a query selects")
    .addOption(workflowIdOption()).addOption(queryOption()).addOption(yesOption())
    .option("--reason <reason>", "recorded in the history", "terminated by hotmesh CLI")
    .action(async (options: { workflowId?: string; query?: string; yes?: boolean; reason: string }, command: Command) =>
      singleOrBatch(command, ["terminate", "terminated"], options, (handle) => handle.terminate(options.reason)))
}

/** Commander's parser for a positive integer option. */
export const positiveInt = (text: string): number => {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(`not a positive integer: ${text}`, EXIT_USAGE)
  return n
}
