/**
 * Turning a transition's commands into the store's encoded writes.
 */
import { encodeMessage } from "../../core/messages.ts"
import type { Command, Transition } from "../../core/reduce.ts"
import { encodeState, type ExecutionState } from "../../core/state.ts"
import type { Commit, Delivery, OutboundMessage, TimerEntry } from "../../stores/Store.ts"

/** The stream message a `SendWorkflow`/`SendActivity` command writes. */
export const outbound = (command: Extract<Command, { type: "SendWorkflow" | "SendActivity" }>): OutboundMessage =>
  command.type === "SendWorkflow"
    ? { stream: { kind: "workflow", taskQueue: command.taskQueue }, key: command.key, body: encodeMessage(command.message) }
    : { stream: { kind: "activity", taskQueue: command.taskQueue }, key: command.key, body: encodeMessage(command.task) }

/** How long closed runs are kept, and the step's time. */
export interface Retention {
  readonly now: number
  /** `Infinity`: keep forever. */
  readonly retentionMs: number
}

/**
 * The atomic commit of one step: everything `transition` writes plus the ack
 * of `delivery`. A run that closes here expires `retentionMs` later (its
 * journal, and the record unless the workflow continued as new).
 */
export const toCommit = (
  delivery: Delivery | undefined,
  expectedVersion: number,
  before: ExecutionState | undefined,
  transition: Transition,
  retention?: Retention,
): Commit => {
  const messages: Array<OutboundMessage> = []
  const timers: Array<TimerEntry> = []
  const cancelTimers: Array<string> = []
  for (const command of transition.commands) {
    switch (command.type) {
      case "SendWorkflow":
      case "SendActivity":
        messages.push(outbound(command))
        break
      case "SetTimer":
        timers.push({
          id: command.id,
          fireAt: command.fireAt,
          message: { stream: { kind: "workflow", taskQueue: command.taskQueue }, key: command.key, body: encodeMessage(command.message) },
        })
        break
      case "CancelTimer":
        cancelTimers.push(command.id)
        break
    }
  }
  const state = transition.state
  const key = delivery?.key ?? state?.workflowId ?? ""
  return {
    key,
    expectedVersion,
    ...(state !== undefined && state !== before ? { state: encodeState(state) } : {}),
    ...(state !== undefined && transition.journal.length > 0
      ? { journal: { id: transition.journalRunId ?? state.runId, entries: transition.journal.map((entry) => JSON.stringify(entry)) } }
      : {}),
    ...(messages.length > 0 ? { messages } : {}),
    ...(timers.length > 0 ? { timers } : {}),
    ...(cancelTimers.length > 0 ? { cancelTimers } : {}),
    ...(delivery === undefined ? {} : { ack: delivery }),
    ...(transition.closed ? { notify: true } : {}),
    ...(transition.closed && transition.journal.length > 0 && retention !== undefined && Number.isFinite(retention.retentionMs)
      ? { expire: { at: retention.now + retention.retentionMs, record: state?.status !== "RUNNING" } }
      : {}),
  }
}
