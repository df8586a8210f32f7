/** The activities of bench/chaos/workflows.ts. */
import type { ChaosActivities } from "./workflows.ts"

/** The chaos activities: a short wait, then a value derived from the input. */
export const activities: ChaosActivities = {
  async step(id, n) {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return `${id}.${n}`
  },
}
