/**
 * Worker-thread side of ClassifyPool: builds the provider chains from the config text once, then
 * classifies pages of (key, value) sent by the main thread. Only classifications go back, never
 * plaintext.
 */
import { parentPort } from 'node:worker_threads';
import type { Classified } from './classify.ts';
import { classify } from './classify.ts';
import { buildTransformers, type EncryptionTransformers, parseEncryptionConfig } from './deps.ts';
import { type PoolRequest, type PoolResponse, packResults, transferList } from './classify-pool.ts';

let t: EncryptionTransformers | undefined;
let prefix = '/registry/';

const port = parentPort;
if (port) {
  port.on('message', async (m: PoolRequest) => {
    if (m.type === 'init') {
      prefix = m.prefix;
      t = buildTransformers(parseEncryptionConfig(m.configText), { kmsV1: true });
      await t.refreshKms().catch(() => undefined);
      port.postMessage({ type: 'ready' } satisfies PoolResponse);
      return;
    }
    if (m.type === 'close') {
      t?.close();
      port.close();
      return;
    }
    const data = new Uint8Array(m.data);
    const out: Classified[] = [];
    for (let i = 0; i < m.keys.length; i++) {
      const c = await classify(m.keys[i]!, data.subarray(m.offsets[i]!, m.offsets[i + 1]!), prefix, t!);
      out.push(c);
    }
    const results = packResults(out);
    port.postMessage({ type: 'page', id: m.id, results } satisfies PoolResponse, transferList(results));
  });
}
