/**
 * The shared key store (`dedupe.store`, DESIGN §7, docs/scaling.md): one DynamoDB item per event
 * key, written only with conditional PutItem / UpdateItem / DeleteItem on that one item, so it
 * runs on real DynamoDB and on dynalite alike (no transactions, no TTL needed).
 *
 * Item: `{ pk, state, owner, leaseUntil (ms), expiresAt (epoch s) }`. States:
 * - `claimed`    a receiver is queueing the event (leased: a crash before the queue accepts it
 *                frees the key when the lease ends, so the provider's retry is queued again);
 * - `queued`     a delivery attempt failed transiently or was released: the message waits;
 * - `delivering` a forwarder is POSTing it (leased: a crashed forwarder's work is taken over);
 * - `delivered`  Distinct answered 200: every later copy is dropped until the item expires;
 * - `dead`       dead-lettered; a replayed dead letter may be delivered again.
 * An item whose `expiresAt` has passed counts as absent (DynamoDB's TTL deletes it up to days
 * late; dynalite never does).
 *
 * Every call that fails for another reason than its condition throws StoreUnavailableError.
 * Every call goes through the lean signed client of dynamo-http.ts. Credentials: the
 * environment's (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, what Lambda sets),
 * static dummy ones for a loopback endpoint, else the AWS SDK's provider chain (ECS task role,
 * instance profile, SSO…), whose client is then loaded on first use. So the Lambda functions never
 * load the DynamoDB SDK (cold start, docs/scaling.md).
 */
import type * as DynamoSdk from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { z } from 'zod';
import type { dedupeStoreSchema } from '../config/schema';
import { ConfigurationError, StoreUnavailableError } from '../core/errors';
import { DynamoHttp, type DynamoCredentials } from './dynamo-http';

/** The `dedupe.store` configuration section. */
export type DedupeStoreSettings = z.output<typeof dedupeStoreSchema>;

export type KeyState = 'claimed' | 'queued' | 'delivering' | 'delivered' | 'dead';

export interface KeyItem {
  pk: string;
  state: KeyState;
  owner: string;
  /** ms since epoch; 0 when the state holds no lease. */
  leaseUntil: number;
  /** epoch seconds. */
  expiresAt: number;
}

/** What a claim found: ours now, a duplicate to drop, or another process's live lease until `until`. */
export type ClaimResult =
  { kind: 'claimed' } | { kind: 'duplicate'; state: KeyState } | { kind: 'busy'; until: number };

/** The counters and timings the store reports (prom-client in `serve`, nothing on Lambda). */
export interface StoreObserver {
  call(op: string, seconds: number, failed: boolean): void;
}

export interface KeyStoreOptions {
  settings: DedupeStoreSettings;
  /** How long a key is remembered, in ms (`dedupe.windowMs`). */
  windowMs: number;
  now?: () => number;
  /** Where the test guard looks for NODE_ENV / JEST_WORKER_ID, and for credentials (default process.env). */
  env?: NodeJS.ProcessEnv;
  observer?: StoreObserver;
  /** Per-attempt timeout in ms (default 2000): a hung store answers 503, not a provider timeout. */
  requestTimeoutMs?: number;
}

/** What the start-up check found. */
export interface StoreCheck {
  ttlEnabled: boolean;
  ttlAttribute: string | undefined;
}

const CONDITIONAL_RETRIES = 3;
/** DynamoDB's BatchWriteItem limit. */
const BATCH_WRITE_MAX = 25;
const NAMES = { '#s': 'state', '#o': 'owner', '#l': 'leaseUntil', '#e': 'expiresAt' } as const;

/** The DynamoDB key store (see the file header). */
export class DynamoKeyStore {
  readonly table: string;
  readonly leaseMs: number;
  readonly region: string | undefined;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly observer: StoreObserver | undefined;
  private readonly endpoint: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly local: boolean;
  private sdk: DynamoSdk.DynamoDBClient | null = null;
  private http: Promise<DynamoHttp> | null = null;

  constructor(options: KeyStoreOptions) {
    const env = options.env ?? process.env;
    const { settings } = options;
    const endpoint = settings.endpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
    if (!endpoint && (env.NODE_ENV === 'test' || env.JEST_WORKER_ID !== undefined)) {
      // DEPENDENCIES §5: without an endpoint the SDK quietly targets real AWS.
      throw new ConfigurationError([
        'dedupe.store.endpoint: required under tests (NODE_ENV=test or JEST_WORKER_ID is set), so tests never reach AWS',
      ]);
    }
    this.table = settings.table;
    this.leaseMs = settings.leaseMs;
    this.region = settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    this.windowMs = options.windowMs;
    this.now = options.now ?? Date.now;
    this.observer = options.observer;
    this.endpoint = endpoint;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2_000;
    this.env = env;
    this.local = endpoint !== undefined && isLoopback(endpoint);
  }

