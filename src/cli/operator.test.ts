/**
 * `arca operator` reads a key share typed at a terminal without echoing it. A real pseudo-terminal
 * comes from util-linux's `script`; the share is typed once the prompt has appeared, as a person
 * would, and the terminal's output (what the screen and the scrollback get) is checked for it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { ARCA_BIN, type ArcaProcess, initUnsealed, startArca } from '../../test/harness/arca.ts';
import { tempDir } from '../../test/harness/index.ts';

/** Runs `args` on a pseudo-terminal, types `line` once `prompt` shows, and answers all the terminal showed. */
function typeAtPrompt(env: NodeJS.ProcessEnv, args: string[], prompt: string, line: string): Promise<{ code: number | null; screen: string }> {
  const command = [ARCA_BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let typed = false;
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      if (!typed && screen.includes(prompt)) {
        typed = true;
        child.stdin.write(`${line}\r`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

describe('arca operator: key shares typed at a terminal', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let key: string;

  before(async () => {
    dir = await tempDir();
    srv = await startArca({ args: ['--data-dir', dir.path] });
    ({ key } = await initUnsealed(srv));
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('takes the share without echoing it (generate-root --nonce)', async () => {
    const { nonce } = (await srv.client().write('sys/generate-root/attempt', {})).body as { nonce: string };
    const { VAULT_TOKEN: _t, VAULT_ADDR: _a, ARCA_TOKEN: _r, ...base } = process.env;
    const r = await typeAtPrompt({ ...base, ARCA_ADDR: srv.addr }, ['operator', 'generate-root', '--nonce', nonce], 'Unseal Key (will be hidden): ', key);
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Encoded Token\s+\S+/, 'the typed share completed the generation');
    assert.equal(r.screen.includes(key), false, 'the share was echoed to the terminal');
  });
});
