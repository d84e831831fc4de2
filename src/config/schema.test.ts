/**
 * The server config's range checks, through the one loader: a value out of range is refused with
 * ERR_CONFIG_INVALID naming the field, never clamped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { parseConfig } from './load.ts';

describe('server config', () => {
  it('defaults the expiry sweep to one a minute and takes 10 s to 24 h', () => {
    assert.equal(parseConfig({}).expirySweep.intervalSeconds, 60);
    assert.equal(parseConfig({ expirySweep: { intervalSeconds: 10 } }).expirySweep.intervalSeconds, 10);
    assert.equal(parseConfig({ expirySweep: { intervalSeconds: 86_400 } }).expirySweep.intervalSeconds, 86_400);
    for (const bad of [0, 9, 86_401, 1.5, '60', -60]) {
      assert.throws(
        () => parseConfig({ expirySweep: { intervalSeconds: bad } }),
        (err: unknown) => isArcaError(err) && err.code === 'ERR_CONFIG_INVALID' && err.message.includes('expirySweep.intervalSeconds'),
        String(bad),
      );
    }
    assert.throws(() => parseConfig({ expirySweep: { interval: 60 } }), /expirySweep/, 'an unknown key is refused, not ignored');
  });
});
