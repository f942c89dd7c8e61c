/**
 * Typed errors with stable codes. Every code is listed in docs/errors.md, and
 * test/unit/errors.test.ts fails when the two disagree.
 *
 * HTTP bodies carry `{ error: <code>, message }` (DESIGN §5), never a stack trace.
 */

export const ERROR_CODES = {
  ERR_UNKNOWN_SOURCE: 'No source with this id is configured (HTTP 404).',
  ERR_WEBHOOK_VERIFICATION:
    'The request is not provably from the provider: signature, credentials or timestamp (HTTP 401).',
  ERR_WEBHOOK_PARSE: 'The body is malformed or not the shape the provider documents (HTTP 400).',
  ERR_PAYLOAD_TOO_LARGE: 'The body exceeds server.bodyLimit (HTTP 413).',
  ERR_UNSUPPORTED_ENCODING: 'The Content-Encoding is not identity, gzip, deflate or br, or is stacked (HTTP 415).',
  ERR_METHOD_NOT_ALLOWED: 'The provider route was called with a method it does not accept (HTTP 405).',
  ERR_QUEUE_WRITE: 'The events could not be persisted; the provider should retry (HTTP 503).',
  ERR_STORE_UNAVAILABLE:
    'The shared de-duplication key store (dedupe.store) cannot be reached; nothing was acknowledged, the provider should retry (HTTP 503).',
  ERR_DEDUPE_IN_PROGRESS:
    'Another receiver is queueing some of these events right now; nothing was acknowledged, the provider should retry (HTTP 503).',
  ERR_CONFIGURATION: 'The configuration file is invalid; raised at start-up only.',
  ERR_QUEUE_NOT_FOUND: 'A command that only reads or edits an existing queue (dlq) found no queue file at queue.path.',
  ERR_FORWARD: 'A POST to Distinct failed; carries status, retryable and attempt.',
  ERR_INTERNAL: 'An unexpected failure; logged with its stack, answered without one (HTTP 500).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Why a verification failed. Logged and returned in the message; never contains a secret. */
export type VerificationReason =
  | 'missing_signature'
  | 'malformed_signature'
  | 'signature_mismatch'
  | 'timestamp_out_of_tolerance'
  | 'bad_credentials'
  | 'untrusted_certificate'
  | 'replayed';

/** The longest message an error body carries (DESIGN §5: short bodies, never an unbounded echo). */
export const MAX_MESSAGE = 300;

function shortMessage(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE)}…`;
}

/** Base class: never thrown directly. */
export class WebhookAdapterError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly provider?: string;

  constructor(code: ErrorCode, statusCode: number, message: string, options?: { cause?: unknown; provider?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    this.provider = options?.provider;
  }

  /** The JSON body answered to the caller: the message cut to {@link MAX_MESSAGE} characters (it may quote payload keys). */
  toResponseBody(): { error: ErrorCode; message: string } {
    return { error: this.code, message: shortMessage(this.message) };
  }
}

/** The longest piece of caller input echoed in an error message (DESIGN §5: never an unbounded echo). */
export const MAX_ECHO = 64;

/** `text` cut to {@link MAX_ECHO} characters (with `…` when cut), for messages and log fields. */
export function truncateEcho(text: string): string {
  return text.length <= MAX_ECHO ? text : `${text.slice(0, MAX_ECHO)}…`;
}

export class UnknownSourceError extends WebhookAdapterError {
  constructor(source: string) {
    super('ERR_UNKNOWN_SOURCE', 404, `no source "${truncateEcho(source)}" is configured`);
  }
}

export class WebhookVerificationError extends WebhookAdapterError {
  readonly reason: VerificationReason;
  constructor(reason: VerificationReason, message: string, options?: { cause?: unknown; provider?: string }) {
    super('ERR_WEBHOOK_VERIFICATION', 401, message, options);
    this.reason = reason;
  }
  override toResponseBody(): { error: ErrorCode; message: string; reason: VerificationReason } {
    return { error: this.code, message: shortMessage(this.message), reason: this.reason };
  }
}

export class WebhookParseError extends WebhookAdapterError {
  /** Where in the payload the problem is, e.g. `[3].timestamp` or `event-data.recipient`. */
  readonly path: string;
  constructor(message: string, path = '', options?: { cause?: unknown; provider?: string }) {
    super('ERR_WEBHOOK_PARSE', 400, path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

export class PayloadTooLargeError extends WebhookAdapterError {
  constructor(limit: string) {
    super('ERR_PAYLOAD_TOO_LARGE', 413, `request body exceeds the ${limit} limit`);
  }
}

export class UnsupportedEncodingError extends WebhookAdapterError {
  constructor(encoding: string) {
    super(
      'ERR_UNSUPPORTED_ENCODING',
      415,
      `Content-Encoding "${truncateEcho(encoding)}" is not supported; send identity, gzip, deflate or br`,
    );
  }
}

export class MethodNotAllowedError extends WebhookAdapterError {
  constructor(method: string, allowed: readonly string[]) {
    super('ERR_METHOD_NOT_ALLOWED', 405, `${truncateEcho(method)} is not accepted here; use ${allowed.join(' or ')}`);
  }
}

export class QueueWriteError extends WebhookAdapterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_QUEUE_WRITE', 503, message, options);
  }
}

/** `dlq` never creates a queue: the outbox file it was pointed at does not exist. */
export class QueueNotFoundError extends WebhookAdapterError {
  readonly path: string;
  constructor(path: string) {
    super('ERR_QUEUE_NOT_FOUND', 500, `no queue at ${path}`);
    this.path = path;
  }
}

/** The shared key store (dedupe.store) failed or timed out: the provider gets 503 and re-sends. */
export class StoreUnavailableError extends WebhookAdapterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', 503, message, options);
  }
}

/** A live claim of another receiver holds some of the request's keys: 503, the provider re-sends later. */
export class DedupeInProgressError extends WebhookAdapterError {
  constructor(message: string) {
    super('ERR_DEDUPE_IN_PROGRESS', 503, message);
  }
}

/** Start-up only: every problem with its path. Never swallowed. */
export class ConfigurationError extends WebhookAdapterError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('ERR_CONFIGURATION', 500, `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export class ForwardError extends WebhookAdapterError {
  readonly status: number | null;
  readonly retryable: boolean;
  readonly attempt: number;
  constructor(
    message: string,
    details: { status: number | null; retryable: boolean; attempt: number; cause?: unknown },
  ) {
    super('ERR_FORWARD', 502, message, { cause: details.cause });
    this.status = details.status;
    this.retryable = details.retryable;
    this.attempt = details.attempt;
  }
}

export class InternalError extends WebhookAdapterError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_INTERNAL', 500, 'internal error', options);
  }
}
