/**
 * The configuration of both Lambda functions (HTTP receiver and SQS forwarder).
 *
 * - The file is `$DISTINCT_ADAPTER_CONFIG`, default `./distinct.config.yml`, relative to the
 *   package root (`LAMBDA_TASK_ROOT`, where Lambda unpacks the deployment package).
 * - `${VAR}` substitution works as everywhere (secrets come from SSM parameters through the
 *   function's environment, never from the file).
 * - The queue comes from the stack when `DISTINCT_SQS_QUEUE_URL` (and `DISTINCT_SQS_DLQ_URL`)
 *   are set: they switch `queue.driver` to `sqs` and fill `queue.sqs.queueUrl` /
 *   `deadLetterQueueUrl`, so the file a container uses works on Lambda unchanged.
 * - The shared key store comes from the stack when `DISTINCT_DEDUPE_TABLE` is set: it fills
 *   `dedupe.store` (driver dynamodb, that table, the function's region unless the file names
 *   one; the file's other `dedupe.store` settings, e.g. leaseMs, are kept).
 * - On Lambda the queue must be SQS: there is no disk to keep an outbox on.
 *
 * Callers keep the result at module scope: it is read once per execution environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ADAPTERS } from '../../adapters';
import { buildConfig, DEFAULT_CONFIG_PATH, type AppConfig } from '../config/load';
import { ConfigurationError } from '../core/errors';

/** Environment variables the stack sets for the queue (serverless.yml). */
export const LAMBDA_QUEUE_ENV = {
  queueUrl: 'DISTINCT_SQS_QUEUE_URL',
  deadLetterQueueUrl: 'DISTINCT_SQS_DLQ_URL',
} as const;

/** The environment variable the stack sets for the shared key store's table (serverless.yml). */
export const LAMBDA_DEDUPE_TABLE_ENV = 'DISTINCT_DEDUPE_TABLE';

/** Where the configuration file is: `$DISTINCT_ADAPTER_CONFIG` or `./distinct.config.yml`, from the package root. */
export function lambdaConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LAMBDA_TASK_ROOT ?? process.cwd(), env.DISTINCT_ADAPTER_CONFIG ?? DEFAULT_CONFIG_PATH);
}

/** Reads and validates the Lambda configuration. @throws ConfigurationError listing every problem. */
export function loadLambdaConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const path = lambdaConfigPath(env);
  if (!existsSync(path)) {
    throw new ConfigurationError([
      `${path}: file not found (bundle it with the function, or set DISTINCT_ADAPTER_CONFIG)`,
    ]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigurationError([`${path}: not valid YAML or JSON (${(err as Error).message})`]);
  }
  const config = buildConfig(withStackStore(withStackQueue(doc, env), env), env, path, ADAPTERS);
  if (config.queue.driver !== 'sqs') {
    throw new ConfigurationError([
      `queue.driver: must be sqs on AWS Lambda, got ${config.queue.driver} (set ${LAMBDA_QUEUE_ENV.queueUrl} and ${LAMBDA_QUEUE_ENV.deadLetterQueueUrl}, or queue.driver: sqs with queue.sqs)`,
    ]);
  }
  return config;
}

/** The document with the stack's queue URLs laid over its `queue` section. */
function withStackQueue(doc: unknown, env: NodeJS.ProcessEnv): unknown {
  const queueUrl = env[LAMBDA_QUEUE_ENV.queueUrl];
  const deadLetterQueueUrl = env[LAMBDA_QUEUE_ENV.deadLetterQueueUrl];
  if (!queueUrl && !deadLetterQueueUrl) return doc;
  const root = isRecord(doc) ? doc : {};
  const queue = isRecord(root.queue) ? root.queue : {};
  const sqs = isRecord(queue.sqs) ? queue.sqs : {};
  return {
    ...root,
    queue: {
      ...queue,
      driver: 'sqs',
      sqs: { ...sqs, ...(queueUrl ? { queueUrl } : {}), ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}) },
    },
  };
}

/** The document with the stack's key-store table laid over its `dedupe.store` section. */
function withStackStore(doc: unknown, env: NodeJS.ProcessEnv): unknown {
  const table = env[LAMBDA_DEDUPE_TABLE_ENV];
  if (!table) return doc;
  const root = isRecord(doc) ? doc : {};
  const dedupe = isRecord(root.dedupe) ? root.dedupe : {};
  const store = isRecord(dedupe.store) ? dedupe.store : {};
  return { ...root, dedupe: { ...dedupe, store: { ...store, driver: 'dynamodb', table } } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
