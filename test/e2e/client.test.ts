/**
 * The client end to end: start/execute/getHandle, duplicate and reused ids,
 * describe(), typed errors for bad input (rejected at the call, nothing
 * stored), workflowInfo(), and uuid4() determinism across replay.
 */
import { fileURLToPath } from "node:url"
import { Client, DataConverterError, InvalidArgumentError, Worker, WorkflowExecutionAlreadyStartedError } from "hotmesh"
import { Context } from "hotmesh/activity"
import { afterEach, describe, expect, it } from "vitest"
import type { ClientActivities } from "../fixtures/client-workflows.ts"
import * as workflows from "../fixtures/client-workflows.ts"
import { type Deferred, deferred, entriesOf, eventually, historyOf, rejectionOf, unique, useWorkerEnvironment, within } from "../fixtures/e2e-support.ts"

const taskQueue = unique("client")

interface Gate {
  readonly started: Deferred<void>
  readonly open: Deferred<string>
  readonly aborted: Deferred<string>
  runs: number
}
const gates = new Map<string, Gate>()
const gateFor = (workflowId: string): Gate => {
  let gate = gates.get(workflowId)
  if (gate === undefined) gates.set(workflowId, (gate = { started: deferred(), open: deferred(), aborted: deferred(), runs: 0 }))
  return gate
}
const activities: ClientActivities = {
  async gate() {
    const context = Context.current()
    const gate = gateFor(context.info.workflowId)
    gate.runs++
    context.cancellationSignal.addEventListener("abort", () => gate.aborted.resolve(String((context.cancellationSignal.reason as Error | undefined)?.message)))
    gate.started.resolve()
    return await Promise.race([gate.open.promise, context.cancelled])
  },
}

const setup = useWorkerEnvironment({ taskQueue, workflows, activities })
afterEach(() => {
  for (const gate of gates.values()) gate.open.resolve("opened by the test")
})

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** The id was never started: describe() says so. */
const expectNotStarted = async (workflowId: string) => {
  expect((await rejectionOf(setup.env.client.workflow.getHandle(workflowId).describe())).name).toBe("WorkflowNotFoundError")
}

describe("start, execute, getHandle", () => {
  it("starts by function and by type name, with arguments", async () => {
    const byFunction = await setup.env.client.workflow.start(workflows.greet, { taskQueue, workflowId: unique("fn"), args: ["Ada"] })
    const byName = await setup.env.client.workflow.start("greet", { taskQueue, workflowId: unique("name"), args: ["Bo"] })
    expect(await byFunction.result()).toBe("hello Ada")
    expect(await byName.result()).toBe("hello Bo")
    expect((await byName.describe()).type).toBe("greet")
  })

  it("execute starts and waits for the result", async () => {
    expect(await setup.env.client.workflow.execute(workflows.sum, { taskQueue, workflowId: unique("sum"), args: [1, 2, 3, 4] })).toBe(10)
    expect(await setup.env.client.workflow.execute(workflows.sum, { taskQueue, workflowId: unique("sum") })).toBe(0)
  })

  it("getHandle reaches a workflow started elsewhere: result, signal, describe, history", async () => {
    const workflowId = unique("elsewhere")
    await setup.env.client.workflow.start(workflows.waitForFinish, { taskQueue, workflowId })
    const other = new Client({ connection: setup.env.connection })
    const handle = other.workflow.getHandle<typeof workflows.waitForFinish>(workflowId)
    expect(handle.workflowId).toBe(workflowId)
    expect((await handle.describe()).status).toBe("RUNNING")
    await handle.signal(workflows.finish)
    expect(await handle.result()).toBe("finished")
    expect((await handle.fetchHistory()).events.map((entry) => entry.type)).toContain("SignalReceived")
  })

  it("getHandle of an unknown id: result, describe and fetchHistory reject with WorkflowNotFoundError", async () => {
    const handle = setup.env.client.workflow.getHandle(unique("ghost"))
    expect((await rejectionOf(handle.result())).name).toBe("WorkflowNotFoundError")
    expect((await rejectionOf(handle.describe())).name).toBe("WorkflowNotFoundError")
    expect((await rejectionOf(handle.fetchHistory())).name).toBe("WorkflowNotFoundError")
  })

  it("rejects a duplicate workflowId while the first run is open with WorkflowExecutionAlreadyStartedError", async () => {
    const workflowId = unique("dup")
    const first = await setup.env.client.workflow.start(workflows.waitForFinish, { taskQueue, workflowId })
    const error = await rejectionOf(setup.env.client.workflow.start(workflows.greet, { taskQueue, workflowId, args: ["again"] }))
    expect(error).toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
    expect(error.name).toBe("WorkflowExecutionAlreadyStartedError")
    expect(error.workflowId).toBe(workflowId)
    expect(error.workflowType).toBe("waitForFinish")
    // the first run is untouched
    const description = await first.describe()
    expect(description.runId).toBe(first.firstExecutionRunId)
    expect(description.type).toBe("waitForFinish")
    await first.signal(workflows.finish)
    expect(await first.result()).toBe("finished")
  })

  it("reuses the id of a closed workflow for a new run with its own history", async () => {
    const workflowId = unique("reuse")
    const first = await setup.env.client.workflow.start(workflows.failing, { taskQueue, workflowId })
    await rejectionOf(first.result())
    const second = await setup.env.client.workflow.start(workflows.greet, { taskQueue, workflowId, args: ["again"] })
    expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId)
    expect(await second.result()).toBe("hello again")
    const description = await setup.env.client.workflow.getHandle(workflowId).describe()
    expect(description).toMatchObject({ runId: second.firstExecutionRunId, type: "greet", status: "COMPLETED" })
    const history = await second.fetchHistory()
    expect(history.runId).toBe(second.firstExecutionRunId)
    expect(history.events.map((entry) => entry.type)).not.toContain("WorkflowFailed")
  })
})

