/**
 * `hotmesh dashboard`: serve the web dashboard for the store the global
 * options name, until interrupted (SIGINT/SIGTERM close it and the
 * connection).
 */
import { Option, type Command } from "commander"
import { Connection } from "../sdk/connection.ts"
import { startDashboard } from "../dashboard/server.ts"
import { CliError, EXIT_USAGE, globalsOf } from "./context.ts"

interface DashboardCliOptions {
  readonly port: string
  readonly host: string
  readonly readOnly?: boolean
  readonly token?: string
}

/** Register `dashboard` on `program`. */
export const dashboardCommand = (program: Command): void => {
  program.command("dashboard").description("serve the web dashboard: executions, one execution's timeline and history, task queues")
    .option("-p, --port <port>", "the port (0: any free port)", "8233")
    .option("--host <host>", "the address to bind; anything but loopback requires --token", "127.0.0.1")
    .option("--read-only", "hide every action (signal, query, update, cancel, terminate, dead-letter retry and purge)")
    .addOption(new Option("--token <token>", "required on every request (Bearer, basic-auth password, or open /?token=… once)").env("HOTMESH_DASHBOARD_TOKEN"))
    .action(async (options: DashboardCliOptions, command: Command) => {
      const globals = globalsOf(command)
      const redis = globals.redis ?? ""
      if (redis === "") throw new CliError("no Redis store given: pass --redis URL or set HOTMESH_REDIS_URL", EXIT_USAGE)
      const port = Number(options.port)
      if (!/^\d+$/.test(options.port) || port > 65_535) throw new CliError(`--port must be a port number; got ${options.port}`, EXIT_USAGE)
      const connection = await Connection.connect({ redis, namespace: globals.namespace, connectTimeoutMs: 3_000, logLevel: "None" })
      let dashboard
      try {
        dashboard = await startDashboard({
          connection, port, host: options.host, readOnly: options.readOnly === true,
          ...(options.token === undefined ? {} : { token: options.token }),
        })
      } catch (error) {
        await connection.close()
        throw error
      }
      process.stdout.write(`hotmesh dashboard for namespace ${globals.namespace} on ${dashboard.url}${options.readOnly === true ? " (read-only)" : ""}\n`)
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve)
        process.once("SIGTERM", resolve)
      })
      await dashboard.close()
      await connection.close()
    })
}
