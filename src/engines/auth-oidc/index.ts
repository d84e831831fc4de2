export { createOidcAuthEngine, LOGIN_TTL_MS } from './engine.ts';
