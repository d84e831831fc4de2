/**
 * The CLI's exit-code contract (STYLE.md): 0 ok, 1 usage error, 2 runtime error, with not-found
 * answers in the runtime class whatever the noun; and the unseal prompt's repeat-share notice.
 * One real server per describe, as users run it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../../test/harness/arca.ts';
import { tempDir } from '../../test/harness/index.ts';
import { cliDevServer, runArca } from './testing.ts';

describe('arca exit codes', () => {
  let srv: ArcaProcess;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ({ srv, env } = await cliDevServer());
  });
  after(() => srv.stop());

  it('exits 0 when the command did what was asked', async () => {
    const r = await runArca(env, ['secret', 'put', 'secret/exit/ok', 'k=v']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('exits 1 for usage errors: bad flags, missing arguments, unknown commands', async () => {
    for (const args of [['secret', 'put', 'secret/exit/x', 'novalue'], ['key', 'list', '-o', 'xml'], ['policy'], ['no-such-command']]) {
      const r = await runArca(env, args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('exits 2 with a message naming what is missing, for every kind of not-found', async () => {
    const cases: [string[], RegExp][] = [
      [['policy', 'read', 'nope'], /^error: ERR_NOT_FOUND: no policy named nope\n$/],
      [['key', 'show', 'nothere'], /^error: ERR_NOT_FOUND: no key named nothere on transit\/\n$/],
      [['secret', 'get', 'secret/exit/nothere'], /^error: ERR_NOT_FOUND: \S+/],
      [['secret', 'get', 'secret/exit/ok', '--version', '9'], /^error: ERR_NOT_FOUND: secret\/exit\/ok has no version 9\n$/],
      // The README's old mistake: the mount left out. The error names the mounts that exist.
      [['secret', 'put', 'app/db', 'password=x'], /^error: ERR_NOT_FOUND: nothing is mounted at app\/; PATH starts with a mount \(.*secret\/.*\), e.g. secret\/app\/db\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await runArca(env, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  it('exits 2 for runtime failures: an unreachable server, a refused token', async () => {
    const down = await runArca({ ...env, ARCA_ADDR: 'http://127.0.0.1:1' }, ['secret', 'get', 'secret/exit/ok']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /ERR_SERVER_UNREACHABLE/);
    const refused = await runArca({ ...env, ARCA_TOKEN: 'not-a-token' }, ['secret', 'get', 'secret/exit/ok']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ERR_/);
    assert.doesNotMatch(refused.stderr, /hint/, 'a token was given: no hint about setting one');
    const { ARCA_TOKEN: _, ...noToken } = env;
    const anonymous = await runArca(noToken, ['secret', 'get', 'secret/exit/ok']);
    assert.equal(anonymous.code, 2);
    assert.match(anonymous.stderr, /hint: no token was sent: set ARCA_TOKEN/);
  });
});

describe('arca operator unseal', () => {
  let srv: ArcaProcess;
  let dir: { path: string; remove(): Promise<void> };
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dir = await tempDir('arca-unseal-cli-');
    srv = await startArca({ args: ['--data-dir', dir.path] });
    const { ARCA_TOKEN: _t, VAULT_TOKEN: _v, ...base } = process.env;
    env = { ...base, ARCA_ADDR: srv.addr };
  });
  after(async () => {
    await srv.stop();
    await dir.remove();
  });

  it('says so when the same share is given twice, and unseals with a different one', async () => {
    const init = await runArca(env, ['operator', 'init', '--key-shares', '3', '--key-threshold', '2']);
    assert.equal(init.code, 0, init.stderr);
    const shares = [...init.out.matchAll(/^Unseal Key \d+: (\S+)$/gm)].map((m) => m[1]!);
    assert.equal(shares.length, 3);
    const first = await runArca(env, ['operator', 'unseal', shares[0]!]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.out, /Unseal Progress\s+1\/2/);
    const again = await runArca(env, ['operator', 'unseal', shares[0]!]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /ERR_SEAL_SHARE_DUPLICATE/);
    assert.equal(again.stderr.includes(shares[0]!), false, 'the share is never echoed');
    const second = await runArca(env, ['operator', 'unseal', shares[1]!]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.out, /Sealed\s+false/);
  });
});
