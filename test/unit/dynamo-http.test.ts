/**
 * The key store's lean DynamoDB client (src/dedupe/dynamo-http.ts) signs its requests itself:
 * dynalite does not check signatures, so they are checked here against the AWS SDK's own
 * Signature V4 signer (the package the SDK clients sign with), for the same request, with and
 * without a session token (x-amz-content-sha256 is left out on both sides: optional outside S3),
 * and against AWS's published example signing key.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { DynamoHttp } from '../../src/dedupe/dynamo-http';

const DATE = new Date('2026-12-07T17:30:12.345Z');
const BODY = JSON.stringify({
  TableName: 'distinct-adapter-keys',
  Key: { pk: { S: 'sendgrid:abc' } },
  ConsistentRead: true,
});

/** The Checksum shape SignatureV4 takes (what @smithy/hash-node provides inside the SDK). */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

async function sdkAuthorization(
  endpoint: URL,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  headers: Record<string, string>,
): Promise<string> {
  const signer = new SignatureV4({
    service: 'dynamodb',
    region,
    credentials,
    sha256: Sha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const { authorization: _ignored, ...unsigned } = headers;
  const request = {
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: '/',
    query: {},
    headers: unsigned,
    body: BODY,
  };
  const signed = await signer.sign(request, { signingDate: DATE });
  return signed.headers.authorization!;
}

test.each([
  [
    'AWS, static keys',
    'https://dynamodb.eu-west-1.amazonaws.com/',
    'eu-west-1',
    { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  ],
  [
    'AWS, Lambda session credentials',
    'https://dynamodb.us-east-1.amazonaws.com/',
    'us-east-1',
    {
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret/with+chars',
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//token==',
    },
  ],
  ['a local API on a port', 'http://127.0.0.1:8000/', 'us-east-1', { accessKeyId: 'local', secretAccessKey: 'local' }],
])("the signature equals the AWS SDK signer's: %s", async (_label, url, region, credentials) => {
  const endpoint = new URL(url);
  const client = new DynamoHttp({ endpoint, region, credentials: async () => credentials });
  const headers = client.sign('GetItem', BODY, credentials, DATE);
  client.close();
  expect(headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
  expect(headers['x-amz-date']).toBe('20261207T173012Z');
  expect(headers.authorization).toBe(await sdkAuthorization(endpoint, region, credentials, headers));
});

test("the signing key derivation matches AWS's published example", () => {
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html (derivation),
  // example from the Signature V4 documentation: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
  // 20150830, us-east-1, iam.
  const h = (k: string | Buffer, s: string): Buffer => createHmac('sha256', k).update(s).digest();
  const key = h(
    h(h(h('AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830'), 'us-east-1'), 'iam'),
    'aws4_request',
  );
  expect(key.toString('hex')).toBe('c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
});