describe("describe()", () => {
  it("describes a running, then completed workflow: fields, status, startTime and closeTime", async () => {
    const workflowId = unique("describe")
    const startedAt = await setup.env.currentTimeMs()
    const handle = await setup.env.client.workflow.start(workflows.sleepADay, { taskQueue, workflowId })
    const runningDescription = await handle.describe()
    expect(runningDescription).toMatchObject({ workflowId, runId: handle.firstExecutionRunId, type: "sleepADay", taskQueue, status: "RUNNING" })
    expect(runningDescription.startTime).toBeInstanceOf(Date)
    expect(runningDescription.startTime.getTime()).toBe(startedAt)
    expect(runningDescription.closeTime).toBeUndefined()
    expect(runningDescription.parent).toBeUndefined()
    expect(await handle.result()).toBe("rested")
    const closed = await handle.describe()
    expect(closed.status).toBe("COMPLETED")
    expect(closed.startTime.getTime()).toBe(startedAt)
    expect(closed.closeTime!.getTime() - closed.startTime.getTime()).toBe(86_400_000)
    expect(closed.historyLength).toBe((await handle.fetchHistory()).events.length)
  })

  it("reports FAILED with a closeTime", async () => {
    const failed = await setup.env.client.workflow.start(workflows.failing, { taskQueue, workflowId: unique("failed") })
    await rejectionOf(failed.result())
    const description = await failed.describe()
    expect(description.status).toBe("FAILED")
    expect(description.closeTime).toBeInstanceOf(Date)
  })

  it("lists a running activity in pendingActivities", async () => {
    const workflowId = unique("pending")
    const handle = await setup.env.client.workflow.start(workflows.passGate, { taskQueue, workflowId })
    await within(gateFor(workflowId).started.promise, 5000, "the gate activity to start")
    expect((await handle.describe()).pendingActivities).toEqual([{ activityId: "1", activityType: "gate", attempt: 1, state: "STARTED" }])
    gateFor(workflowId).open.resolve("open")
    expect(await handle.result()).toBe("open")
    expect((await handle.describe()).pendingActivities).toEqual([])
  })
})

