/**
 * The worker end to end: loading workflows by path, run/runUntil/shutdown and
 * getState(), a workflow type no worker knows (it waits), a worker shut down
 * while an activity is in flight (nothing lost, nothing doubled), activity
 * task queues, the embedded default store, and the `Durable` namespace.
 */
import { fileURLToPath } from "node:url"
import { Client, Connection, Durable, InvalidArgumentError, Worker } from "hotmesh"
import { Context } from "hotmesh/activity"
import { TestWorkflowEnvironment } from "hotmesh/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as durableWorkflows from "../fixtures/durable-workflows.ts"
import { deferred, entriesOf, eventually, historyOf, rejectionOf, unique, within } from "../fixtures/e2e-support.ts"
import type { WorkerActivities } from "../fixtures/worker-workflows.ts"

const workflowsPath = fileURLToPath(new URL("../fixtures/worker-workflows.ts", import.meta.url))

let env: TestWorkflowEnvironment
beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping()
})
afterAll(async () => {
  await env.teardown()
})

const greetOnly: Pick<WorkerActivities, "greet"> = {
  async greet(name) {
    return `Hello, ${name}!`
  },
}

describe("loading workflows", () => {
  it("runs the exported functions of a workflowsPath module, by type name", async () => {
    const taskQueue = unique("by-path")
    const worker = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
    const result = await worker.runUntil(env.client.workflow.execute("hello", { taskQueue, workflowId: unique("hello"), args: ["Ada"] }))
    expect(result).toBe("Hello, Ada!")
  })

  it("ignores the module's other exports: a signal definition is not a workflow type", async () => {
    const taskQueue = unique("by-path")
    const worker = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start("ping", { taskQueue, workflowId: unique("ping") })
      const failure = await eventually(async () => (await handle.describe()).taskFailure, "a task failure")
      expect(failure.type).toBe("UnknownWorkflowTypeError")
      expect(failure.message).toContain("hello")
      expect(failure.message).toContain("slowStep")
      expect(failure.message).not.toContain("VERSION")
      await handle.terminate("not a workflow")
      expect((await rejectionOf(handle.result())).status).toBe("TERMINATED")
    })
  })
})

describe("lifecycle", () => {
  it("getState() goes INITIALIZED → RUNNING → STOPPING → STOPPED; run() resolves once shut down", async () => {
    const taskQueue = unique("lifecycle")
    const worker = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
    expect(worker.getState()).toBe("INITIALIZED")
    let runResolved = false
    const running = worker.run().then(() => {
      runResolved = true
    })
    expect(worker.getState()).toBe("RUNNING")
    expect(await env.client.workflow.execute("hello", { taskQueue, workflowId: unique("hello"), args: ["Bo"] })).toBe("Hello, Bo!")
    expect(runResolved).toBe(false)
    const stopping = worker.shutdown()
    expect(worker.getState()).toBe("STOPPING")
    await stopping
    await running
    expect(runResolved).toBe(true)
    expect(worker.getState()).toBe("STOPPED")
    expect((await rejectionOf(worker.run())).message).toContain("STOPPED")
  })

  it("runUntil(promise) returns the promise's result and leaves the worker STOPPED", async () => {
    const taskQueue = unique("run-until")
    const worker = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
    const result = await worker.runUntil(env.client.workflow.execute("hello", { taskQueue, workflowId: unique("hello"), args: ["Cy"] }))
    expect(result).toBe("Hello, Cy!")
    expect(worker.getState()).toBe("STOPPED")
  })

  it("runUntil(fn) runs the worker while fn runs, returns its result, and stops even when it throws", async () => {
    const taskQueue = unique("run-until-fn")
    const worker = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
    const result = await worker.runUntil(async () => {
      expect(worker.getState()).toBe("RUNNING")
      return await env.client.workflow.execute("hello", { taskQueue, workflowId: unique("hello"), args: ["Di"] })
    })
    expect(result).toBe("Hello, Di!")
    expect(worker.getState()).toBe("STOPPED")

    const failing = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
    const error = await rejectionOf(failing.runUntil(async () => {
      throw new Error("test body failed")
    }))
    expect(error.message).toBe("test body failed")
    expect(failing.getState()).toBe("STOPPED")
  })

  it("validates its options with InvalidArgumentError", async () => {
    expect((await rejectionOf(Worker.create({ connection: env.connection, workflowsPath } as never))).name).toBe("InvalidArgumentError")
    const error = await rejectionOf(Worker.create({ connection: env.connection, taskQueue: "q", workflowsPath, maxCachedWorkflows: -1 }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toContain("maxCachedWorkflows")
    const batch = await rejectionOf(Worker.create({ connection: env.connection, taskQueue: "q", workflowsPath, maxWorkflowTaskBatch: 0 }))
    expect(batch.message).toContain("maxWorkflowTaskBatch must be an integer ≥ 1")
    const grace = await rejectionOf(Worker.create({ connection: env.connection, taskQueue: "q", workflowsPath, shutdownGraceTime: "soon" }))
    expect(grace).toBeInstanceOf(InvalidArgumentError)
    expect(grace.message).toContain("shutdownGraceTime")
  })

  it("with maxCachedWorkflows 0 keeps no live run: every step replays, and the result is the same", async () => {
    const taskQueue = unique("no-cache")
    const activities = { greet: async (name: string) => `Hello, ${name}!`, hold: async () => "held" }
    const worker = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities, maxCachedWorkflows: 0 })
    const result = await worker.runUntil(env.client.workflow.execute("hello", { taskQueue, workflowId: unique("no-cache"), args: ["Ada"] }))
    expect(result).toBe("Hello, Ada!")
    const stats = worker.getCacheStats()
    expect(stats.entries).toBe(0)
    expect(stats.hits).toBe(0)
    expect(stats.evictions).toBeGreaterThan(0)
  })
})

