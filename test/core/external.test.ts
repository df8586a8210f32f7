/**
 * Requests from one workflow to another (`getExternalWorkflowHandle`) in
 * core: the command sends the signal or cancellation with its requester, the
 * target applies it and answers in the same transition (or answers "not
 * found"), a request that reached the target on another task queue is
 * forwarded there, and the requester takes each answer once.
 */
import { describe, expect, it } from "vitest"
import type { ExternalRequester, WorkflowMessage } from "../../src/core/messages.ts"
import { completeTask, reduce } from "../../src/core/reduce.ts"
import { closed, expectUnchanged, running, T1 } from "./reduceFixtures.ts"

const requester: ExternalRequester = { workflowId: "asker", runId: "ar", taskQueue: "aq", seq: 2, sentOn: "q" }
const toRequester = (failure?: unknown) => ({
  type: "SendWorkflow",
  taskQueue: "aq",
  key: "asker",
  message: { type: "ExternalRequestReply", runId: "ar", seq: 2, ...(failure === undefined ? {} : { failure }) },
})
const notFound = (what: string) => ({ kind: "application", type: "ExternalWorkflowExecutionNotFound", message: `Unable to ${what} external workflow because it was not found`, nonRetryable: true })
const signal: WorkflowMessage = { type: "Signal", signalId: "ar:2", name: "go", args: ['"x"'], requester }

describe("external requests", () => {
  it("the command sends a signal carrying its requester, and waits for the answer", () => {
    const t = completeTask(running(), [{ type: "SignalExternal", seq: 1, workflowId: "other", name: "go", args: ['"x"'] }], T1)
    expect(t.state?.externalRequests).toStrictEqual([1])
    expect(t.journal.at(-1)).toStrictEqual({ type: "ExternalSignalInitiated", at: T1, seq: 1, workflowId: "other", name: "go", args: ['"x"'] })
    expect(t.commands).toStrictEqual([{
      type: "SendWorkflow",
      taskQueue: "q",
      key: "other",
      message: { type: "Signal", signalId: "r1:1", name: "go", args: ['"x"'], requester: { workflowId: "wf", runId: "r1", taskQueue: "q", seq: 1, sentOn: "q" } },
    }])
  })

  it("the target receives the signal and answers in the same transition", () => {
    const t = reduce(running(), signal, T1)
    expect(t.state?.pendingJobs).toStrictEqual([{ type: "SignalReceived", at: T1, name: "go", args: ['"x"'] }])
    expect(t.commands).toStrictEqual([toRequester()])
  })

  it("a closed, unknown or other run answers ExternalWorkflowExecutionNotFound", () => {
    const done = closed()
    const t = reduce(done, { type: "CancelRequested", requester }, T1)
    expect(t.state).toBe(done)
    expect(t.commands).toStrictEqual([toRequester(notFound("cancel"))])
    expect(reduce(undefined, signal, T1).commands).toStrictEqual([toRequester(notFound("signal"))])
    expect(reduce(running(), { ...signal, runId: "r0" } as WorkflowMessage, T1).commands).toStrictEqual([toRequester(notFound("signal"))])
  })

  it("a request that arrived on another task queue than the target's is forwarded there, unapplied", () => {
    const state = running({ taskQueue: "other-q" })
    const t = reduce(state, signal, T1)
    expect(t.state).toBe(state)
    expect(t.commands).toStrictEqual([{ type: "SendWorkflow", taskQueue: "other-q", key: "wf", message: { ...signal, requester: { ...requester, sentOn: "other-q" } } }])
  })

  it("the requester takes the answer once, as a job", () => {
    const state = running({ runId: "ar", externalRequests: [2] })
    const reply = { type: "ExternalRequestReply", runId: "ar", seq: 2, failure: notFound("signal") } as WorkflowMessage
    const t = reduce(state, reply, T1)
    expect(t.state?.externalRequests).toStrictEqual([])
    expect(t.state?.pendingJobs).toStrictEqual([{ type: "ExternalRequestResolved", at: T1, seq: 2, failure: notFound("signal") }])
    expect(t.activate).toBe(true)
    expectUnchanged(reduce(t.state, reply, T1), t.state)
  })
})
