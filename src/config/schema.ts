/**
 * The configuration file's shape (DESIGN §4, contract), validated with zod at start-up.
 * Provider-specific source options are validated by each adapter's own `settingsSchema`.
 */
import { z } from 'zod';
import { DEFAULT_REGISTRY } from '../mapping/default-actions';

const positiveInt = z.number().int().positive();

/** Accepts `5mb`, `512kb`, `1048576`; yields bytes. */
export const byteSize = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size such as 5mb, 512kb or 1048576` });
    return z.NEVER;
  }
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1;
  return Math.floor(Number(m[1]) * mult);
});

export const distinctSchema = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.distinct.so'),
    apiKey: z.string().min(1, 'Distinct API key is required (set DISTINCT_API_KEY)'),
    timeoutMs: positiveInt.default(10_000),
    concurrency: positiveInt.max(1024).default(16),
    ratePerSecond: z.number().nonnegative().default(0),
  })
  .strict();

export const serverSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(3000),
    host: z.string().default('0.0.0.0'),
    publicUrl: z.url({ protocol: /^https?$/ }).optional(),
    bodyLimit: byteSize.default(5 * 1024 * 1024),
    trustProxy: z.boolean().default(false),
    /** Slow clients: the whole header block must arrive within this (HTTP 408 and close otherwise). */
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    /** Slow clients: the whole request, headers and body, must arrive within this (HTTP 408 and close). */
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  })
  .strict();

/** `queue.sqs`: the SQS driver's queues and client (DESIGN §7; src/queue/sqs-queue.ts). */
export const sqsSchema = z
  .object({
    /** The main queue; a URL ending in `.fifo` selects FIFO de-duplication (docs/scaling.md). */
    queueUrl: z.url({ protocol: /^https?$/ }),
    /** Dead letters: explicit ones (with their reason) and the redrive policy's. */
    deadLetterQueueUrl: z.url({ protocol: /^https?$/ }),
    /** Default: the SDK's (AWS_REGION on Lambda). */
    region: z.string().min(1).optional(),
    /** A non-AWS endpoint (local emulator); required under tests so they can never reach AWS. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** Long-poll wait of a receive (SQS allows 0–20). */
    waitTimeSeconds: z.number().int().min(0).max(20).default(20),
    /** How long a claimed message stays hidden; default: the queue's own setting. */
    visibilityTimeoutSeconds: z.number().int().min(0).max(43_200).optional(),
    /** The redrive policy's limit; default: read from the queue's RedrivePolicy. */
    maxReceiveCount: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

export const queueSchema = z
  .object({
    driver: z.enum(['sqlite', 'memory', 'sqs']).default('sqlite'),
    path: z.string().min(1).default('./data/outbox.db'),
    /** SQLite `synchronous`: `full` survives power loss, `normal` survives process crashes (WAL). */
    synchronous: z.enum(['full', 'normal']).default('full'),
    sqs: sqsSchema.optional(),
  })
  .strict()
  .superRefine((queue, ctx) => {
    if (queue.driver !== 'sqs' || queue.sqs) return;
    for (const key of ['queueUrl', 'deadLetterQueueUrl'] as const) {
      ctx.addIssue({ code: 'custom', path: ['sqs', key], message: 'required when queue.driver is sqs' });
    }
  });

export const retrySchema = z
  .object({
    maxAttempts: positiveInt.default(15),
    baseDelayMs: positiveInt.default(1_000),
    maxDelayMs: positiveInt.default(900_000),
    maxAgeMs: positiveInt.default(86_400_000),
    /** "User not found" is retried on this slow schedule (the user may not exist yet). */
    userNotFoundDelayMs: positiveInt.default(3_600_000),
    userNotFoundMaxAgeMs: positiveInt.default(86_400_000),
  })
  .strict();

/**
 * `dedupe.store`: the key store every receiver and forwarder shares (DESIGN §7, docs/scaling.md;
 * src/dedupe/). The table's key schema is fixed: partition key `pk` (String), TTL attribute
 * `expiresAt` (Number, epoch seconds).
 */
export const dedupeStoreSchema = z
  .object({
    driver: z.literal('dynamodb'),
    /** DynamoDB table names: 3–255 characters of a-z, A-Z, 0-9, `_`, `-`, `.`. */
    table: z
      .string()
      .min(3)
      .max(255)
      .regex(/^[A-Za-z0-9_.-]+$/, 'a DynamoDB table name: 3–255 characters of A-Z, a-z, 0-9, _ - .'),
    /** Default: the SDK's (AWS_REGION on Lambda). */
    region: z.string().min(1).optional(),
    /** A local DynamoDB-compatible API (dynalite); required under tests so they never reach AWS. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** How long a claim or a delivery holds its key before another process may take it over. */
    leaseMs: z.number().int().min(1_000).max(300_000).default(30_000),
  })
  .strict();

export const dedupeSchema = z
  .object({
    windowMs: positiveInt.default(604_800_000),
    store: dedupeStoreSchema.optional(),
  })
  .strict();

export const circuitSchema = z
  .object({
    /** While Distinct answers 401/403, one probe request is sent this often. */
    probeIntervalMs: positiveInt.default(30_000),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Redact e-mail addresses and phone numbers in logs (default on). */
    redactPii: z.boolean().default(true),
  })
  .strict();

/**
 * `console`: the operator console at `/console` on `serve` (off unless enabled). `basicAuth`
 * (`user:pass`) is required when enabled; `serve --dev` turns the console on without credentials
 * for loopback clients only.
 */
export const consoleSchema = z
  .object({
    enabled: z.boolean().default(false),
    basicAuth: z
      .string()
      .regex(/^[^:]+:.+$/, 'must be "user:password" (both non-empty)')
      .optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.enabled && value.basicAuth === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['basicAuth'],
        message: 'required when console.enabled is true ("user:password")',
      });
    }
  });

/** Keys every source has whatever its provider; the rest belongs to the provider's settings. */
export const sourceCommonSchema = z.object({
  provider: z.string().min(1).optional(),
  feature: z.string().min(1),
  experienceId: z.string().min(1),
  /** Normalized type → Distinct action; `null` ignores the type. */
  actions: z.record(z.string(), z.string().min(1).nullable()).optional(),
  /** The exact URL configured at the provider (no query string); URL-signed providers need it. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Accept unauthenticated requests. Logs a warning at every start. */
  insecure: z.boolean().optional(),
  /** E-mail sources: forward opens the provider flags as machine opens (default), or ignore them. */
  machineOpens: z.enum(['forward', 'ignore']).optional(),
});

export const COMMON_SOURCE_KEYS = Object.keys(sourceCommonSchema.shape) as ReadonlyArray<
  keyof typeof sourceCommonSchema.shape
>;

export const SOURCE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export const rootSchema = z
  .object({
    /** JSON configuration files may name their JSON Schema (distinct.config.schema.json). */
    $schema: z.string().optional(),
    distinct: distinctSchema,
    registry: z
      .record(z.string().min(1), z.array(z.string().min(1)).min(1))
      .default(() => structuredClone(DEFAULT_REGISTRY) as Record<string, string[]>),
    server: serverSchema.default(() => serverSchema.parse({})),
    queue: queueSchema.default(() => queueSchema.parse({})),
    retry: retrySchema.default(() => retrySchema.parse({})),
    dedupe: dedupeSchema.default(() => dedupeSchema.parse({})),
    circuit: circuitSchema.default(() => circuitSchema.parse({})),
    log: logSchema.default(() => logSchema.parse({})),
    console: consoleSchema.default(() => consoleSchema.parse({})),
    // Validated one by one in load.ts, with the adapter's own schema.
    sources: z.record(z.string(), z.record(z.string(), z.unknown())),
  })
  .strict()
  .superRefine((root, ctx) => {
    // A message whose visibility runs out while its POST is in flight is handed out again (a duplicate).
    const visibility = root.queue.sqs?.visibilityTimeoutSeconds;
    if (root.queue.driver === 'sqs' && visibility !== undefined && visibility * 1000 <= root.distinct.timeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['queue', 'sqs', 'visibilityTimeoutSeconds'],
        message: `must be longer than distinct.timeoutMs (${root.distinct.timeoutMs} ms), or a message is handed out again while its POST is in flight`,
      });
    }
    // A delivery lease that ends while its POST is in flight lets another forwarder send it too.
    const store = root.dedupe.store;
    if (store && store.leaseMs <= root.distinct.timeoutMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['dedupe', 'store', 'leaseMs'],
        message: `must be longer than distinct.timeoutMs (${root.distinct.timeoutMs} ms), or another forwarder may send an event whose POST is still in flight`,
      });
    }
  });

export type RootConfigInput = z.input<typeof rootSchema>;
export type RootConfig = z.output<typeof rootSchema>;
export type SourceCommon = z.output<typeof sourceCommonSchema>;
