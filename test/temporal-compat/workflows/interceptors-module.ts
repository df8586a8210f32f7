/**
 * A workflow interceptors module (`WorkerOptions.interceptors.workflowModules`),
 * written as for Temporal: it propagates a `tenant` header from the workflow's
 * start to its activities, children and continue-as-new, wraps the result with
 * the tenant it saw, hands the signal's `signaller` header to the handler, and
 * answers a `__caller` query from the query's headers.
 */
import {
  defaultPayloadConverter,
  type Next,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
  type WorkflowExecuteInput,
} from "hotmesh/workflow"

export const interceptors: WorkflowInterceptorsFactory = () => {
  let tenant: string | undefined
  const withTenant = <T extends { readonly headers: Record<string, string | undefined> }>(input: T): T =>
    tenant === undefined ? input : { ...input, headers: { ...input.headers, tenant: defaultPayloadConverter.toPayload(tenant) } }
  const inbound: WorkflowInboundCallsInterceptor = {
    async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, "execute">) {
      tenant = input.headers.tenant === undefined ? undefined : defaultPayloadConverter.fromPayload<string>(input.headers.tenant)
      return { tenant, result: await next(input) }
    },
    async handleSignal(input, next) {
      const signaller = input.headers.signaller === undefined ? "unknown" : defaultPayloadConverter.fromPayload<string>(input.headers.signaller)
      return next({ ...input, args: [signaller] })
    },
    async handleQuery(input, next) {
      if (input.queryName === "__caller") return input.headers.caller === undefined ? undefined : defaultPayloadConverter.fromPayload(input.headers.caller)
      return next(input)
    },
  }
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => next(withTenant(input)),
    startChildWorkflowExecution: (input, next) => next(withTenant(input)),
    continueAsNew: (input, next) => next(withTenant(input)),
    getLogAttributes: (input, next) => next({ ...input, tenant }),
  }
  return { inbound: [inbound], outbound: [outbound] }
}
