// Temporal-style tests of workflow updates (message-passing sample and failure paths).
import assert from "node:assert"
import { fileURLToPath } from "node:url"
import {
  DefaultLogger,
  type LogEntry,
  Runtime,
  WithStartWorkflowOperation,
  Worker,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
} from "hotmesh"
import { assertDeterministic, TestWorkflowEnvironment } from "hotmesh/testing"
import * as wf from "hotmesh/workflow"
import { beforeAll, describe, it } from "vitest"
import { useWorkerEnvironment } from "../fixtures/e2e-support.ts"
import * as activities from "./activities/updates.ts"
import * as workflows from "./workflows/updates.ts"
import { approve, abandonedUpdate, failingUpdate, getLanguage, greetingWorkflow, impatientWorkflow, setLanguage, stop, stuckUpdate } from "./workflows/updates.ts"

const workflowsPath = fileURLToPath(new URL("./workflows/updates.ts", import.meta.url))
const logged: Array<LogEntry> = []

describe("workflow updates", () => {
  const taskQueue = "updates-compat"
  // Registered before the environment: the logger is installed before its worker starts.
  beforeAll(() => {
    Runtime.install({ logger: new DefaultLogger("WARN", (entry) => logged.push(entry)) })
  })
  const setup = useWorkerEnvironment({ taskQueue, workflowsPath, activities }, () => TestWorkflowEnvironment.createLocal())

  const start = (workflow: typeof greetingWorkflow | typeof impatientWorkflow, workflowId: string) =>
    setup.env.client.workflow.start(workflow, { taskQueue, workflowId })

  it("sets the language through an update that calls an activity", async () => {
    const handle = await start(greetingWorkflow, "greeting-1")
    const previousLanguage: string = await handle.executeUpdate(setLanguage, { args: ["chinese"] })
    assert.equal(previousLanguage, "english")
    assert.equal(await handle.query(getLanguage), "chinese")
    const updateHandle = await handle.startUpdate(setLanguage, { args: ["arabic"], waitForStage: WorkflowUpdateStage.ACCEPTED })
    assert.equal(await updateHandle.result(), "chinese")
    await handle.signal(approve, { name: "me" })
    assert.equal(await handle.result(), "مرحبا بالعالم")
  })

  it("rejects an update its validator refuses, and records nothing of it", async () => {
    const handle = await start(greetingWorkflow, "greeting-2")
    assert.equal(await handle.query(getLanguage), "english") // answered behind the start: the first task is in the history
    const before = (await handle.fetchHistory()).events
    await assert.rejects(handle.executeUpdate(setLanguage, { args: [""] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError)
      assert.equal((err.cause as Error).name, "ApplicationFailure")
      assert.equal((err.cause as Error).message, "Language must not be empty")
      return true
    })
    assert.deepEqual((await handle.fetchHistory()).events, before)
    assert.equal(await handle.query(getLanguage), "english")
    await handle.signal(approve, { name: "me" })
    assert.equal(await handle.result(), "Hello, world")
  })

  it("fails the update when the handler throws, and the workflow carries on", async () => {
    const handle = await start(greetingWorkflow, "greeting-3")
    await assert.rejects(handle.executeUpdate(setLanguage, { args: ["klingon"] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError)
      assert.equal((err.cause as Error).message, "klingon is not supported by the greeting service")
      return true
    })
    await assert.rejects(handle.executeUpdate(failingUpdate, { args: ["no"] }), (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError)
      assert.equal((err.cause as { type?: string }).type, "UpdateRefused")
      return true
    })
    await handle.signal(approve, { name: "me" })
    assert.equal(await handle.result(), "Hello, world")
  })

  it("runs an update id once: the second call gets the first outcome", async () => {
    const handle = await start(greetingWorkflow, "greeting-4")
    assert.equal(await handle.executeUpdate(setLanguage, { args: ["chinese"], updateId: "set-1" }), "english")
    assert.equal(await handle.executeUpdate(setLanguage, { args: ["french"], updateId: "set-1" }), "english")
    assert.equal(await handle.getUpdateHandle<string>("set-1").result(), "english")
    assert.equal(await handle.query(getLanguage), "chinese")
  })

  it("raises WorkflowNotFoundError for an update to a closed workflow", async () => {
    const handle = await start(greetingWorkflow, "greeting-5")
    await handle.signal(approve, { name: "me" })
    await handle.result()
    await assert.rejects(handle.executeUpdate(setLanguage, { args: ["chinese"] }), WorkflowNotFoundError)
  })

  it("rejects an update the workflow has no handler for", async () => {
    const handle = await start(greetingWorkflow, "greeting-6")
    await assert.rejects(handle.executeUpdate("noSuchUpdate"), WorkflowUpdateFailedError)
  })

  it("warns when the workflow finishes with an update handler still running, unless its policy is ABANDON", async () => {
    const handle = await start(impatientWorkflow, "impatient-1")
    const stuck = await handle.startUpdate(stuckUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED })
    const abandoned = await handle.startUpdate(abandonedUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED })
    await handle.signal(stop)
    assert.equal(await handle.result(), "left handlers running")
    await assert.rejects(stuck.result(), WorkflowNotFoundError)
    await assert.rejects(abandoned.result(), WorkflowNotFoundError)
    const warnings = logged.filter((entry) => entry.level === "WARN" && entry.message.includes("update handlers are still running"))
    assert.equal(warnings.length, 1)
    assert.deepEqual(warnings[0]!.meta?.updates, [{ id: stuck.updateId, name: "stuckUpdate" }])
  })

  it("update-with-start starts the workflow, then reaches the running one with USE_EXISTING", async () => {
    const startWorkflowOperation = new WithStartWorkflowOperation(greetingWorkflow, {
      workflowId: "greeting-uws",
      taskQueue,
      workflowIdConflictPolicy: "USE_EXISTING",
    })
    const previousLanguage = await setup.env.client.workflow.executeUpdateWithStart(setLanguage, { args: ["chinese"], startWorkflowOperation })
    assert.equal(previousLanguage, "english")
    const wfHandle = await startWorkflowOperation.workflowHandle()
    const again = WithStartWorkflowOperation.create(greetingWorkflow, {
      workflowId: "greeting-uws",
      taskQueue,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    })
    const updateHandle = await setup.env.client.workflow.startUpdateWithStart(setLanguage, {
      args: ["french"],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
      startWorkflowOperation: again,
    })
    assert.equal(await updateHandle.result(), "chinese")
    assert.equal((await again.workflowHandle()).firstExecutionRunId, wfHandle.firstExecutionRunId)
    await wfHandle.signal(approve, { name: "me" })
    assert.equal(await wfHandle.result(), "Bonjour, monde")
  })

  it("update-with-start with FAIL rejects while the workflow runs, and the update never arrives", async () => {
    const handle = await start(greetingWorkflow, "greeting-uws-fail")
    const startWorkflowOperation = new WithStartWorkflowOperation(greetingWorkflow, {
      workflowId: "greeting-uws-fail",
      taskQueue,
      workflowIdConflictPolicy: "FAIL",
    })
    await assert.rejects(
      setup.env.client.workflow.executeUpdateWithStart(setLanguage, { args: ["chinese"], startWorkflowOperation }),
      WorkflowExecutionAlreadyStartedError,
    )
    await assert.rejects(startWorkflowOperation.workflowHandle(), WorkflowExecutionAlreadyStartedError)
    assert.equal(await handle.query(getLanguage), "english")
  })

  it("honours workflowIdConflictPolicy and workflowIdReusePolicy on start", async () => {
    const first = await start(greetingWorkflow, "greeting-policies")
    await assert.rejects(start(greetingWorkflow, "greeting-policies"), WorkflowExecutionAlreadyStartedError)
    const existing = await setup.env.client.workflow.start(greetingWorkflow, {
      taskQueue,
      workflowId: "greeting-policies",
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    })
    assert.equal(existing.firstExecutionRunId, first.firstExecutionRunId)
    await first.signal(approve, { name: "me" })
    await first.result()
    await assert.rejects(
      setup.env.client.workflow.start(greetingWorkflow, { taskQueue, workflowId: "greeting-policies", workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE }),
      WorkflowExecutionAlreadyStartedError,
    )
  })

  it("replays a workflow that received updates deterministically", async () => {
    const handle = await start(greetingWorkflow, "greeting-replay")
    await handle.executeUpdate(setLanguage, { args: ["chinese"] })
    await assert.rejects(handle.executeUpdate(setLanguage, { args: [""] }))
    await handle.executeUpdate(setLanguage, { args: ["french"] })
    await handle.signal(approve, { name: "me" })
    await handle.result()
    const history = await handle.fetchHistory()
    await Worker.runReplayHistory({ workflowsPath }, history)
    const summary = await assertDeterministic(workflows, [history])
    assert.ok(summary.prefixes > 1)
  })
})

// Types only (never called): the definition types the client's arguments and result, and the handler's validator.
export async function updateTypes(handle: Awaited<ReturnType<TestWorkflowEnvironment["client"]["workflow"]["start"]>>): Promise<void> {
  // @ts-expect-error setLanguage takes a string
  await handle.executeUpdate(setLanguage, { args: [1] })
  // @ts-expect-error setLanguage returns a string
  const wrong: number = await handle.executeUpdate(setLanguage, { args: ["french"] })
  const updateHandle = await handle.startUpdate(setLanguage, { args: ["french"], waitForStage: WorkflowUpdateStage.ACCEPTED })
  const previous: string = await updateHandle.result()
  void [wrong, previous]
  wf.setHandler(setLanguage, (language) => language, { validator: (language: string) => void language })
  // @ts-expect-error the validator's parameters must match the update's arguments
  wf.setHandler(setLanguage, (language) => language, { validator: (language: number) => void language })
}