  /**
   * Start-up check: the table exists with the fixed key schema (ConfigurationError naming table
   * and region when not), and whether TTL is enabled (a warning for the caller, not a failure).
   * Unreachable → StoreUnavailableError.
   */
  async check(): Promise<StoreCheck> {
    const where = `table "${this.table}" in region ${this.region ?? '(SDK default)'}`;
    let keySchema: Array<{ AttributeName?: string; KeyType?: string }>;
    try {
      const out = await (
        await this.items()
      ).call<{ Table?: { KeySchema?: Array<{ AttributeName?: string; KeyType?: string }> } }>('DescribeTable', {
        TableName: this.table,
      });
      keySchema = out.Table?.KeySchema ?? [];
    } catch (err) {
      if (err instanceof Error && err.name === 'ResourceNotFoundException') {
        throw new ConfigurationError([
          `dedupe.store.table: ${where} does not exist; create it with partition key "pk" (String), no sort key, and TTL on "expiresAt" (docs/scaling.md)`,
        ]);
      }
      throw unavailable('DescribeTable', err);
    }
    const hash = keySchema.find((k) => k.KeyType === 'HASH');
    if (keySchema.length !== 1 || hash?.AttributeName !== 'pk') {
      throw new ConfigurationError([
        `dedupe.store.table: ${where} has key schema ${JSON.stringify(keySchema.map((k) => `${k.AttributeName}:${k.KeyType}`))}; it must be partition key "pk" (String) and nothing else`,
      ]);
    }
    try {
      const ttl = await (
        await this.items()
      ).call<{ TimeToLiveDescription?: { TimeToLiveStatus?: string; AttributeName?: string } }>('DescribeTimeToLive', {
        TableName: this.table,
      });
      const d = ttl.TimeToLiveDescription;
      return {
        ttlEnabled: d?.TimeToLiveStatus === 'ENABLED' || d?.TimeToLiveStatus === 'ENABLING',
        ttlAttribute: d?.AttributeName,
      };
    } catch (err) {
      throw unavailable('DescribeTimeToLive', err);
    }
  }