describe("nothing is lost", () => {
  it("an unknown workflow type waits (taskFailure names it) until a worker that knows it appears", async () => {
    const taskQueue = unique("unknown-type")
    const unaware = await Worker.create({ connection: env.connection, taskQueue, workflows: { somethingElse: async () => "other" } })
    const unawareRunning = unaware.run()
    const handle = await env.client.workflow.start("hello", { taskQueue, workflowId: unique("waits"), args: ["Eve"] })
    const failure = await eventually(async () => (await handle.describe()).taskFailure, "the unknown type's task failure")
    expect(failure.type).toBe("UnknownWorkflowTypeError")
    expect(failure.message).toContain('"hello"')
    expect(failure.attempt).toBeGreaterThanOrEqual(1)
    expect((await handle.describe()).status).toBe("RUNNING")
    await unaware.shutdown()
    await unawareRunning

    const aware = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
    expect(await aware.runUntil(handle.result())).toBe("Hello, Eve!")
    const description = await handle.describe()
    expect(description.status).toBe("COMPLETED")
    expect(description.taskFailure).toBeUndefined()
    expect(entriesOf(await historyOf(handle), "WorkflowStarted")).toHaveLength(1)
  })

  it("an unknown workflow type completes once a knowing worker joins one that keeps failing it", async () => {
    const taskQueue = unique("unknown-type-both")
    const unaware = await Worker.create({ connection: env.connection, taskQueue, workflows: { somethingElse: async () => "other" } })
    await unaware.runUntil(async () => {
      const handle = await env.client.workflow.start("hello", { taskQueue, workflowId: unique("joins"), args: ["Fay"] })
      await eventually(async () => (await handle.describe()).taskFailure, "the unknown type's task failure")
      const aware = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities: greetOnly })
      expect(await aware.runUntil(within(handle.result(), 10_000, "the workflow to complete"))).toBe("Hello, Fay!")
    })
  })

  it("a worker shut down while an activity is in flight loses nothing: a new worker finishes the workflow, once", async () => {
    const taskQueue = unique("handover")
    const firstStarted = deferred<void>()
    const firstRelease = deferred<string>()
    const firstAborted = deferred<string>()
    const calls: Array<number> = []
    const activities: WorkerActivities = {
      ...greetOnly,
      async hold() {
        const context = Context.current()
        calls.push(context.info.attempt)
        if (calls.length > 1) return "second"
        context.cancellationSignal.addEventListener("abort", () => firstAborted.resolve(String((context.cancellationSignal.reason as Error | undefined)?.message)))
        firstStarted.resolve()
        return await firstRelease.promise // ignores its cancellationSignal: the worst case
      },
    }
    const first = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities })
    const firstRunning = first.run()
    const handle = await env.client.workflow.start("slowStep", { taskQueue, workflowId: unique("handover") })
    await within(firstStarted.promise, 5000, "the activity to start")
    await within(first.shutdown(), 5000, "the first worker to shut down while its activity hangs")
    await firstRunning
    expect(first.getState()).toBe("STOPPED")
    expect(await within(firstAborted.promise, 1000, "the in-flight activity's cancellationSignal to abort")).toBeTruthy()
    expect((await handle.describe()).status).toBe("RUNNING")
    firstRelease.resolve("first, too late") // the abandoned attempt finishes now; its result must be ignored

    const second = await Worker.create({ connection: env.connection, taskQueue, workflowsPath, activities })
    expect(await second.runUntil(handle.result())).toBe("done: second")
    expect(calls).toHaveLength(2)
    const history = await historyOf(handle)
    expect(entriesOf(history, "ActivityScheduled")).toHaveLength(1)
    expect(entriesOf(history, "ActivityCompleted")).toHaveLength(1)
    expect(entriesOf(history, "WorkflowCompleted")).toHaveLength(1)
  })
})

