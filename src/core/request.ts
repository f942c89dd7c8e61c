import type { FormBody } from '../body/read-form';
import { readForm } from '../body/read-form';
import { readJson } from '../body/read-json';

/**
 * The one request type every runtime (express, Lambda) builds and the pipeline consumes.
 * Adapters never see a framework object. Build one with {@link createWebhookRequest} (runtimes go
 * through `Pipeline.request`, which resolves the public URL).
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

/**
 * The request with memoised body decoders. Each memo remembers the bytes it decoded, so a request
 * whose `rawBody` is replaced (tests do) decodes the new bytes.
 */
class BufferedWebhookRequest implements WebhookRequest {
  readonly method: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawBody: Buffer;
  readonly receivedAt: Date;
  private urlSource: string | (() => string);
  private jsonOf: Buffer | undefined = undefined;
  private jsonValue: unknown = undefined;
  private formOf: Buffer | undefined = undefined;
  private formValue: FormBody | undefined = undefined;

  constructor(init: WebhookRequestInit) {
    this.method = init.method;
    this.urlSource = init.url;
    this.query = init.query;
    this.headers = init.headers;
    this.rawBody = init.rawBody;
    this.receivedAt = init.receivedAt;
  }

  get url(): string {
    const source = this.urlSource;
    if (typeof source === 'string') return source;
    const url = source();
    this.urlSource = url;
    return url;
  }

  json(): unknown {
    const body = this.rawBody;
    if (this.jsonOf !== body) {
      this.jsonValue = readJson(body); // throws before the memo is written: errors are not cached
      this.jsonOf = body;
    }
    return this.jsonValue;
  }

  /** Forgets both memos (see {@link releaseDecodedBody}). */
  release(): void {
    this.jsonOf = undefined;
    this.jsonValue = undefined;
    this.formOf = undefined;
    this.formValue = undefined;
  }

  form(): FormBody {
    const body = this.rawBody;
    if (this.formOf !== body || this.formValue === undefined) {
      this.formValue = readForm(body);
      this.formOf = body;
    }
    return this.formValue;
  }
}

/**
 * Drops the decoded body of a request built by {@link createWebhookRequest} (a later `json()` or
 * `form()` decodes again). The pipeline calls it once events are mapped, so a parsed batch is
 * garbage before the queue's commit wait, as it was before the memo existed.
 */
export function releaseDecodedBody(req: WebhookRequest): void {
  if (req instanceof BufferedWebhookRequest) req.release();
}

/** Builds a {@link WebhookRequest} whose `json()` and `form()` decode the body at most once. */
export function createWebhookRequest(init: WebhookRequestInit): WebhookRequest {
  return new BufferedWebhookRequest(init);
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
export function withoutHeaders(headers: Readonly<Record<string, string>>, drop: readonly string[]): Record<string, string> {
  const lower = new Set(drop.map((d) => d.toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !lower.has(name.toLowerCase())));
}
