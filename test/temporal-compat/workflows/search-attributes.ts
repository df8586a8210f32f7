/**
 * Workflows of the search-attributes compat tests, written as Temporal
 * workflows are (only the package name differs: `hotmesh/workflow` for
 * `@temporalio/workflow`).
 */
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSearchAttributeKey,
  defineSignal,
  executeChild,
  makeContinueAsNewFunc,
  SearchAttributeType,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from "hotmesh/workflow"

export const stageKey = defineSearchAttributeKey("OrderStage", SearchAttributeType.KEYWORD)
export const priorityKey = defineSearchAttributeKey("OrderPriority", SearchAttributeType.INT)
export const tagsKey = defineSearchAttributeKey("OrderTags", SearchAttributeType.KEYWORD_LIST)

export const setStageSignal = defineSignal<[string | null]>("setStage")
export const finishSignal = defineSignal("finish")
export const infoQuery = defineQuery<{ stage?: string; priority?: number; memo?: Record<string, unknown> }>("info")

/** Sets its stage from signals (null removes it), keeping the memo in step. */
export async function orderWorkflow(): Promise<string> {
  let finished = false
  setHandler(setStageSignal, (stage) => {
    upsertSearchAttributes([{ key: stageKey, value: stage }])
    upsertMemo({ lastStage: stage })
  })
  setHandler(finishSignal, () => void (finished = true))
  setHandler(infoQuery, () => {
    const { typedSearchAttributes, memo } = workflowInfo()
    const stage = typedSearchAttributes.get(stageKey)
    const priority = typedSearchAttributes.get(priorityKey)
    return { ...(stage === undefined ? {} : { stage }), ...(priority === undefined ? {} : { priority }), ...(memo === undefined ? {} : { memo }) }
  })
  upsertSearchAttributes([{ key: priorityKey, value: 1 }, { key: tagsKey, value: ["new"] }])
  await condition(() => finished)
  return workflowInfo().typedSearchAttributes.get(stageKey) ?? "none"
}

/** A bad value is rejected at the call, where workflow code can catch it. */
export async function badUpsertWorkflow(): Promise<Array<string>> {
  const errors: Array<string> = []
  try {
    upsertSearchAttributes([{ key: priorityKey, value: 1.5 }])
  } catch (err) {
    errors.push(`${(err as Error).name}: ${(err as Error).message}`)
  }
  try {
    makeContinueAsNewFunc({ workflowTaskTimeout: "1 minute" } as Parameters<typeof makeContinueAsNewFunc>[0])
  } catch (err) {
    errors.push(`${(err as Error).name}: ${(err as Error).message}`)
  }
  // Nothing was applied by the failed calls.
  errors.push(`priority ${String(workflowInfo().typedSearchAttributes.get(priorityKey))}`)
  return errors
}

export async function childWorkflow(): Promise<string | undefined> {
  return workflowInfo().typedSearchAttributes.get(stageKey)
}

export async function parentWorkflow(childId: string): Promise<string | undefined> {
  return executeChild(childWorkflow, { workflowId: childId, typedSearchAttributes: [{ key: stageKey, value: "child" }], memo: { parent: workflowInfo().workflowId } })
}

/** Upserts, continues as new (inheriting), then continues with replaced attributes. */
export async function loopingWorkflow(iteration: number): Promise<string> {
  if (iteration === 0) {
    upsertSearchAttributes([{ key: stageKey, value: "looping" }])
    await continueAsNew<typeof loopingWorkflow>(1)
  }
  if (iteration === 1) {
    const inherited = workflowInfo().typedSearchAttributes.get(stageKey)
    const next = makeContinueAsNewFunc<typeof loopingWorkflow>({ typedSearchAttributes: [{ key: stageKey, value: `after-${String(inherited)}` }] })
    await next(2)
  }
  return workflowInfo().typedSearchAttributes.get(stageKey) ?? "none"
}
