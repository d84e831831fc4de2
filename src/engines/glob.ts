/**
 * The one glob matcher of the auth methods and engines: `*` matches any run of characters, anywhere
 * in the pattern (Go's `github.com/ryanuber/go-glob` as Vault uses it for bound service accounts,
 * certificate names and PKI globs); there are no other metacharacters. Policy parameter globs are
 * Vault's narrower GlobbedStringsMatch (leading/trailing `*` only) and live in policy/parameters.ts.
 * PURE, no regular expression: a pattern from a request can cost no more than a scan of the value.
 */
export function globMatch(pattern: string, value: string, o: { ignoreCase?: boolean } = {}): boolean {
  if (o.ignoreCase) {
    pattern = pattern.toLowerCase();
    value = value.toLowerCase();
  }
  if (pattern === '*') return true;
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === value;
  const first = parts[0]!;
  if (!value.startsWith(first)) return false;
  let pos = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const idx = value.indexOf(parts[i]!, pos);
    if (idx < 0) return false;
    pos = idx + parts[i]!.length;
  }
  const last = parts[parts.length - 1]!;
  return value.length - pos >= last.length && value.endsWith(last);
}
