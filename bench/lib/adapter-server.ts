/**
 * The HTTP adapter alone, as a server process for kv.bench.ts: the real `buildHttpServer` (fastify,
 * hooks, metrics, request mapping, envelope) over a core whose `handle` answers at once with a fixed
 * response. Its rate under wrk is the HTTP layer's own ceiling: no request can be served faster than
 * this whatever the core and engines do. Not a mock of the core for correctness — only a floor.
 *
 *   node --import tsx bench/lib/adapter-server.ts <port>   (BENCH_RESPONSE = JSON LogicalResponse)
 */
import type { Core, LogicalResponse } from '../../src/core/index.ts';
import { buildHttpServer } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/index.ts';

const port = Number(process.argv[2]);
const response = JSON.parse(process.env['BENCH_RESPONSE'] ?? '{}') as LogicalResponse;
// The adapter also registers its own endpoints on the core (`routes`) and labels metrics by mount
// (`mountOf`): a route table nobody calls and the one mount the benchmark reads.
const routes = new Map<string, unknown>();
const core = {
  handle: async (): Promise<LogicalResponse> => response,
  routes: { set: (path: string, r: unknown) => void routes.set(path, r), isLocal: () => true },
  mountOf: (path: string) => (path.startsWith('secret/') ? 'secret/' : undefined),
  state: 'unsealed',
} as unknown as Core;
const app = buildHttpServer({ core, log: silentLogger() });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
await app.listen({ port, host: '127.0.0.1' });
