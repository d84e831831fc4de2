export { connectEtcd, pages, prefixRange, type EtcdConnectOptions, type EtcdKv } from './client.ts';
export { classify, type Classified, type ValueState } from './classify.ts';
export { resourceOfKey, resourceLabel, rangesFor } from './resource.ts';
export { scan, emptyReport, addToReport, mapLimit, type ScanOptions, type ScanReport, type ScanObject } from './scan.ts';
export { rewrite, type RewriteOptions, type RewriteStats } from './rewrite.ts';
export { readState, writeState, type RewriteState } from './resume.ts';
export { ClassifyPool, defaultWorkerCount } from './classify-pool.ts';
