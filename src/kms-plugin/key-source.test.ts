import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { roundTrip } from './key-source.ts';
import { MemoryKeySource } from './testing.ts';

describe('roundTrip (the probe of every key source)', () => {
  it('passes when unwrap gives back the wrapped value', async () => {
    await roundTrip(new MemoryKeySource(), 'ERR_HSM_UNAVAILABLE', 'different bytes');
  });

  it("fails with the source's code when unwrap gives back other bytes or another length", async () => {
    const src = new MemoryKeySource();
    const unwrap = src.unwrap.bind(src);
    src.unwrap = async (id, w) => {
      const v = await unwrap(id, w);
      v[0]! ^= 1;
      return v;
    };
    await assert.rejects(roundTrip(src, 'ERR_KMS_PLUGIN_RESPONSE', 'different bytes'), (e) => isArcaError(e, 'ERR_KMS_PLUGIN_RESPONSE'));
    src.unwrap = async () => new Uint8Array(31);
    await assert.rejects(roundTrip(src, 'ERR_HSM_UNAVAILABLE', 'different bytes'), (e) => isArcaError(e, 'ERR_HSM_UNAVAILABLE'));
  });
});
