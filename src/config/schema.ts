import { z } from 'zod';

/**
 * The one server config schema. Plug points (storage, seal) are discriminated unions.
 * No secret has a default: PINs and database passwords come from files or the environment.
 */
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:8200');

export const StorageConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sqlite'), path: z.string().min(1).optional() }).strict(),
  z
    .object({
      type: z.literal('postgres'),
      /** Connection URL without a password; the password comes from `passwordFile` or PGPASSWORD. */
      url: z.string().min(1).optional(),
      urlFile: z.string().min(1).optional(),
      passwordFile: z.string().min(1).optional(),
      table: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lowercase SQL identifier').default('arca_kv'),
      maxConnections: z.number().int().positive().default(10),
    })
    .strict()
    .refine((c) => c.url !== undefined || c.urlFile !== undefined, { message: 'set url or urlFile', path: ['url'] }),
  z.object({ type: z.literal('inmem') }).strict(),
]);
export type StorageConfig = z.infer<typeof StorageConfig>;

export const Pkcs11Config = z
  .object({
    module: z.string().min(1),
    tokenLabel: z.string().min(1),
    /** File holding the user PIN (one line). Alternatively ARCA_PKCS11_PIN. */
    pinFile: z.string().min(1).optional(),
    keyLabel: z.string().min(1).default('arca-root-wrap'),
    /** Create the wrapping key on `init` if it does not exist. */
    generateKey: z.boolean().default(true),
  })
  .strict();
export type Pkcs11Config = z.infer<typeof Pkcs11Config>;

export const SealConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('shamir') }).strict(),
  Pkcs11Config.extend({ type: z.literal('pkcs11') }).strict(),
]);
export type SealConfig = z.infer<typeof SealConfig>;

/** Where transit's `hsm-aes256-gcm96` keys live: a PKCS#11 token (may be the seal's token). */
export const KeysConfig = z
  .object({
    pkcs11: z
      .object({
        module: z.string().min(1),
        tokenLabel: z.string().min(1),
        /** File holding the user PIN. Alternatively ARCA_PKCS11_PIN. */
        pinFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type KeysConfig = z.infer<typeof KeysConfig>;

export const ServerConfig = z
  .object({
    listen: hostPort.default('127.0.0.1:8200'),
    /** Public URL other replicas and clients use for this server (HA forwarding). */
    apiAddr: z.string().url().optional(),
    dataDir: z.string().min(1).optional(),
    tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).strict().optional(),
    storage: StorageConfig.default({ type: 'sqlite' }),
    seal: SealConfig.default({ type: 'shamir' }),
    keys: KeysConfig.default({}),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).strict().default({ level: 'info' }),
    /** Dev mode: in-memory-free throwaway server, auto-initialized and unsealed. Never for production. */
    dev: z.boolean().default(false),
    devRootToken: z.string().min(1).optional(),
    /** The web UI at /ui/ (built by `npm run build`); `dir` overrides the built dist/ui. */
    ui: z.object({ enabled: z.boolean().default(true), dir: z.string().min(1).optional() }).strict().default({ enabled: true }),
    ha: z
      .object({
        /** How long the active replica's lease lasts without renewal. */
        leaseSeconds: z.number().positive().default(6),
        /** What a standby does with requests: forward them to the active, or redirect (307). */
        standbyMode: z.enum(['forward', 'redirect']).default('forward'),
      })
      .strict()
      .default({ leaseSeconds: 6, standbyMode: 'forward' }),
    /**
     * The active replica's scheduled clean-up of expired tokens, wrapping tokens and control-group
     * requests (core/expiry-sweep.ts): the least time between two sweeps. `auth/token/tidy` runs one
     * at once whatever this says.
     */
    expirySweep: z
      .object({ intervalSeconds: z.number().int().min(10).max(86_400).default(60) })
      .strict()
      .default({ intervalSeconds: 60 }),
  })
  .strict();
export type ServerConfig = z.infer<typeof ServerConfig>;
