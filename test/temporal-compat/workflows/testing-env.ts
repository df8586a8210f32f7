/** Workflows of the testing-env compat test, written as for Temporal. */
import { sleep } from "hotmesh/workflow"

export async function napThenAnswer(): Promise<string> {
  await sleep("30 days")
  return "rested"
}

/** A bug: calls a function that does not exist (the workflow task fails and is retried with backoff). */
export async function buggy(): Promise<string> {
  const missing = undefined as unknown as () => string
  return missing()
}
