/**
 * RFC 6902 operations relative to the incoming object, with the two rules that bite pod injectors
 * (kubernetes-integration.md §1.4): `add` needs its parent, so a missing array or map is created
 * whole; and JSON Pointer tokens escape `~` before `/` (RFC 6901), so `arca.dev/status` becomes
 * `arca.dev~1status`. Operations are emitted in the order the API server applies them.
 */

export type PatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...tokens: Array<string | number>): string {
  return tokens.map((t) => `/${escapePointer(String(t))}`).join('');
}

export class PatchBuilder {
  readonly ops: PatchOp[] = [];

  /** Appends `items` to the array at `path`, creating it when the incoming object has none. */
  append(path: string, existing: readonly unknown[] | undefined, items: readonly unknown[]): void {
    if (items.length === 0) return;
    if (existing === undefined) {
      this.ops.push({ op: 'add', path, value: [...items] });
      return;
    }
    for (const v of items) this.ops.push({ op: 'add', path: `${path}/-`, value: v });
  }

  /** Inserts `items` at the front in their order, keeping the user's entries after them. */
  prepend(path: string, existing: readonly unknown[] | undefined, items: readonly unknown[]): void {
    if (items.length === 0) return;
    if (existing === undefined) {
      this.ops.push({ op: 'add', path, value: [...items] });
      return;
    }
    items.forEach((v, i) => {
      this.ops.push({ op: 'add', path: `${path}/${i}`, value: v });
    });
  }

  /** Sets keys of the map at `path`, creating the map when absent. */
  setKeys(path: string, existing: Record<string, unknown> | undefined, entries: Record<string, string>): void {
    if (existing === undefined) {
      this.ops.push({ op: 'add', path, value: { ...entries } });
      return;
    }
    for (const [k, v] of Object.entries(entries)) this.ops.push({ op: 'add', path: `${path}/${escapePointer(k)}`, value: v });
  }

  /** Removes array entries by index; highest first, so each index still names the entry the caller meant. */
  removeIndexes(path: string, indexes: readonly number[]): void {
    for (const i of [...indexes].sort((a, b) => b - a)) this.ops.push({ op: 'remove', path: `${path}/${i}` });
  }

  set(path: string, exists: boolean, value: unknown): void {
    this.ops.push({ op: exists ? 'replace' : 'add', path, value });
  }
}
