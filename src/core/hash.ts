/**
 * The hash that places things in the store's layout: workflow ids on
 * partitions (Redis keys), fairness keys on lanes (`lanes.ts`). Pure, and
 * stable across versions: it names Redis keys, so changing it would move
 * existing data.
 */

/**
 * FNV-1a (32 bit) of the UTF-8 bytes of `text`.
 * The bytes are what `TextEncoder` gives (a lone surrogate as U+FFFD), computed in place:
 * this runs several times per step, and an encoder allocates.
 */
export const fnv1a32 = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c < 0x80) {
      hash = Math.imul(hash ^ c, 0x01000193)
      continue
    }
    if (c < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (c >> 6)), 0x01000193)
      hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), 0x01000193)
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const point = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
        hash = Math.imul(hash ^ (0xf0 | (point >> 18)), 0x01000193)
        hash = Math.imul(hash ^ (0x80 | ((point >> 12) & 0x3f)), 0x01000193)
        hash = Math.imul(hash ^ (0x80 | ((point >> 6) & 0x3f)), 0x01000193)
        hash = Math.imul(hash ^ (0x80 | (point & 0x3f)), 0x01000193)
        continue
      }
      c = 0xfffd // a lone surrogate
    }
    hash = Math.imul(hash ^ (0xe0 | (c >> 12)), 0x01000193)
    hash = Math.imul(hash ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193)
    hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), 0x01000193)
  }
  return hash >>> 0
}
