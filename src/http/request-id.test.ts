import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestIdGenerator } from './request-id.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdGenerator', () => {
  it('gives distinct ids in UUID form within a process', () => {
    const next = requestIdGenerator();
    const ids = Array.from({ length: 10_000 }, next);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, UUID);
  });

  it('gives distinct ids across restarts: each generator has its own random prefix', () => {
    const firsts = Array.from({ length: 1000 }, () => requestIdGenerator()());
    assert.equal(new Set(firsts).size, firsts.length);
  });
});
