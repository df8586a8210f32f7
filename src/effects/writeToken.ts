/**
 * Write tokens: the name of one state write (`Commit.token`), unique across
 * every process and every restart, so a store that loses recent writes and
 * hands out the same version numbers again never hands out the same token.
 *
 * A token is this process's nonce (64 random bits, drawn once from the OS)
 * and a counter. Not Effect's `Random`: a seeded `Random` — as a test or a
 * user may provide — repeats its sequence in every process that uses the
 * seed, and the default one is `Math.random`, which workflow code in this
 * process replaces with its own seeded generator. Neither may decide whether
 * two writes are the same.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"

const nonce = randomBytes(8).toString("hex")
let counter = 0

/** A token no other state write has (or will have): `<process nonce>.<counter>`. Draws one (the counter moves on). */
export const drawWriteToken = (): string => `${nonce}.${(++counter).toString(36)}`

/** `drawWriteToken` as an effect. */
export const nextWriteToken: Effect.Effect<string> = Effect.sync(drawWriteToken)