  /** Readiness: one eventually consistent GetItem (½ read unit). */
  async ping(): Promise<boolean> {
    try {
      await (
        await this.items()
      ).call('GetItem', { TableName: this.table, Key: { pk: { S: '__readiness__' } }, ProjectionExpression: 'pk' });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Receiver: takes `key` for queueing. Free when absent, expired, or a `claimed` whose lease has
   * passed (its receiver died before the queue accepted the event). A live `claimed` of another
   * call is busy; every other state is a duplicate.
   */
  async claim(key: string, owner: string): Promise<ClaimResult> {
    for (let round = 0; ; round += 1) {
      const now = this.now();
      const item = this.item(key, 'claimed', owner, now + this.leaseMs, now);
      try {
        await this.timed('claim', 'PutItem', {
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #e <= :nowS OR (#s = :claimed AND #l < :now)',
          ExpressionAttributeNames: { '#s': NAMES['#s'], '#l': NAMES['#l'], '#e': NAMES['#e'] },
          ExpressionAttributeValues: { ':nowS': n(nowSeconds(now)), ':claimed': s('claimed'), ':now': n(now) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return { kind: 'claimed' };
      } catch (err) {
        if (!isConditionFailure(err)) throw unavailable('PutItem', err);
        const found = (await this.itemFrom(err, key)) ?? null;
        const t = this.now();
        if (found === null || this.expired(found, t)) {
          // Deleted or expired since the write: try again (bounded; then report it as busy).
          if (round < CONDITIONAL_RETRIES) continue;
          return { kind: 'busy', until: t + 1_000 };
        }
        if (found.state === 'claimed') {
          if (found.leaseUntil >= t) return { kind: 'busy', until: found.leaseUntil };
          // Its lease passed since the write: take it over (bounded), never drop it as a duplicate.
          if (round < CONDITIONAL_RETRIES) continue;
          return { kind: 'busy', until: t + 1_000 };
        }
        return { kind: 'duplicate', state: found.state };
      }
    }
  }

  /** Receiver: gives back its own claim (the queue refused the event). Best effort by nature. */
  async unclaim(key: string, owner: string): Promise<void> {
    try {
      await this.timed('unclaim', 'DeleteItem', {
        TableName: this.table,
        Key: { pk: s(key) },
        ConditionExpression: '#o = :me AND #s = :claimed',
        ExpressionAttributeNames: { '#o': NAMES['#o'], '#s': NAMES['#s'] },
        ExpressionAttributeValues: { ':me': s(owner), ':claimed': s('claimed') },
      });
    } catch (err) {
      if (!isConditionFailure(err)) throw unavailable('DeleteItem', err);
    }
  }

  /**
   * Forwarder: takes `key` for one delivery attempt. Free when absent, expired, `claimed`,
   * `queued`, `dead` (a replayed dead letter), or a `delivering` whose lease has passed.
   */
  async beginDelivery(key: string, owner: string): Promise<ClaimResult> {
    for (let round = 0; ; round += 1) {
      const now = this.now();
      try {
        await this.timed('deliver', 'UpdateItem', {
          TableName: this.table,
          Key: { pk: s(key) },
          UpdateExpression: 'SET #s = :delivering, #o = :me, #l = :lease, #e = :exp',
          ConditionExpression:
            'attribute_not_exists(pk) OR #e <= :nowS OR #s IN (:claimed, :queued, :dead) OR (#s = :delivering AND #l < :now)',
          ExpressionAttributeNames: { ...NAMES },
          ExpressionAttributeValues: {
            ':delivering': s('delivering'),
            ':me': s(owner),
            ':lease': n(now + this.leaseMs),
            ':exp': n(this.expiresAt(now)),
            ':nowS': n(nowSeconds(now)),
            ':claimed': s('claimed'),
            ':queued': s('queued'),
            ':dead': s('dead'),
            ':now': n(now),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return { kind: 'claimed' };
      } catch (err) {
        if (!isConditionFailure(err)) throw unavailable('UpdateItem', err);
        const found = await this.itemFrom(err, key);
        const t = this.now();
        if (found && !this.expired(found, t)) {
          if (found.state === 'delivered') return { kind: 'duplicate', state: 'delivered' };
          if (found.state === 'delivering' && found.leaseUntil >= t) return { kind: 'busy', until: found.leaseUntil };
        }
        if (round >= CONDITIONAL_RETRIES) return { kind: 'busy', until: t + 1_000 };
      }
    }
  }

  /** Forwarder: Distinct has the event. Unconditional: whoever holds the key now, it is delivered. */
  async delivered(key: string, owner: string): Promise<void> {
    const now = this.now();
    await this.timed('delivered', 'UpdateItem', {
      TableName: this.table,
      Key: { pk: s(key) },
      UpdateExpression: 'SET #s = :delivered, #o = :me, #e = :exp REMOVE #l',
      ExpressionAttributeNames: { '#s': NAMES['#s'], '#o': NAMES['#o'], '#e': NAMES['#e'], '#l': NAMES['#l'] },
      ExpressionAttributeValues: { ':delivered': s('delivered'), ':me': s(owner), ':exp': n(this.expiresAt(now)) },
    }).catch((err: unknown) => {
      throw unavailable('UpdateItem', err);
    });
  }

  /**
   * Forwarder: several deliveries at once, one BatchWriteItem per 25 keys (unconditional puts of
   * the whole `delivered` item: the same result as {@link delivered}, a fraction of the calls).
   * Items DynamoDB reports unprocessed (throttling) are sent again, up to 3 times; then it throws.
   */
  async deliveredMany(entries: ReadonlyArray<{ key: string; owner: string }>): Promise<void> {
    const now = this.now();
    const expiresAt = n(this.expiresAt(now));
    const unique = new Map<string, string>();
    for (const e of entries) unique.set(e.key, e.owner); // a batch must not name a key twice
    const puts = [...unique].map(([key, owner]) => ({
      PutRequest: { Item: { pk: s(key), state: s('delivered'), owner: s(owner), expiresAt } },
    }));
    await Promise.all(
      chunk(puts, BATCH_WRITE_MAX).map(async (part) => {
        let todo: unknown[] = part;
        for (let round = 0; todo.length > 0; round += 1) {
          if (round > 0) {
            if (round > 3)
              throw new StoreUnavailableError(
                `the shared key store left ${todo.length} delivery record(s) unprocessed`,
              );
            await new Promise((r) => setTimeout(r, 25 * 2 ** round));
          }
          let out: { UnprocessedItems?: Record<string, unknown[]> };
          try {
            out = await this.timed('delivered', 'BatchWriteItem', { RequestItems: { [this.table]: todo } });
          } catch (err) {
            throw unavailable('BatchWriteItem', err);
          }
          todo = out.UnprocessedItems?.[this.table] ?? [];
        }
      }),
    );
  }

  /** Forwarder: ends its own delivery lease as `queued` (retry, release) or `dead`. A lost lease is left alone. */
  async endDelivery(key: string, owner: string, state: 'queued' | 'dead'): Promise<void> {
    try {
      await this.timed(state === 'dead' ? 'dead' : 'requeue', 'UpdateItem', {
        TableName: this.table,
        Key: { pk: s(key) },
        UpdateExpression: 'SET #s = :state REMOVE #l',
        ConditionExpression: '#o = :me AND #s = :delivering',
        ExpressionAttributeNames: { '#s': NAMES['#s'], '#o': NAMES['#o'], '#l': NAMES['#l'] },
        ExpressionAttributeValues: { ':state': s(state), ':me': s(owner), ':delivering': s('delivering') },
      });
    } catch (err) {
      if (!isConditionFailure(err)) throw unavailable('UpdateItem', err);
    }
  }

  /** The item as stored (strongly consistent), or null; expired items are returned as they are. */
  async get(key: string): Promise<KeyItem | null> {
    let out;
    try {
      out = await this.timed<{ Item?: Record<string, AttributeValue> }>('get', 'GetItem', {
        TableName: this.table,
        Key: { pk: s(key) },
        ConsistentRead: true,
      });
    } catch (err) {
      throw unavailable('GetItem', err);
    }
    return out.Item ? parseItem(out.Item) : null;
  }

  close(): void {
    this.sdk?.destroy();
    this.sdk = null;
    const http = this.http;
    this.http = null;
    void http?.then(
      (h) => h.close(),
      () => undefined,
    );
  }

  // ---- internals ----

  private item(
    key: string,
    state: KeyState,
    owner: string,
    leaseUntil: number,
    now: number,
  ): Record<string, AttributeValue> {
    return {
      pk: s(key),
      state: s(state),
      owner: s(owner),
      leaseUntil: n(leaseUntil),
      expiresAt: n(this.expiresAt(now)),
    };
  }

  private expiresAt(now: number): number {
    return Math.ceil((now + this.windowMs) / 1000);
  }

  private expired(item: KeyItem, now: number): boolean {
    return item.expiresAt <= nowSeconds(now);
  }

  /** The item a failed condition saw: returned with the error by DynamoDB, read back on dynalite. */
  private async itemFrom(err: unknown, key: string): Promise<KeyItem | null> {
    const old = (err as { Item?: Record<string, AttributeValue> }).Item;
    if (old) return parseItem(old);
    return this.get(key);
  }

  /** The signed client, built once: region, endpoint and credentials as the file header says. */
  private items(): Promise<DynamoHttp> {
    if (!this.http) {
      const built = (async () => {
        const env = this.env;
        let region = this.region ?? (this.local ? 'us-east-1' : undefined);
        let credentials: () => Promise<DynamoCredentials>;
        if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
          const fixed: DynamoCredentials = {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            sessionToken: env.AWS_SESSION_TOKEN || undefined,
          };
          credentials = async () => fixed;
        } else if (this.local) {
          // A local API (dynalite) takes any credentials.
          const dummy: DynamoCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
          credentials = async () => dummy;
        } else {
          // The SDK's provider chain (cached and refreshed by it); its region resolution too.
          const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof DynamoSdk;
          this.sdk = new DynamoDBClient({ region });
          const config = this.sdk.config as unknown as {
            region: () => Promise<string>;
            credentials: () => Promise<DynamoCredentials>;
          };
          region ??= await config.region();
          credentials = () => config.credentials();
        }
        if (!region) throw new Error('no region: set dedupe.store.region or AWS_REGION');
        const url = new URL(
          this.endpoint ?? `https://dynamodb.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`,
        );
        return new DynamoHttp({ endpoint: url, region, credentials, requestTimeoutMs: this.requestTimeoutMs });
      })();
      built.catch(() => {
        if (this.http === built) this.http = null;
      });
      this.http = built;
    }
    return this.http;
  }

  private async timed<T = Record<string, unknown>>(
    op: string,
    operation: string,
    payload: Record<string, unknown>,
  ): Promise<T> {
    const call = async (): Promise<T> => (await this.items()).call<T>(operation, payload);
    if (!this.observer) return call();
    const started = performance.now();
    let failed = false;
    try {
      return await call();
    } catch (err) {
      failed = !isConditionFailure(err);
      throw err;
    } finally {
      this.observer.call(op, (performance.now() - started) / 1000, failed);
    }
  }
}

function parseItem(item: Record<string, AttributeValue>): KeyItem {
  return {
    pk: item.pk?.S ?? '',
    state: (item.state?.S ?? 'claimed') as KeyState,
    owner: item.owner?.S ?? '',
    leaseUntil: Number(item.leaseUntil?.N ?? 0),
    expiresAt: Number(item.expiresAt?.N ?? Number.MAX_SAFE_INTEGER),
  };
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

function unavailable(op: string, err: unknown): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new StoreUnavailableError(`the shared key store did not answer ${op} (${why})`, { cause: err });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function nowSeconds(now: number): number {
  return Math.floor(now / 1000);
}

function s(value: string): AttributeValue {
  return { S: value };
}

function n(value: number): AttributeValue {
  return { N: String(value) };
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return (
      host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1' || host.endsWith('.localhost')
    );
  } catch {
    return false;
  }
}
