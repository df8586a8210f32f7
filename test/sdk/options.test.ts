/**
 * No option is silently ignored: every public call that takes options
 * rejects a key it does not honour with `InvalidArgumentError` naming it —
 * Temporal's options it does not implement with a reason, anything else as
 * unknown — and accepts every option it documents.
 */
import { fileURLToPath } from "node:url"
import { bundleWorkflowCode, Client, Connection, InvalidArgumentError, NativeConnection, Worker } from "hotmesh"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { executeChild, proxyActivities } from "hotmesh/workflow"
import { describe, expect, it } from "vitest"
import { eventually, rejectionOf, unique } from "../fixtures/e2e-support.ts"

/** Calls `f` with options the types do not allow (as JavaScript or ported code would). */
const loose = <T>(options: Record<string, unknown>): T => options as T

const invalid = (error: unknown, ...fragments: Array<string>) => {
  expect(error).toBeInstanceOf(InvalidArgumentError)
  for (const fragment of fragments) expect((error as Error).message).toContain(fragment)
}

const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  throw new Error("expected a throw")
}

async function child(): Promise<string> {
  return "child"
}
async function otherNamespaceParent(): Promise<string> {
  return executeChild(child, loose({ workflowId: "other-child", namespace: "elsewhere" }))
}

describe("options HotMesh does not honour are rejected, naming them", () => {
  it("Connection.connect", async () => {
    invalid(await rejectionOf(Connection.connect(loose({ address: "localhost:7233" }))), '"address" does not apply', "HotMesh has no server")
    invalid(await rejectionOf(Connection.connect(loose({ namespace: "n", partitons: 4 }))), 'unknown option "partitons"', "known: namespace")
    const ok = await Connection.connect({ namespace: unique("options"), logLevel: "Error", retention: "1 day" })
    await ok.close()
  })

  it("new Client, client.workflow.start and Worker.create", async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      invalid(thrown(() => new Client({ connection: env.connection, namespace: "default" })), 'namespace "default" is not the connection\'s', "Connection.connect({ namespace })")
      invalid(thrown(() => new Client(loose({ connection: env.connection, dataConverter: {} }))), '"dataConverter"', "payloads are JSON")
      const start = (extra: Record<string, unknown>) =>
        env.client.workflow.start(child, loose({ taskQueue: "q", workflowId: unique("wf"), ...extra }))
      invalid(await rejectionOf(start({ requestEagerStart: true })), '"requestEagerStart" is a Temporal option HotMesh does not support yet')
      invalid(await rejectionOf(start({ workflowTaskTimeout: "1 day", priority: { priorityKey: 1 } })), '"workflowTaskTimeout"', '"priority"')
      invalid(await rejectionOf(start({ searchAttributes: { CustomerId: ["ada"] } })), '"searchAttributes"', "use typedSearchAttributes")
      invalid(await rejectionOf(start({ workfowId: "typo" })), 'unknown option "workfowId"')
      invalid(
        await rejectionOf(Worker.create(loose({ connection: env.connection, taskQueue: "q", workflowBundle: { code: "bundled by webpack" } }))),
        "workflowBundle must come from HotMesh's bundleWorkflowCode",
        "workflowsPath",
      )
      invalid(await rejectionOf(Worker.create({ connection: env.connection, taskQueue: "q", namespace: "other" })), 'namespace "other" is not the connection\'s')
      invalid(await rejectionOf(Worker.runReplayHistory(loose({ workflowBundle: {} }), { workflowId: "w", runId: "r", workflowType: "child", events: [] })), "workflowBundle must come from")
      invalid(await rejectionOf(Worker.create(loose({ connection: env.connection, taskQueue: "q", sinks: {} }))), '"sinks" is a Temporal option HotMesh does not support yet')
      // Everything documented is accepted.
      const worker = await Worker.create({ connection: env.connection, taskQueue: "q", workflows: { child }, maxCachedWorkflows: 10, identity: "me" })
      expect(await worker.runUntil(env.client.workflow.execute(child, { taskQueue: "q", workflowId: unique("wf"), args: [] }))).toBe("child")
    } finally {
      await env.teardown()
    }
  })

  it("proxyActivities, its retry policy, and children (a workflow task failure naming the option)", async () => {
    invalid(thrown(() => proxyActivities(loose({ startToCloseTimeout: "1s", scheduleToStartTimeout: "1s" }))), '"scheduleToStartTimeout"', "scheduleToCloseTimeout")
    invalid(thrown(() => proxyActivities(loose({ startToCloseTimeout: "1s", retry: { maximumAttempt: 3 } }))), "retry", 'unknown option "maximumAttempt"')
    expect(() => proxyActivities({ startToCloseTimeout: "1s", retry: { maximumAttempts: 3, nonRetryableErrorTypes: ["X"] } })).not.toThrow()

    const env = await TestWorkflowEnvironment.createTimeSkipping()
    try {
      const worker = await Worker.create({ connection: env.connection, taskQueue: "q", workflows: { child, otherNamespaceParent } })
      await worker.runUntil(async () => {
        const handle = await env.client.workflow.start(otherNamespaceParent, { taskQueue: "q", workflowId: unique("parent") })
        const failure = await eventually(async () => (await handle.describe()).taskFailure, "the task failure")
        expect(failure.type).toBe("InvalidArgumentError")
        expect(failure.message).toContain('executeChild(workflow, options): "namespace"')
      })
    } finally {
      await env.teardown()
    }
  })

  it("the test environments", async () => {
    invalid(await rejectionOf(TestWorkflowEnvironment.createTimeSkipping(loose({ client: {} }))), '"client" does not apply')
    invalid(await rejectionOf(TestWorkflowEnvironment.createLocal(loose({ clock: "virtual" }))), 'unknown option "clock"')
  })
})

describe("Temporal's connection and bundle names", () => {
  it("NativeConnection.connect, new Client() and a Worker without a connection meet on the embedded store; bundleWorkflowCode feeds Worker.create", async () => {
    const native = await NativeConnection.connect({ namespace: "default" })
    expect(native).toBeInstanceOf(Connection)
    await native.close()
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL("../fixtures/workflows.ts", import.meta.url)) })
    const activities = { greet: async (name: string) => `Hello, ${name}!` }
    const worker = await Worker.create({ taskQueue: unique("bundle"), workflowBundle, namespace: "default", activities })
    const client = new Client()
    expect(client.connection.namespace).toBe("default")
    const result = await worker.runUntil(client.workflow.execute("hello", { taskQueue: worker.options.taskQueue, workflowId: unique("hello"), args: ["ada"] }))
    expect(result).toBe("Hello, ada!")
    invalid(await rejectionOf(bundleWorkflowCode(loose({ workflowsPath: "x.ts", webpackConfigHook: () => undefined }))), '"webpackConfigHook" does not apply')
  })
})
