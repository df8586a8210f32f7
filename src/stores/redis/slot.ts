/**
 * Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash tag,
 * modulo 16384 — the exact rule of the Redis Cluster specification.
 *
 * The Redis store puts every key of a partition under one hash tag
 * (`{<namespace>:p<n>}`), so every script it runs touches a single slot. The
 * tests use `keySlot` to check that claim for every script invocation.
 */

/** Number of hash slots in a Redis Cluster. */
export const CLUSTER_SLOTS = 16384

const TABLE: ReadonlyArray<number> = (() => {
  const table: Array<number> = []
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    }
    table.push(crc)
  }
  return table
})()

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0) of `bytes`. */
export const crc16 = (bytes: Uint8Array): number => {
  let crc = 0
  for (const byte of bytes) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0)
  }
  return crc
}

const encoder = new TextEncoder()

/**
 * The part of `key` that is hashed: the content of the first `{...}` when it
 * is non-empty (the hash-tag rule), otherwise the whole key.
 */
export const hashTagOf = (key: string): string => {
  const open = key.indexOf("{")
  if (open === -1) return key
  const close = key.indexOf("}", open + 1)
  if (close === -1 || close === open + 1) return key
  return key.slice(open + 1, close)
}

/** The Redis Cluster slot (0..16383) of `key`. */
export const keySlot = (key: string): number => crc16(encoder.encode(hashTagOf(key))) % CLUSTER_SLOTS
