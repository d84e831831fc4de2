import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseObjects } from './params.ts';
import { objectVersion } from './version.ts';

const KEY = new Uint8Array(32).fill(7);
const [spec] = parseObjects('- {objectName: db-password, secretPath: secret/data/app/db, secretKey: password}\n');
const value = Buffer.from('s3cr3t-value');

describe('csi object versions', () => {
  it('depend on the key, the config and the secret version, and not on the value when a version exists', () => {
    const v1 = objectVersion(KEY, spec!, [{ path: 'secret/data/app/db', version: 1 }], value);
    assert.match(v1, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(objectVersion(KEY, spec!, [{ path: 'secret/data/app/db', version: 1 }], Buffer.from('other')), v1);
    assert.notEqual(objectVersion(KEY, spec!, [{ path: 'secret/data/app/db', version: 2 }], value), v1);
    assert.notEqual(objectVersion(new Uint8Array(32), spec!, [{ path: 'secret/data/app/db', version: 1 }], value), v1);
    const [other] = parseObjects('- {objectName: db-password, secretPath: secret/data/app/db, secretKey: password, filePermission: "0400"}\n');
    assert.notEqual(objectVersion(KEY, other!, [{ path: 'secret/data/app/db', version: 1 }], value), v1);
  });

  it('cover the value only through the key when the secret has no version, and never equal a plain hash of it', () => {
    const a = objectVersion(KEY, spec!, [{ path: 'x', version: undefined }], value);
    assert.notEqual(objectVersion(KEY, spec!, [{ path: 'x', version: undefined }], Buffer.from('other')), a);
    for (const enc of ['base64url', 'base64', 'hex'] as const) {
      assert.notEqual(a, createHash('sha256').update(value).digest(enc));
      assert.equal(a.includes(value.toString(enc)), false);
    }
  });

  it('of a template over several secrets follow every source and the alias map', () => {
    const obj = (paths: string) => parseObjects(`- {objectName: app.conf, secretPath: secret/data/app/db, template: "{{secrets.c.data.h}}", secretPaths: ${paths}}\n`)[0]!;
    const src = (v: number) => [{ path: 'secret/data/app/db', version: 1 }, { path: 'secret/data/app/redis', version: v }];
    const a = objectVersion(KEY, obj('{c: secret/data/app/redis}'), src(1), value);
    assert.notEqual(objectVersion(KEY, obj('{c: secret/data/app/redis}'), src(2), value), a);
    assert.notEqual(objectVersion(KEY, obj('{d: secret/data/app/redis}'), src(1), value), a);
  });
});
