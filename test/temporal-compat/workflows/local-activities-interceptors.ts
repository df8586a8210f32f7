/**
 * A workflow interceptors module for local activities: `scheduleLocalActivity`
 * (not `scheduleActivity`) sees each `proxyLocalActivities` call and adds a
 * `via` header, which reaches the activity's inbound `execute`.
 */
import { defaultPayloadConverter, type WorkflowInterceptorsFactory } from "hotmesh/workflow"

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [{
    scheduleLocalActivity: (input, next) => next({ ...input, headers: { ...input.headers, via: defaultPayloadConverter.toPayload(`scheduleLocalActivity ${input.activityType}`) } }),
    scheduleActivity: (input, next) => next({ ...input, headers: { ...input.headers, via: defaultPayloadConverter.toPayload(`scheduleActivity ${input.activityType}`) } }),
  }],
})