describe("invalid input is rejected at the call with a typed error, and nothing is started", () => {
  it("a missing workflowId or taskQueue → InvalidArgumentError", async () => {
    const noId = await rejectionOf(setup.env.client.workflow.start(workflows.greet, { taskQueue, args: ["x"] } as never))
    expect(noId).toBeInstanceOf(InvalidArgumentError)
    expect(noId.name).toBe("InvalidArgumentError")
    expect(noId.message).toContain("workflowId")
    const workflowId = unique("no-queue")
    const noQueue = await rejectionOf(setup.env.client.workflow.start(workflows.greet, { workflowId, args: ["x"] } as never))
    expect(noQueue.name).toBe("InvalidArgumentError")
    expect(noQueue.message).toContain("taskQueue")
    await expectNotStarted(workflowId)
  })

  it("an anonymous workflow function → InvalidArgumentError", async () => {
    const workflowId = unique("anonymous")
    const error = await rejectionOf(setup.env.client.workflow.start((() => async () => "x")(), { taskQueue, workflowId }))
    expect(error.name).toBe("InvalidArgumentError")
    await expectNotStarted(workflowId)
  })

  it("getHandle('') and new Client({ connection: {} }) → InvalidArgumentError", () => {
    expect(() => setup.env.client.workflow.getHandle("")).toThrow(InvalidArgumentError)
    expect(() => new Client({ connection: {} as never })).toThrow(InvalidArgumentError)
    expect(() => new Client({ namespace: "" })).toThrow(InvalidArgumentError)
  })

  const cyclic: Record<string, unknown> = { name: "loop" }
  cyclic.self = cyclic
  it.each([
    ["a function", "args[1]", [1, () => 2]],
    ["a symbol", "args[0]", [Symbol("s")]],
    ["a cycle", "args[1].self", ["fine", cyclic]],
    ["a nested function", "args[0].nested.fn", [{ ok: 1, nested: { fn: () => 1 } }]],
    ["a bigint", "args[0]", [1n]],
    ["NaN", "args[0]", [Number.NaN]],
    ["a Map", "args[0]", [new Map()]],
  ])("arguments with %s → DataConverterError naming %s", async (_, path, args) => {
    const workflowId = unique("bad-args")
    const error = await rejectionOf(setup.env.client.workflow.start(workflows.sum, { taskQueue, workflowId, args: args as never }))
    expect(error).toBeInstanceOf(DataConverterError)
    expect(error.name).toBe("DataConverterError")
    expect(error.path).toBe(path)
    expect(error.message).toContain(path)
    await expectNotStarted(workflowId)
  })

  it("unserializable signal and query arguments → DataConverterError naming the argument; the workflow is unharmed", async () => {
    const handle = await setup.env.client.workflow.start(workflows.waitForFinish, { taskQueue, workflowId: unique("bad-signal") })
    const signalError = await rejectionOf(handle.signal("finish", 1, () => 2))
    expect(signalError.name).toBe("DataConverterError")
    expect(signalError.message).toContain("[1]")
    const queryError = await rejectionOf(handle.query("anything", Symbol("q")))
    expect(queryError.name).toBe("DataConverterError")
    expect(queryError.message).toContain("[0]")
    await handle.signal(workflows.finish)
    expect(await handle.result()).toBe("finished")
    expect(entriesOf(await historyOf(handle), "SignalReceived")).toHaveLength(1)
  })

  it.each([
    ["unknownDuration", "InvalidArgumentError", "10 parsecs"],
    ["negativeTimeout", "InvalidArgumentError", "startToCloseTimeout"],
    ["zeroTimeout", "InvalidArgumentError", "startToCloseTimeout"],
    ["missingTimeout", "InvalidArgumentError", "startToCloseTimeout"],
    ["badHeartbeatTimeout", "InvalidArgumentError", "heartbeatTimeout"],
    ["badBackoff", "InvalidArgumentError", "backoffCoefficient"],
    ["negativeAttempts", "InvalidArgumentError", "maximumAttempts"],
    ["negativeSleep", "InvalidArgumentError", "-5"],
    ["unknownSleep", "InvalidArgumentError", "10 parsecs"],
    ["unknownConditionTimeout", "InvalidArgumentError", "a while"],
    ["childArgs", "DataConverterError", "args[0]"],
  ])("inside a workflow, %s throws %s at the call (message mentions %j)", async (kind, name, mention) => {
    const result = await setup.env.client.workflow.execute(workflows.invalidCall, { taskQueue, workflowId: unique(`invalid-${kind}`), args: [kind] })
    expect(result).not.toBe("no error")
    expect(result).toMatchObject({ name })
    expect((result as { message: string }).message).toContain(mention)
  })

  it("a workflow result that cannot be serialized fails the workflow task (retried), not the workflow", async () => {
    const handle = await setup.env.client.workflow.start(workflows.unserializableResult, { taskQueue, workflowId: unique("bad-result") })
    const failure = await eventually(async () => (await handle.describe()).taskFailure, "the task failure")
    expect(failure.type).toBe("DataConverterError")
    expect(failure.message).toContain("result of workflow unserializableResult")
    expect((await handle.describe()).status).toBe("RUNNING")
    await handle.terminate("cleanup")
    expect((await rejectionOf(handle.result())).status).toBe("TERMINATED")
  })

  it("a plain error thrown by workflow code (a bug) fails the task, not the workflow", async () => {
    const handle = await setup.env.client.workflow.start(workflows.buggy, { taskQueue, workflowId: unique("buggy") })
    const failure = await eventually(async () => (await handle.describe()).taskFailure, "the task failure")
    expect(failure.type).toBe("TypeError")
    expect((await handle.describe()).status).toBe("RUNNING")
    await handle.terminate("cleanup")
    expect((await rejectionOf(handle.result())).status).toBe("TERMINATED")
  })

  it("a workflows module whose proxyActivities options are invalid fails Worker.create", async () => {
    const workflowsPath = fileURLToPath(new URL("../fixtures/bad-options-workflows.ts", import.meta.url))
    const error = await rejectionOf(Worker.create({ connection: setup.env.connection, taskQueue: unique("bad-module"), workflowsPath }))
    expect(error.name).toBe("InvalidArgumentError")
    expect(error.message).toContain("startToCloseTimeout")
  })
})

