import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS } from './registry.ts';

describe('command registry', () => {
  it('names every command once (commander refuses a duplicate, so the CLI would not start)', () => {
    const names = COMMANDS.map((c) => c.name);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
  });
});
