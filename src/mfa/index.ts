export { MfaStore, type TotpMethod, type Enforcement } from './store.ts';
export { MfaGate, PENDING_TTL_MS, MAX_ATTEMPTS } from './gate.ts';
export { registerMfaRoutes } from './routes.ts';
export { codeAt, TOTP_PARAMS } from './totp.ts';
