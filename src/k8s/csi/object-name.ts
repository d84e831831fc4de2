/**
 * objectName is the relative path of a file in the pod's volume. The driver refuses (and the
 * kubelet volume would be at risk from) anything but a clean relative path, so the provider checks
 * the same rules before it reads a single secret: not absolute, no `..` element, already in cleaned
 * form (no `./`, no doubled or trailing `/`), as the driver's `fileutil.Validate` does.
 */
import { posix } from 'node:path';
import { ArcaError } from '../../errors/index.ts';

/** Kernel NAME_MAX; longer path elements cannot be created on tmpfs. */
const MAX_ELEMENT = 255;
const MAX_PATH = 1024;

/** Throws ERR_CSI_OBJECT_NAME_INVALID naming the object's position (the name itself may be garbage). */
export function checkObjectName(name: string, where: string): void {
  const bad = (why: string) => new ArcaError('ERR_CSI_OBJECT_NAME_INVALID', `${where}.objectName ${why}; use a clean relative path such as db-password or db/password`);
  if (name === '') throw bad('is empty');
  if (name.length > MAX_PATH) throw bad(`is longer than ${MAX_PATH} characters`);
  if (name.includes('\0')) throw bad('contains a NUL byte');
  if (name.includes('\\')) throw bad('contains a backslash');
  if (name.startsWith('/')) throw bad('is an absolute path');
  const parts = name.split('/');
  if (parts.includes('..')) throw bad('contains a ".." element');
  if (posix.normalize(name) !== name || name.endsWith('/') || parts.includes('.')) throw bad('is not in clean form (no "./", no doubled or trailing "/")');
  if (parts.some((p) => p.length > MAX_ELEMENT)) throw bad(`has an element longer than ${MAX_ELEMENT} characters`);
}

/** Refuses duplicates and a name that is a directory of another (`a` and `a/b` cannot both be files). */
export function checkNamesDisjoint(names: readonly string[]): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) throw new ArcaError('ERR_CSI_OBJECT_NAME_INVALID', `objects[${i}].objectName repeats an earlier objectName; each must be unique`);
    seen.add(n);
  });
  names.forEach((n, i) => {
    const parts = n.split('/');
    for (let k = 1; k < parts.length; k++) {
      if (seen.has(parts.slice(0, k).join('/'))) throw new ArcaError('ERR_CSI_OBJECT_NAME_INVALID', `objects[${i}].objectName lies under another object's file; a file cannot also be a directory`);
    }
  });
}
