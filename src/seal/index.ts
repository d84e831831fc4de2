export { SEAL_CONFIG_PATH, ROOT_KEY_PATH, SealRecord, type ShareSet, readSealRecord, parseSealRecord, encodeSealRecord } from './records.ts';
export { ShareCollector, type ShareLabel, decodeShare, SHARE_LEN } from './shares.ts';
export type { AutoSeal } from './types.ts';
