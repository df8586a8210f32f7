/**
 * The order workflow: charge (with retries), wait for an approval signal,
 * ship through a child workflow, then wait out the return window — as plain
 * async code. Every `await` below is durable.
 */
import { condition, defineQuery, defineSignal, executeChild, proxyActivities, setHandler, sleep } from "hotmesh/workflow"
import type * as activities from "./activities.ts"

const { charge, createLabel, notifyCustomer, refund } = proxyActivities<typeof activities>({
  startToCloseTimeout: "10s",
  retry: { initialInterval: "200ms", backoffCoefficient: 2, maximumInterval: "5s", maximumAttempts: 5, nonRetryableErrorTypes: ["InvalidAmount"] },
})

/** Sent by a person (or another system) to approve the order. */
export const approve = defineSignal<[by: string]>("approve")
/** Where the order is. */
export const status = defineQuery<string>("status")

/** What the order workflow takes. */
export interface OrderInput {
  readonly orderId: string
  readonly amountCents: number
  /** How long the return window lasts, e.g. "30 days". */
  readonly returnWindow: string
}

/** What it returns. */
export interface OrderResult {
  readonly status: "completed" | "rejected"
  readonly chargeId: string
  readonly tracking?: string
  readonly approvedBy?: string
}

export async function order(input: OrderInput): Promise<OrderResult> {
  let approvedBy: string | undefined
  let state = "charging"
  setHandler(approve, (by) => {
    approvedBy = by
  })
  setHandler(status, () => state)

  const chargeId = await charge(input.orderId, input.amountCents)

  state = "awaiting approval"
  if (!(await condition(() => approvedBy !== undefined, "1 day"))) {
    await refund(chargeId)
    return { status: "rejected", chargeId }
  }

  state = "shipping"
  const tracking = await executeChild(shipping, { args: [input.orderId], workflowId: `ship-${input.orderId}` })

  state = "in return window"
  await sleep(input.returnWindow)

  state = "completed"
  return { status: "completed", chargeId, tracking, approvedBy: approvedBy! }
}

/** The child workflow: label, then tell the customer. */
export async function shipping(orderId: string): Promise<string> {
  const tracking = await createLabel(orderId)
  await notifyCustomer(orderId, `shipped: ${tracking}`)
  return tracking
}
