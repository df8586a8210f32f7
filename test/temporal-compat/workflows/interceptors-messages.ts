/** Workflows of the update and external-signal interceptor tests, written as for Temporal. */
import { condition, defineSignal, defineUpdate, getExternalWorkflowHandle, setHandler } from "hotmesh/workflow"

export const rename = defineUpdate<string, [string]>("rename")
export const finish = defineSignal("finish")
export const note = defineSignal<[string]>("note")

/** Takes `rename` updates (the validator refuses an empty name) until `finish`; returns the last name. */
export async function renamer(): Promise<string> {
  let name = "initial"
  let finished = false
  setHandler(rename, (next) => {
    const previous = name
    name = next
    return previous
  }, {
    validator: (next) => {
      if (next === "") throw new Error("a name must not be empty")
    },
  })
  setHandler(finish, () => void (finished = true))
  await condition(() => finished)
  return name
}

/** Waits for a `note` signal and returns what its handler got. */
export async function noteTaker(): Promise<string> {
  let got: string | undefined
  setHandler(note, (text) => void (got = text))
  await condition(() => got !== undefined)
  return got!
}

/** Signals `note(text)` to workflow `targetId`. */
export async function noteSender(targetId: string, text: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).signal(note, text)
  return "sent"
}
