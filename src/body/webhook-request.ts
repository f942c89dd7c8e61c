/**
 * The {@link WebhookRequest} implementation: memoised body decoders over the exact bytes received
 * (body layer: it decodes with read-json and read-form; the request's shape lives in core).
 */
import type { FormBody, WebhookRequest, WebhookRequestInit } from '../core/request';
import { readForm } from './read-form';
import { readJson } from './read-json';

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