describe("task queues, connections, Durable", () => {
  it("routes an activity to the task queue its proxy names, served by an activities-only worker", async () => {
    const workflowQueue = unique("wf-only")
    const activityQueue = unique("act-only")
    const workflowWorker = await Worker.create({ connection: env.connection, taskQueue: workflowQueue, workflowsPath })
    const activityWorker = await Worker.create({
      connection: env.connection,
      taskQueue: activityQueue,
      activities: {
        async greet(name: string) {
          return `Hi ${name} from ${Context.current().info.taskQueue}`
        },
      },
    })
    const result = await activityWorker.runUntil(() =>
      workflowWorker.runUntil(env.client.workflow.execute("greetElsewhere", { taskQueue: workflowQueue, workflowId: unique("routed"), args: ["Gus", activityQueue] })))
    expect(result).toBe(`Hi Gus from ${activityQueue}`)
  })

  it("Connection.connect() shares the embedded store of its namespace; other namespaces are isolated", async () => {
    const namespace = unique("ns")
    const taskQueue = unique("embedded")
    const workerConnection = await Connection.connect({ namespace })
    const clientConnection = await Connection.connect({ namespace })
    const otherConnection = await Connection.connect({ namespace: unique("other-ns") })
    try {
      const worker = await Worker.create({ connection: workerConnection, taskQueue, workflowsPath, activities: greetOnly })
      const client = new Client({ connection: clientConnection })
      const workflowId = unique("embedded")
      expect(await worker.runUntil(client.workflow.execute("hello", { taskQueue, workflowId, args: ["Hal"] }))).toBe("Hello, Hal!")
      const elsewhere = new Client({ connection: otherConnection })
      expect((await rejectionOf(elsewhere.workflow.getHandle(workflowId).describe())).name).toBe("WorkflowNotFoundError")
    } finally {
      await workerConnection.close()
      await clientConnection.close()
      await otherConnection.close()
    }
    expect(clientConnection.closed).toBe(true)
    expect((await rejectionOf(new Client({ connection: clientConnection }).workflow.getHandle("x").describe())).message).toMatch(/closed/i)
  })

  it("Worker.create without a connection uses the embedded default store", async () => {
    const taskQueue = unique("default-store")
    const worker = await Worker.create({ taskQueue, workflowsPath, activities: greetOnly })
    const connection = await Connection.connect()
    try {
      const client = new Client({ connection })
      expect(await worker.runUntil(client.workflow.execute("hello", { taskQueue, workflowId: unique("default"), args: ["Ivy"] }))).toBe("Hello, Ivy!")
    } finally {
      await connection.close()
      await worker.connection.close()
    }
  })

  it("the Durable namespace gathers the same pieces and runs a workflow written against it", async () => {
    expect(Durable.Client).toBe(Client)
    expect(Durable.Worker).toBe(Worker)
    expect(Durable.Connection).toBe(Connection)
    const taskQueue = unique("durable")
    const worker = await Durable.Worker.create({
      connection: env.connection,
      taskQueue,
      workflows: durableWorkflows,
      activities: {
        async shout(text: string) {
          return `${text.toUpperCase()}! (attempt ${Durable.activity.Context.current().info.attempt})`
        },
      },
    })
    const client = new Durable.Client({ connection: env.connection })
    await worker.runUntil(async () => {
      const handle = await client.workflow.start(durableWorkflows.durableParent, { taskQueue, workflowId: unique("durable"), args: ["hey"] })
      await handle.signal(durableWorkflows.go, "there")
      expect(await handle.result()).toEqual({ child: "HEY THERE! (attempt 1)", again: "AGAIN! (attempt 1)", id: 36, type: "durableParent" })
      const error = await rejectionOf(client.workflow.execute(durableWorkflows.durableFailing, { taskQueue, workflowId: unique("durable-fail") }))
      expect(error).toBeInstanceOf(Durable.WorkflowFailedError)
      expect(error.cause).toBeInstanceOf(Durable.workflow.ApplicationFailure)
      expect(error.cause.type).toBe("DurableBroke")
    })
  })
})
