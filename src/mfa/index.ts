export { MfaStore, type TotpMethod, type WebauthnMethod, type MfaMethod, type WebauthnCredential, type Enforcement } from './store.ts';
export { MfaGate, PENDING_TTL_MS, MAX_ATTEMPTS, STEP_UP_CONSTRAINT } from './gate.ts';
export { registerMfaRoutes } from './routes.ts';
export { registerWebauthnRoutes } from './webauthn-routes.ts';
export { Webauthn, CHALLENGE_TTL_MS, MAX_ASSERTION_CHARS } from './webauthn.ts';
export { codeAt, TOTP_PARAMS } from './totp.ts';
