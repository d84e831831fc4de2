import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListen } from './injector.ts';
import { runArca } from './testing.ts';

describe('arca injector flags', () => {
  it('parses --listen forms', () => {
    assert.deepEqual(parseListen(':8443'), { host: '0.0.0.0', port: 8443 });
    assert.deepEqual(parseListen('127.0.0.1:9'), { host: '127.0.0.1', port: 9 });
    assert.deepEqual(parseListen('[::]:8443'), { host: '::', port: 8443 });
    assert.deepEqual(parseListen('8443'), { host: '0.0.0.0', port: 8443 });
    for (const bad of ['', ':', 'x:y', ':70000', 'host:']) assert.throws(() => parseListen(bad), /--listen/);
  });

  it('refuses missing or invalid flags with exit code 1 and says what to add', async () => {
    const env = { ...process.env };
    const cases: Array<[string[], RegExp]> = [
      [['injector'], /--tls-cert and --tls-key are required/],
      [['injector', '--tls-cert', 'a', '--tls-key', 'b'], /--arca-addr/],
      [['injector', '--tls-cert', 'a', '--tls-key', 'b', '--arca-addr', 'ftp://x'], /http\(s\) URL/],
      [['injector', '--tls-cert', 'a', '--tls-key', 'b', '--arca-addr', 'https://x', '--agent-image', 'i', '--token-expiry', '1m'], /--token-expiry/],
      [['injector', '--tls-cert', 'a', '--tls-key', 'b', '--arca-addr', 'https://x', '--agent-image', 'i', '--default-sidecar', 'x'], /--default-sidecar/],
      [['injector', 'certs', '--service', 'Bad_Name', '--out-dir', '/nonexistent'], /--service must be a DNS label/],
    ];
    for (const [args, re] of cases) {
      const r = await runArca(env, args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
