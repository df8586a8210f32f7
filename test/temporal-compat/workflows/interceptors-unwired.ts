/**
 * A workflow interceptors module with a method HotMesh does not call yet
 * (`handleUpdate`): the run refuses it rather than never calling it.
 */
import type { WorkflowInterceptorsFactory } from "hotmesh/workflow"

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [{ handleUpdate: (input, next) => next(input) }],
})
