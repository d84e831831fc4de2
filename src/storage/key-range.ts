/**
 * Range-scan bounds for prefix listing. SQL backends list with `key >= prefix AND key < upper`
 * instead of LIKE/GLOB so that `%`, `_` and `*` in keys are plain characters and the primary-key
 * index is used. Both SQLite (BINARY) and PostgreSQL (COLLATE "C") compare UTF-8 bytes, and UTF-8
 * byte order is code-point order, so the bound is computed on code points.
 */

/**
 * The smallest string, in code-point order, greater than every string that starts with `prefix`:
 * the prefix with its last code point incremented (dropping trailing U+10FFFF, skipping the
 * surrogate block). `undefined` when there is no upper bound (empty prefix).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      let next = last + 1;
      if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}
