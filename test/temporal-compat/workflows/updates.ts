// Workflows taking updates, written as Temporal's samples write them
// (message-passing/introduction, plus the failure paths).
import * as wf from "hotmesh/workflow"
import type * as activities from "../activities/updates.ts"

export interface ApproveInput {
  name: string
}

export const getLanguage = wf.defineQuery<string>("getLanguage")
export const approve = wf.defineSignal<[ApproveInput]>("approve")
export const setLanguage = wf.defineUpdate<string, [string]>("setLanguage")
export const failingUpdate = wf.defineUpdate<void, [string]>("failingUpdate")
export const stuckUpdate = wf.defineUpdate<void>("stuckUpdate")
export const abandonedUpdate = wf.defineUpdate<void>("abandonedUpdate")
export const stop = wf.defineSignal("stop")

const { callGreetingService } = wf.proxyActivities<typeof activities>({ startToCloseTimeout: "10 seconds" })

export async function greetingWorkflow(): Promise<string> {
  const greetings: Record<string, string> = { chinese: "你好，世界", english: "Hello, world" }
  let language = "english"
  let approvedForRelease = false

  wf.setHandler(getLanguage, () => language)

  wf.setHandler(
    setLanguage,
    async (newLanguage: string) => {
      if (!(newLanguage in greetings)) {
        const greeting = await callGreetingService(newLanguage)
        if (!greeting) {
          throw new wf.ApplicationFailure(`${newLanguage} is not supported by the greeting service`)
        }
        greetings[newLanguage] = greeting
      }
      const previousLanguage = language
      language = newLanguage
      return previousLanguage
    },
    {
      validator: (newLanguage: string) => {
        if (newLanguage === "") {
          throw new Error("Language must not be empty")
        }
      },
      description: "Set the language of the greeting",
    },
  )

  wf.setHandler(failingUpdate, (reason: string) => {
    throw wf.ApplicationFailure.nonRetryable(reason, "UpdateRefused")
  })

  wf.setHandler(approve, () => {
    approvedForRelease = true
  })

  await wf.condition(() => approvedForRelease && wf.allHandlersFinished())
  return greetings[language]!
}

/** Returns on `stop`, leaving update handlers running: the default policy warns, ABANDON does not. */
export async function impatientWorkflow(): Promise<string> {
  let stopped = false
  wf.setHandler(stuckUpdate, async () => {
    await wf.condition(() => false)
  })
  wf.setHandler(
    abandonedUpdate,
    async () => {
      await wf.condition(() => false)
    },
    { unfinishedPolicy: wf.HandlerUnfinishedPolicy.ABANDON },
  )
  wf.setHandler(stop, () => {
    stopped = true
  })
  await wf.condition(() => stopped)
  return wf.allHandlersFinished() ? "all done" : "left handlers running"
}
