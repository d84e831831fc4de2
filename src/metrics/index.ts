export { type MetricsServer, serveMetrics } from './serve.ts';
