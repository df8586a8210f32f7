/** Activities of the failure-category compat test, as a Temporal user writes them. */
import { ApplicationFailure, ApplicationFailureCategory } from "hotmesh"

export async function expectedDecline(): Promise<never> {
  throw ApplicationFailure.create({ message: "card declined", type: "Declined", nonRetryable: true, category: ApplicationFailureCategory.BENIGN })
}

export async function realBug(): Promise<never> {
  throw ApplicationFailure.create({ message: "ledger corrupt", type: "Ledger", nonRetryable: true })
}
