/**
 * Workflow interceptors for updates and external signals, written as for
 * Temporal: `validateUpdate` refuses the name "blocked" before the
 * workflow's validator runs, `handleUpdate` tags the handler's result with
 * the update's `requester` header and the start's `tenant`, `signalWorkflow` adds a `via` header
 * naming the target, and the receiver's `handleSignal` appends it.
 */
import { defaultPayloadConverter, type WorkflowInterceptorsFactory } from "hotmesh/workflow"

const header = (headers: Record<string, string | undefined>, name: string): string =>
  headers[name] === undefined ? `no ${name}` : defaultPayloadConverter.fromPayload<string>(headers[name])

export const interceptors: WorkflowInterceptorsFactory = () => {
  let tenant = "no tenant"
  return {
  inbound: [{
    async execute(input, next) {
      tenant = header(input.headers, "tenant")
      return next(input)
    },
    validateUpdate(input, next) {
      if (input.args[0] === "blocked") throw new Error(`update ${input.name} refused by an interceptor`)
      next(input)
    },
    async handleUpdate(input, next) {
      return `${String(await next(input))} (for ${header(input.headers, "requester")}, ${tenant})`
    },
    async handleSignal(input, next) {
      return next({ ...input, args: [`${String(input.args[0])} via ${header(input.headers, "via")}`] })
    },
  }],
  outbound: [{
    signalWorkflow(input, next) {
      const target = input.target.type === "external" ? input.target.workflowExecution.workflowId : input.target.childWorkflowId
      return next({ ...input, headers: { ...input.headers, via: defaultPayloadConverter.toPayload(`${input.signalName} to ${target}`) } })
    },
  }],
  }
}
