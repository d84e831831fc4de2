export { buildHttpServer, httpRoutes, type HttpOptions } from './server.ts';
export { sealStatus, ARCA_VERSION } from './sys-raw.ts';
