/** A TypeScript workflow whose `charge` activity runs in Python (examples/python/charge.py). */
import { ActivityFailure, proxyActivities } from "hotmesh/workflow"

const { charge } = proxyActivities<{ charge(order: string, cents: number): Promise<{ order: string; charged: number }> }>({
  taskQueue: "legacy",
  startToCloseTimeout: "1 minute",
})

export async function checkout(order: string, cents: number): Promise<string> {
  try {
    const receipt = await charge(order, cents)
    return `charged ${receipt.charged} for ${receipt.order}`
  } catch (error) {
    if (error instanceof ActivityFailure) return `not charged: ${error.cause?.message ?? error.message}`
    throw error
  }
}
