/**
 * Process-crash durability: acknowledged SQLite writes survive kill -9. A child process writes with
 * several puts in flight and reports each key only after its put resolved; we SIGKILL it at a random
 * moment, reopen the file and check that every reported key holds exactly the reported value.
 *
 * What this cannot show: survival of a power loss or kernel crash. A killed process leaves its
 * writes in the OS page cache, so this test would pass without any fsync at all. Power-loss safety
 * rests on synchronous=FULL (an fsync of the WAL per commit, see sqlite.ts) and on the disk honouring
 * fsync — argued there, not tested; the last tests here only pin that configuration. A third of the
 * writer's writes are relaxed commits, which must survive kill -9 just the same.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/harness/index.ts';
import { SqliteStorage } from './sqlite.ts';

const WRITER = fileURLToPath(new URL('../../test/fixtures/storage-writer.ts', import.meta.url));
const CYCLES = 20;

interface Cycle {
  acked: Map<string, string>;
  signal: NodeJS.Signals | null;
}

/** Runs one writer, kills it `killAfterMs` after it reports ready, returns the keys it acknowledged. */
function runWriter(db: string, killAfterMs: number): Promise<Cycle> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-deprecation', '--import', 'tsx', WRITER, db, '8'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Map<string, string>();
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready') {
          timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        } else {
          const [k, v] = line.split(' ');
          if (k && v) acked.set(k, v);
        }
        nl = buf.indexOf('\n');
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    // 'close' (not 'exit') so that every line the child wrote to the pipe has been read.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (${String(signal)}): ${stderr}`));
      else resolve({ acked, signal });
    });
  });
}

describe('SqliteStorage durability across a process crash (kill -9)', () => {
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    dir = await tempDir('arca-durability-');
  });
  after(async () => {
    await dir.remove();
  });

  it(`keeps every acknowledged write across ${CYCLES} kill -9 cycles`, { timeout: 60_000 }, async () => {
    const db = `${dir.path}/dur.db`;
    let total = 0;
    for (let i = 0; i < CYCLES; i++) {
      // The child needs a few hundred ms to load tsx; the kill lands 20–300 ms after its first put.
      const { acked } = await runWriter(db, randomInt(20, 300));
      const s = SqliteStorage.open(db);
      try {
        for (const [key, hex] of acked) {
          const got = await s.get(key);
          assert.ok(got, `cycle ${i}: acknowledged key ${key} is missing`);
          assert.equal(Buffer.from(got).toString('hex'), hex, `cycle ${i}: wrong value for ${key}`);
        }
      } finally {
        await s.close();
      }
      total += acked.size;
    }
    // Guard against a vacuous pass: the writers must actually have acknowledged writes.
    assert.ok(total > CYCLES * 5, `only ${total} writes were acknowledged`);
  });

  it('runs with the settings the power-loss argument relies on: WAL and synchronous=FULL', async () => {
    const s = SqliteStorage.open(`${dir.path}/settings.db`);
    try {
      assert.deepEqual(s.durabilitySettings(), { journalMode: 'wal', synchronous: 'FULL' });
    } finally {
      await s.close();
    }
  });

  it('returns to synchronous=FULL after a relaxed commit, and after one that failed its expectation', async () => {
    const s = SqliteStorage.open(`${dir.path}/relaxed.db`);
    try {
      assert.equal(await s.commit({ puts: [['k', new Uint8Array([1])]], durability: 'relaxed' }), true);
      assert.deepEqual(s.durabilitySettings(), { journalMode: 'wal', synchronous: 'FULL' });
      assert.equal(await s.commit({ puts: [['k', new Uint8Array([2])]], expect: [['k', undefined]], durability: 'relaxed' }), false);
      assert.deepEqual(s.durabilitySettings(), { journalMode: 'wal', synchronous: 'FULL' });
    } finally {
      await s.close();
    }
  });
});
