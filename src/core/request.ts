/** An `application/x-www-form-urlencoded` body: every pair in order, and a first-value lookup. */
export interface FormBody {
  /** Every name/value pair in received order (repeated names kept). */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** First value of each name. */
  readonly fields: Readonly<Record<string, string>>;
  /** Every value of each name, for signature schemes that sign repeated parameters. */
  readonly all: Readonly<Record<string, string[]>>;
}

/**
 * The one request type every runtime (express, Lambda) builds and the pipeline consumes.
 * Adapters never see a framework object. Build one with `createWebhookRequest`
 * (src/body/webhook-request.ts; runtimes go through `Pipeline.request`, which resolves the public URL).
 */
export interface WebhookRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /**
   * The externally visible URL the provider called, query string included: the source's
   * configured `publicUrl` plus the received query when one is configured, otherwise the
   * runtime's reconstruction. URL-signed providers (Twilio) sign exactly this.
   */
  readonly url: string;
  /** Raw query string without the leading `?` ('' when none). */
  readonly query: string;
  /** Header names lower-cased; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact bytes received. Verification always runs on these. */
  readonly rawBody: Buffer;
  /** Receipt time (injected clock; adapters never call `new Date()`). */
  readonly receivedAt: Date;
  /**
   * The body decoded as JSON (integers beyond 2^53 kept as exact strings), decoded once per body:
   * `verify`, `handshake` and `parse` share one value, which nobody may mutate.
   * @throws WebhookParseError for an empty body or invalid JSON
   */
  json(): unknown;
  /** The body decoded as `application/x-www-form-urlencoded`, decoded once per body (shared, read-only). */
  form(): FormBody;
}

/** What a runtime knows about a request; `url` may be a function, called only when a verifier reads it. */
export interface WebhookRequestInit {
  method: string;
  url: string | (() => string);
  query: string;
  headers: Readonly<Record<string, string>>;
  rawBody: Buffer;
  receivedAt: Date;
}

/** What the pipeline answers; each runtime writes it out. */
export interface WebhookResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialisable body, or a string sent as text/plain. */
  body?: unknown;
}

/** Case-insensitive header lookup on a {@link WebhookRequest}. */
export function header(req: Pick<WebhookRequest, 'headers'>, name: string): string | undefined {
  return req.headers[name.toLowerCase()];
}

/** A copy of `headers` without the named ones (case-insensitive): test signers re-sign or unsign requests with it. */
export function withoutHeaders(
  headers: Readonly<Record<string, string>>,
  drop: readonly string[],
): Record<string, string> {
  const lower = new Set(drop.map((d) => d.toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !lower.has(name.toLowerCase())));
}
