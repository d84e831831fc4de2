export { ArcaClient, type ClientOptions, type ApiResponse, toClientError } from './client.ts';
