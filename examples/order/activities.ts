/**
 * The order's activities: plain async functions with side effects. They may
 * run more than once (at-least-once), so each passes an idempotency key to
 * the systems it calls.
 */
import { ApplicationFailure } from "hotmesh"
import { Context } from "hotmesh/activity"

/** Charge the card. The payment network times out twice before it answers (the retry policy absorbs it). */
export async function charge(orderId: string, amountCents: number): Promise<string> {
  const { attempt, idempotencyKey } = Context.current().info
  if (amountCents <= 0) throw ApplicationFailure.nonRetryable(`invalid amount ${amountCents}`, "InvalidAmount")
  if (attempt < 3) throw ApplicationFailure.retryable(`payment network timeout (attempt ${attempt})`, "NetworkTimeout")
  return `ch_${orderId}_${idempotencyKey.length}`
}

/** Create a shipping label. */
export async function createLabel(orderId: string): Promise<string> {
  return `1Z-${orderId.toUpperCase()}`
}

/** Tell the customer. */
export async function notifyCustomer(orderId: string, message: string): Promise<void> {
  void orderId
  void message
}

/** Give the money back. */
export async function refund(chargeId: string): Promise<string> {
  return `re_${chargeId}`
}
