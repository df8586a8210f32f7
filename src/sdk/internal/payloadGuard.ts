/**
 * The connection's payload size limits, applied where a payload set is
 * encoded (client calls, workflow commands, activity results and heartbeat
 * details), with a warning logged once per call site above `warnBytes`.
 */
import { checkPayloadSize, defaultPayloadLimits, type Payload, payloadBytes, type PayloadLimits } from "../../core/payload.ts"

/** Checks payload sets against one connection's limits; throws `PayloadSizeLimitError` above `errorBytes`. */
export class PayloadGuard {
  readonly #warned = new Set<string>()
  constructor(
    readonly limits: PayloadLimits = defaultPayloadLimits,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  /** Check `payloads` (named `label`, which is also the call site warned about once). */
  check(payloads: ReadonlyArray<Payload>, label: string): void {
    if (checkPayloadSize(payloads, label, this.limits) === "ok" || this.#warned.has(label)) return
    this.#warned.add(label)
    this.warn(
      `${label} is ${payloadBytes(payloads)} bytes, over the payload warning size of ${this.limits.warnBytes} bytes ` +
        `(refused above ${this.limits.errorBytes}); logged once per call site`,
    )
  }
}