describe("workflowInfo() and uuid4()", () => {
  it("workflowInfo() describes the run; currentTime follows the virtual clock", async () => {
    const workflowId = unique("info")
    const handle = await setup.env.client.workflow.start(workflows.info, { taskQueue, workflowId })
    const info = await handle.result()
    const description = await handle.describe()
    expect(info).toMatchObject({
      workflowId,
      runId: description.runId,
      workflowType: "info",
      taskQueue,
      startTime: description.startTime.getTime(),
      parent: null,
      historyLengthAtStart: 0,
      currentTimeAtStart: description.startTime.getTime(),
      currentTimeLater: description.startTime.getTime() + 3_600_000,
    })
    expect(info.historyLengthLater).toBeGreaterThan(0)
  })

  it("uuid4() draws the same values when a new worker replays the workflow", async () => {
    const queue = unique("uuid-restart")
    const workflowId = unique("uuid-restart")
    const first = await Worker.create({ connection: setup.env.connection, taskQueue: queue, workflows, activities })
    const firstRunning = first.run()
    const handle = await setup.env.client.workflow.start(workflows.uuidsAcrossGate, { taskQueue: queue, workflowId })
    await within(gateFor(workflowId).started.promise, 5000, "the gate activity to start")
    await first.shutdown()
    await firstRunning
    // A new worker has no cached run: it replays the journal, drawing the first uuid again.
    gateFor(workflowId).open.resolve("open")
    const second = await Worker.create({ connection: setup.env.connection, taskQueue: queue, workflows, activities })
    const result = await second.runUntil(handle.result())
    expect(result[0]).toMatch(UUID4)
    expect(result[1]).toMatch(UUID4)
    expect(result[0]).not.toBe(result[1])
    expect(workflows.drawnUuids.get(workflowId)).toEqual([result[0], result[0], result[1]])
  })

  it("uuid4() is deterministic when a small workflow cache forces replays of concurrent workflows", async () => {
    const queue = unique("uuid-cache")
    const small = await Worker.create({ connection: setup.env.connection, taskQueue: queue, workflows, maxCachedWorkflows: 1 })
    const ids = Array.from({ length: 4 }, () => unique("uuid-cache"))
    const results = await small.runUntil(() =>
      Promise.all(ids.map(async (workflowId) => setup.env.client.workflow.execute(workflows.uuidsAcrossTimers, { taskQueue: queue, workflowId }))))
    const replayed = ids.filter((workflowId) => workflows.drawnUuids.get(workflowId)!.length > 3)
    expect(replayed.length).toBeGreaterThan(0) // the cache did force replays
    ids.forEach((workflowId, i) => {
      const drawn = workflows.drawnUuids.get(workflowId)!
      expect([...new Set(drawn)]).toEqual(results[i])
    })
    expect(new Set(results.flat()).size).toBe(12) // different runs draw different uuids
  })
})
