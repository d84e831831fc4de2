/**
 * Process-wide PKCS#11 module handles. A PKCS#11 library is initialised once per process: a second
 * C_Initialize returns CKR_CRYPTOKI_ALREADY_INITIALIZED and one C_Finalize ends every session of
 * the process. The seal and the transit backend may both open the same module, so modules are
 * shared and reference-counted here; the last release finalises and unloads it.
 * Consequence: a module reads its configuration (SoftHSM2: SOFTHSM2_CONF) only when the first
 * user opens it; changing it takes effect after every user has closed.
 */
import pkcs11js from 'pkcs11js';
import { ArcaError } from '../../errors/index.ts';

export type Pkcs11 = InstanceType<typeof pkcs11js.PKCS11>;
export type Handle = Buffer;

interface LoadedModule {
  p11: Pkcs11;
  refs: number;
  /** False when something outside this registry had already initialised the library. */
  ownsInit: boolean;
}

const loaded = new Map<string, LoadedModule>();

/** Loads and initialises `path` (or shares the already-initialised instance). */
export function acquireModule(path: string): Pkcs11 {
  const have = loaded.get(path);
  if (have) {
    have.refs++;
    return have.p11;
  }
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(path);
  } catch (err) {
    throw new ArcaError('ERR_HSM_UNAVAILABLE', `cannot load PKCS#11 module ${path}: check that the file exists and is a PKCS#11 library`, { cause: err });
  }
  let ownsInit = true;
  try {
    p11.C_Initialize();
  } catch (err) {
    if (ckrCode(err) === pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      ownsInit = false;
    } else {
      safe(() => p11.close());
      throw new ArcaError('ERR_HSM_UNAVAILABLE', `PKCS#11 module ${path} failed to initialise (${ckrName(err)}): check its configuration (for SoftHSM2: SOFTHSM2_CONF and a writable token directory)`, { cause: err });
    }
  }
  loaded.set(path, { p11, refs: 1, ownsInit });
  return p11;
}

export function releaseModule(path: string): void {
  const m = loaded.get(path);
  if (!m) return;
  if (--m.refs > 0) return;
  loaded.delete(path);
  if (m.ownsInit) safe(() => m.p11.C_Finalize());
  safe(() => m.p11.close());
}

/** The CKR_* return value of a pkcs11js error, if it is one. */
export function ckrCode(err: unknown): number | undefined {
  return err instanceof pkcs11js.Pkcs11Error ? err.code : undefined;
}

const CKR_NAMES = new Map<number, string>(
  Object.entries(pkcs11js)
    .filter((e): e is [string, number] => e[0].startsWith('CKR_') && typeof e[1] === 'number')
    .map(([name, value]) => [value, name]),
);

/** A printable reason: the CKR_* name for Cryptoki errors, a generic word otherwise (never data). */
export function ckrName(err: unknown): string {
  const code = ckrCode(err);
  if (code === undefined) return 'native error';
  return CKR_NAMES.get(code) ?? `CKR 0x${code.toString(16)}`;
}

/** Return values that mean the token, session or library is gone rather than the operation failing. */
const UNAVAILABLE = new Set<number>([
  pkcs11js.CKR_DEVICE_ERROR,
  pkcs11js.CKR_DEVICE_MEMORY,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_USER_NOT_LOGGED_IN,
  pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11js.CKR_HOST_MEMORY,
]);

export function isUnavailable(err: unknown): boolean {
  const code = ckrCode(err);
  return code === undefined || UNAVAILABLE.has(code);
}

export function isHandleInvalid(err: unknown): boolean {
  const code = ckrCode(err);
  return code === pkcs11js.CKR_OBJECT_HANDLE_INVALID || code === pkcs11js.CKR_KEY_HANDLE_INVALID;
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // Best effort during teardown: nothing useful can be done with the error.
  }
}

export { pkcs11js };
