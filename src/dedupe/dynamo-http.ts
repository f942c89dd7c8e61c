/**
 * The key store's hot path: DynamoDB's JSON API (`POST /`, `X-Amz-Target:
 * DynamoDB_20120810.<Op>`, AWS Signature V4) over one keep-alive connection pool, for the four
 * item calls (PutItem, UpdateItem, DeleteItem, GetItem). Docs:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * Why not the SDK's DynamoDBClient for these: every call of it runs its whole middleware stack
 * (≈ 0.4 ms of CPU per call measured here, against ≈ 0.1 ms for this client), and a receiver makes
 * one call per event — 100 for a SendGrid batch (docs/performance.md). The SDK stays in charge of
 * everything else: credentials (its provider chain, refreshed), region and endpoint resolution,
 * and the control-plane calls at start-up. test/unit/dynamo-http.test.ts checks the signatures
 * against the SDK's own signer.
 *
 * Retries like the SDK's standard mode: at most `maxAttempts` attempts for network errors,
 * timeouts, 5xx and throttling, with jittered exponential backoff; other 4xx answers are final.
 */
import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';

export interface DynamoCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface DynamoHttpOptions {
  /** `https://dynamodb.<region>.amazonaws.com/`, or a local API. */
  endpoint: URL;
  region: string;
  /** Resolves the current credentials (the SDK's provider: cached and refreshed by it). */
  credentials: () => Promise<DynamoCredentials>;
  /** Per attempt, connect included (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Attempts per call (default 3). */
  maxAttempts?: number;
  /** Clock for the signature (tests). */
  now?: () => Date;
}

/** An answer DynamoDB gave (4xx/5xx) or a transport failure; `name` is the short error type. */
export class DynamoCallError extends Error {
  constructor(
    name: string,
    message: string,
    readonly status: number | null,
    /** The item a failed condition saw, when `ReturnValuesOnConditionCheckFailure: ALL_OLD` was asked. */
    readonly Item?: Record<string, unknown>,
  ) {
    super(message);
    this.name = name;
  }
}

const RETRYABLE_TYPES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
]);

export class DynamoHttp {
  private readonly endpoint: URL;
  private readonly region: string;
  private readonly credentials: () => Promise<DynamoCredentials>;
  private readonly requestTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly now: () => Date;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly host: string;
  private signingKey: { secret: string; date: string; key: Buffer } | null = null;

  constructor(options: DynamoHttpOptions) {
    this.endpoint = options.endpoint;
    this.region = options.region;
    this.credentials = options.credentials;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.now = options.now ?? (() => new Date());
    const secure = this.endpoint.protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 128 })
      : new http.Agent({ keepAlive: true, maxSockets: 128 });
    this.host = this.endpoint.host;
  }

  /** One call, e.g. `call('PutItem', {...})`; resolves to the parsed JSON answer. */
  async call<T = Record<string, unknown>>(operation: string, payload: Record<string, unknown>): Promise<T> {
    const body = JSON.stringify(payload);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.once(operation, body)) as T;
      } catch (err) {
        const retryable =
          !(err instanceof DynamoCallError) ||
          err.status === null ||
          err.status >= 500 ||
          RETRYABLE_TYPES.has(err.name);
        if (!retryable || attempt >= this.maxAttempts) throw err;
        // Full jitter on 25 ms × 2^n, like the SDK's standard retry mode (base 25 ms… for DynamoDB).
        await new Promise((r) => setTimeout(r, Math.random() * 25 * 2 ** attempt));
      }
    }
  }

  /** The signed headers of one request (exported for the signature test). */
  sign(operation: string, body: string, credentials: DynamoCredentials, date = this.now()): Record<string, string> {
    const amzDate = date.toISOString().replace(/[:-]|\.\d{3}/g, '');
    const day = amzDate.slice(0, 8);
    const target = `DynamoDB_20120810.${operation}`;
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      host: this.host,
      'x-amz-date': amzDate,
    };
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
    headers['x-amz-target'] = target;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(';');
    const canonical = [
      'POST',
      this.endpoint.pathname || '/',
      '',
      ...names.map((n) => `${n}:${headers[n]}`),
      '',
      signedHeaders,
      sha256(body),
    ].join('\n');
    const scope = `${day}/${this.region}/dynamodb/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`;
    const signature = createHmac('sha256', this.key(credentials.secretAccessKey, day)).update(toSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  close(): void {
    this.agent.destroy();
  }

  private key(secret: string, day: string): Buffer {
    const cached = this.signingKey;
    if (cached && cached.secret === secret && cached.date === day) return cached.key;
    const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), this.region), 'dynamodb'), 'aws4_request');
    this.signingKey = { secret, date: day, key };
    return key;
  }

  private async once(operation: string, body: string): Promise<unknown> {
    const headers = this.sign(operation, body, await this.credentials());
    headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        {
          protocol: this.endpoint.protocol,
          // An IPv6 literal comes bracketed from URL; the socket wants it bare (the Host header keeps them).
          hostname: this.endpoint.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.endpoint.port || undefined,
          path: this.endpoint.pathname || '/',
          method: 'POST',
          agent: this.agent,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            try {
              parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              // A proxy's HTML error page: reported by status below.
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed);
            const type = String(parsed.__type ?? `HTTP${status}`);
            const name = type.slice(type.lastIndexOf('#') + 1);
            const message = String(parsed.message ?? parsed.Message ?? `HTTP ${status}`);
            reject(new DynamoCallError(name, message, status, parsed.Item as Record<string, unknown> | undefined));
          });
        },
      );
      const timer = setTimeout(
        () => req.destroy(new DynamoCallError('TimeoutError', `no answer within ${this.requestTimeoutMs} ms`, null)),
        this.requestTimeoutMs,
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(
          err instanceof DynamoCallError
            ? err
            : new DynamoCallError(err.name === 'Error' ? 'NetworkError' : err.name, err.message, null),
        );
      });
      req.end(body);
    });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}
