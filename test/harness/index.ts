export { startPostgres, dumpTable, type PostgresHandle } from './postgres.ts';
export { createSoftHsmToken, SOFTHSM_MODULE, type SoftHsmToken } from './softhsm.ts';
export { startEtcd, type EtcdHandle, type EtcdPki } from './etcd.ts';
export { freePort, tempDir, waitFor, stopChild, execFileP, treeText, requestFrom, retryWhileNoActive } from './util.ts';
