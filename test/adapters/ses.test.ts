/**
 * Amazon SES (via SNS) quirks the shared conformance suite does not cover: a real AWS-signed SNS
 * message checked against AWS's certificate, signature versions 1 and 2, the canonical strings,
 * certificate URL rules, the certificate cache and preload, the topic allowlist, the subscription
 * handshake (directly and over real HTTP), one event per recipient, message-tag overrides, times,
 * parse errors and `simulate` samples. No test touches the network: fetches go to a fake fetcher,
 * and the production fetcher is exercised against a local HTTP server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { adapter } from '../../adapters/ses';
import { buildConfig } from '../helpers/config';
import {
  ConfigurationError,
  WebhookAdapterError,
  WebhookParseError,
  WebhookVerificationError,
  type VerificationReason,
} from '../../src/core/errors';
import { createWebhookRequest } from '../../src/body/webhook-request';
import type { WebhookRequest } from '../../src/core/request';
import { completeDraft } from '../../src/mapping/normalize';
import { ReplayCache } from '../../src/core/replay-cache';
import { httpsGet, type SnsFetcher } from '../../src/verify/sns-certificates';
import type { SnsSettings, SnsSigner } from '../../src/verify/sns-endpoint';
import {
  signSnsEnvelope,
  snsStringToSign,
  snsUrlProblem,
  type SnsSignatureVersion,
} from '../../src/verify/sns-signature';
import { parseErrorOf, verdictOf } from '../helpers/fixtures';
import { appOver, memoryOutbox } from '../helpers/serve';

const NOW = new Date('2026-04-27T13:35:00Z');
const TOPIC = 'arn:aws:sns:us-west-2:123456789012:MyTopic';
const FOREIGN_TOPIC = 'arn:aws:sns:us-west-2:999999999999:SomeoneElsesTopic';
const UNLISTED_CERT =
  'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';

// A real message signed by Amazon SNS (SignatureVersion 1) and the real SNS certificate that
// verifies it, published as test resources of the AWS SDK for Java v2 (Apache-2.0):
// services/sns/src/test/resources/software/amazon/awssdk/services/sns/sample-message.json and
// unit-test-public-cert.pem @ 30c3112. The certificate expired in 2016; SNS trust does not rest on dates.
const AWS_MESSAGE = {
  Type: 'Notification',
  MessageId: 'd39649d4-bf5b-5b80-af75-07acb3dd9b4a',
  TopicArn: 'arn:aws:sns:us-east-1:810605503585:just_testing',
  Subject: 'this is raw',
  Message: 'boo',
  Timestamp: '2015-09-20T01:22:14.001Z',
  SignatureVersion: '1',
  Signature:
    'fQh5DUyhpw41y6tx/BJuqK2Clvs7uY6N7poaOfzK08E+C6saKq9dMz5b9A0lGWWU7VsB+qHELBaL3OdS9U4BmFI36Ppt5Q6BsWmqSho+1hgwBYFFFZghO6BYXxsNmLml1yZl2X+MQKy3D516hgN7pUvYnvvq2cfsvy21ivU6Oiv96gcte2s+aPUi6O9CAdc2GfZRXCqC9wowKoxhFUUQW/UTHQfxt/60qWgNxhhVwAbPtnXWkAXwxixYKl5qOHcl3u2TxkAHn+1X8XmgjnpvEO5p0vQvOEHXBnGsjPglRXE9g5FVnAFXjhvHXeTWUcVLNI0eSRJeOBPbKpkjeDsR4g==',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem',
  UnsubscribeURL:
    'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:810605503585:just_testing:3c6297c1-326e-4931-9351-ccc48e02f08a',
  MessageAttributes: {
    'AWS.SNS.MOBILE.MPNS.Type': { Type: 'String', Value: 'token' },
    'AWS.SNS.MOBILE.MPNS.NotificationClass': { Type: 'String', Value: 'realtime' },
    'AWS.SNS.MOBILE.WNS.Type': { Type: 'String', Value: 'wns/badge' },
  },
};
const AWS_CERT = [
  '-----BEGIN CERTIFICATE-----',
  'MIIE2zCCA8OgAwIBAgIQEyYsBRbV0xBZovJwPnu51TANBgkqhkiG9w0BAQsFADB+',
  'MQswCQYDVQQGEwJVUzEdMBsGA1UEChMUU3ltYW50ZWMgQ29ycG9yYXRpb24xHzAd',
  'BgNVBAsTFlN5bWFudGVjIFRydXN0IE5ldHdvcmsxLzAtBgNVBAMTJlN5bWFudGVj',
  'IENsYXNzIDMgU2VjdXJlIFNlcnZlciBDQSAtIEc0MB4XDTE1MDgwNzAwMDAwMFoX',
  'DTE2MDgyMTIzNTk1OVowazELMAkGA1UEBhMCVVMxEzARBgNVBAgMCldhc2hpbmd0',
  'b24xEDAOBgNVBAcMB1NlYXR0bGUxGTAXBgNVBAoMEEFtYXpvbi5jb20sIEluYy4x',
  'GjAYBgNVBAMMEXNucy5hbWF6b25hd3MuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOC',
  'AQ8AMIIBCgKCAQEAhJxlGxd4K3wE9m2DFSnUDa+8f9VtclE63p3IgP4Ek/JruNCl',
  'M8yQiZWhXxTu+ASn6plnL5kIQNv/OzpRkC2ko1hjx31JQmjL9H29AlQgVXr4UeIm',
  'RZc8AGqh00xLvopj3J+t/oigH5zeMh+rhOYoqr9NjvFUIFfFat42XOhUNpOyPiLb',
  'N6yuD7Vec7jlVeTG9q7W+V0TupmiQ+pM/RX+ksCCFlQkLH8fB3H4Nr7IHjWuAify',
  'Z+djibL1CR/e2rEDAmpK1wA4Hkx5YFNDAp/WgAs6nSq7MtEvfs1oP1dHwYaNA8Z2',
  'zcYGqb5ORtz1bFZy+JLzf7K/PnqEzkf8ywC3IwIDAQABo4IBZjCCAWIwHAYDVR0R',
  'BBUwE4IRc25zLmFtYXpvbmF3cy5jb20wCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMC',
  'BaAwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsGAQUFBwMCMGEGA1UdIARaMFgwVgYG',
  'Z4EMAQICMEwwIwYIKwYBBQUHAgEWF2h0dHBzOi8vZC5zeW1jYi5jb20vY3BzMCUG',
  'CCsGAQUFBwICMBkaF2h0dHBzOi8vZC5zeW1jYi5jb20vcnBhMB8GA1UdIwQYMBaA',
  'FF9gz2GQVd+EQxSKYCqy9Xr0QxjvMCsGA1UdHwQkMCIwIKAeoByGGmh0dHA6Ly9z',
  'cy5zeW1jYi5jb20vc3MuY3JsMFcGCCsGAQUFBwEBBEswSTAfBggrBgEFBQcwAYYT',
  'aHR0cDovL3NzLnN5bWNkLmNvbTAmBggrBgEFBQcwAoYaaHR0cDovL3NzLnN5bWNi',
  'LmNvbS9zcy5jcnQwDQYJKoZIhvcNAQELBQADggEBADJP+dxUtQlrRiyt4xn8R184',
  'wjyf/OVfnA2YqIKPQKz17JPwmm1grDGGw2A6LvsIENHZFg67twZqHgrzmtL4iVrv',
  'lBCef1QA4AUyUZsJWobx7cCB44PlVcfad69q61OzXMSVUSWzyvw3PU7NW/b2Ny9C',
  'Zj1p/uwaUOlS6NQTkAlAqE8JZK5f8/kAcoebd0GWBcJwZ5AY0/5ZMzaa55hW+im8',
  'GzjWCO0mkK6swdvpPYPeQUQ2lb/mqj6HBHa864sgPMgjyx9TuviYWsKhbUZIpysy',
  'tKvJsKCmyR4pp0HpCsf0tOxrWRjH9cnuqrR//iKXPw3HlYpa5wu9c51cLH/D3dU=',
  '-----END CERTIFICATE-----',
].join('\n');

/** The SES event-publishing Delivery used by the hand-built envelopes below. */
function sesMessage(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: 'Delivery',
    mail: {
      timestamp: '2026-04-27T13:34:00.100Z',
      messageId: '0100018f-test-0001-000000',
      destination: ['ana@example.com'],
      tags: { 'ses:configuration-set': ['events'] },
    },
    delivery: { timestamp: '2026-04-27T13:34:02.250Z', recipients: ['ana@example.com'], smtpResponse: '250 OK' },
    ...over,
  };
}

function notification(
  over: Record<string, unknown> = {},
  message: Record<string, unknown> = sesMessage(),
): Record<string, unknown> {
  return {
    Type: 'Notification',
    MessageId: '7a1f8e0e-3d59-4a52-9f3c-5a1b0c2d3e4f',
    TopicArn: TOPIC,
    Message: JSON.stringify(message),
    Timestamp: '2026-04-27T13:34:03.000Z',
    SignatureVersion: '1',
    UnsubscribeURL: `https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:abc`,
    ...over,
  };
}

function confirmation(
  type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation',
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    Type: type,
    MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
    Token:
      '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
    TopicArn: TOPIC,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37fb687f`,
    Timestamp: '2026-04-27T13:34:59.751Z',
    SignatureVersion: '1',
    ...over,
  };
}

const creds = adapter.testing.createCredentials();
const signer: SnsSigner = creds.signer;

function sign(
  envelope: Record<string, unknown>,
  version: SnsSignatureVersion = '1',
  by: SnsSigner = signer,
): Record<string, unknown> {
  return signSnsEnvelope(envelope, by.privateKey, by.certUrl, version);
}

function toRequest(body: Record<string, unknown> | Buffer | string, method = 'POST'): WebhookRequest {
  const raw = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return createWebhookRequest({
    method,
    url: 'https://hooks.example.com/webhooks/ses',
    query: '',
    headers: { 'content-type': 'text/plain; charset=UTF-8' },
    rawBody: raw,
    receivedAt: NOW,
  });
}

/** Fresh settings (own certificate cache) with a recording fake fetcher; `answers` by URL, default 404. */
function setup(
  options: Record<string, unknown> = creds.options,
  answers: Record<string, { status: number; body: string } | Error> = {},
): { settings: SnsSettings; calls: string[] } {
  const calls: string[] = [];
  const fetcher: SnsFetcher = async (url) => {
    calls.push(url);
    const answer = answers[url] ?? { status: 404, body: '' };
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { settings: { ...adapter.settingsSchema.parse(options), fetcher }, calls };
}

function reason(
  body: Record<string, unknown> | Buffer | string,
  settings: SnsSettings,
): Promise<VerificationReason | 'ok'> {
  return verdictOf(() => adapter.verify(toRequest(body), settings, { replayCache: new ReplayCache(60_000) }));
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('verify(): a real AWS-signed message (AWS SDK for Java v2 test vector)', () => {
  const awsOptions = { topicArns: [AWS_MESSAGE.TopicArn], certificates: { [AWS_MESSAGE.SigningCertURL]: AWS_CERT } };

  test('verifies with the preloaded AWS certificate (CERTIFICATE PEM) without any fetch', async () => {
    const { settings, calls } = setup(awsOptions);
    expect(await reason(AWS_MESSAGE, settings)).toBe('ok');
    expect(calls).toEqual([]);
  });

  test('verifies with the same certificate fetched from its SigningCertURL', async () => {
    const { settings, calls } = setup(
      { topicArns: [AWS_MESSAGE.TopicArn] },
      { [AWS_MESSAGE.SigningCertURL]: { status: 200, body: AWS_CERT } },
    );
    expect(await reason(AWS_MESSAGE, settings)).toBe('ok');
    expect(calls).toEqual([AWS_MESSAGE.SigningCertURL]);
  });

  test.each([
    ['Subject', 'this is cooked'],
    ['Message', 'boo!'],
    ['Timestamp', '2015-09-20T01:22:14.002Z'],
    ['MessageId', 'd39649d4-bf5b-5b80-af75-07acb3dd9b4b'],
  ])('a changed %s no longer verifies (it is signed)', async (key, value) => {
    expect(await reason({ ...AWS_MESSAGE, [key]: value }, setup(awsOptions).settings)).toBe('signature_mismatch');
  });

  test('unsigned envelope fields (UnsubscribeURL, MessageAttributes) may change without failing', async () => {
    const changed = {
      ...AWS_MESSAGE,
      UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?other',
      MessageAttributes: {},
    };
    expect(await reason(changed, setup(awsOptions).settings)).toBe('ok');
  });

  test('without Subject the key is left out of the string to sign, so the signature fails', async () => {
    const { Subject: _dropped, ...withoutSubject } = AWS_MESSAGE;
    expect(await reason(withoutSubject, setup(awsOptions).settings)).toBe('signature_mismatch');
  });

  test('relabelled as SignatureVersion 2 it fails: the version picks the hash', async () => {
    expect(await reason({ ...AWS_MESSAGE, SignatureVersion: '2' }, setup(awsOptions).settings)).toBe(
      'signature_mismatch',
    );
  });
});

describe('the string to sign, as AWS documents it', () => {
  test('Notification: Message, MessageId, Subject (when present), Timestamp, TopicArn, Type', () => {
    expect(snsStringToSign(AWS_MESSAGE, 'Notification')).toBe(
      'Message\nboo\nMessageId\nd39649d4-bf5b-5b80-af75-07acb3dd9b4a\nSubject\nthis is raw\nTimestamp\n2015-09-20T01:22:14.001Z\n' +
        'TopicArn\narn:aws:sns:us-east-1:810605503585:just_testing\nType\nNotification\n',
    );
    const { Subject: _dropped, ...noSubject } = AWS_MESSAGE;
    expect(snsStringToSign(noSubject, 'Notification')).not.toContain('Subject');
  });

  test('UnsubscribeConfirmation uses the confirmation key list, Token and SubscribeURL included (not the Notification list)', () => {
    const shared = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'fixtures', 'ses', 'sns-unsubscribe-confirmation.json'), 'utf8'),
    ) as {
      request: { body: Record<string, string> };
    };
    const b = shared.request.body;
    expect(snsStringToSign(b, 'UnsubscribeConfirmation')).toBe(
      `Message\n${b.Message}\nMessageId\n${b.MessageId}\nSubscribeURL\n${b.SubscribeURL}\nTimestamp\n${b.Timestamp}\n` +
        `Token\n${b.Token}\nTopicArn\n${b.TopicArn}\nType\nUnsubscribeConfirmation\n`,
    );
  });

  test('escaped newlines in Message are signed as real newlines (decoded JSON values)', () => {
    const text = snsStringToSign(
      JSON.parse('{"Message":"a\\nb","MessageId":"m","Timestamp":"t","TopicArn":"x","Type":"Notification"}'),
      'Notification',
    );
    expect(text.startsWith('Message\na\nb\n')).toBe(true);
  });

  test('a signed key that is missing or not a string is malformed_signature', async () => {
    const { settings } = setup();
    expect(await reason(sign(notification({ Timestamp: undefined })), settings)).toBe('malformed_signature');
    expect(await reason(sign(notification({ MessageId: 42 })), settings)).toBe('malformed_signature');
  });
});

describe('signature versions', () => {
  test.each(['1', '2'] as const)('SignatureVersion %s verifies', async (version) => {
    expect(await reason(sign(notification(), version), setup().settings)).toBe('ok');
  });

  test('a v2 (SHA-256) signature relabelled as v1 fails, and vice versa', async () => {
    const { settings } = setup();
    expect(await reason({ ...sign(notification(), '2'), SignatureVersion: '1' }, settings)).toBe('signature_mismatch');
    expect(await reason({ ...sign(notification(), '1'), SignatureVersion: '2' }, settings)).toBe('signature_mismatch');
  });

  test.each([['3'], [1], [undefined], ['']])('SignatureVersion %p is malformed_signature', async (version) => {
    expect(await reason({ ...sign(notification()), SignatureVersion: version }, setup().settings)).toBe(
      'malformed_signature',
    );
  });

  test('a Signature that is not base64 is malformed_signature; an absent one missing_signature', async () => {
    const { settings } = setup();
    expect(await reason({ ...sign(notification()), Signature: 'not base64!' }, settings)).toBe('malformed_signature');
    expect(await reason({ ...sign(notification()), Signature: 'A'.repeat(4096) }, settings)).toBe(
      'malformed_signature',
    );
    const { Signature: _dropped, ...unsigned } = sign(notification());
    expect(await reason(unsigned, settings)).toBe('missing_signature');
  });

  test('an unknown SNS Type cannot be verified (malformed_signature)', async () => {
    expect(await reason(sign(notification({ Type: 'Notice' })), setup().settings)).toBe('malformed_signature');
  });

  test('a body that is not a JSON object carries no signature', async () => {
    const { settings } = setup();
    expect(await reason('', settings)).toBe('missing_signature');
    expect(await reason('[1,2]', settings)).toBe('missing_signature');
  });

  test('raw message delivery (bare SES JSON) is rejected with a hint to turn it off', async () => {
    const err = await thrown(
      adapter.verify(toRequest(sesMessage()), setup().settings, { replayCache: new ReplayCache(1) }) as Promise<void>,
    );
    expect(err).toBeInstanceOf(WebhookVerificationError);
    expect((err as WebhookVerificationError).reason).toBe('missing_signature');
    expect((err as Error).message).toMatch(/raw message delivery/);
  });

  test('every single-bit change inside the signed Message is rejected', async () => {
    const { settings } = setup();
    const body = Buffer.from(JSON.stringify(sign(notification())), 'utf8');
    const start = body.indexOf('"Message":"') + '"Message":"'.length;
    const end = body.indexOf('","Timestamp"');
    const outcomes = new Set<string>();
    for (let i = start; i < end; i += 1) {
      const flipped = Buffer.from(body);
      flipped[i] = flipped[i]! ^ 0x01;
      outcomes.add(await reason(flipped, settings));
    }
    expect(outcomes.has('ok')).toBe(false);
    expect(outcomes.has('signature_mismatch')).toBe(true);
  });
});

test('a real self-signed X.509 certificate (generated with openssl at run time) verifies a v2 signature', async () => {
  if (spawnSync('openssl', ['version']).status !== 0) {
    // Without openssl the CERTIFICATE path is still covered by the AWS vector above.
    expect(spawnSync('openssl', ['version']).status).not.toBe(0);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ses-cert-'));
  try {
    const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-subj',
        '/CN=sns.amazonaws.com',
        '-days',
        '1',
      ],
      {
        stdio: 'ignore',
      },
    );
    const cert = readFileSync(certFile, 'utf8');
    const by = { privateKey: readFileSync(keyFile, 'utf8'), certUrl: UNLISTED_CERT };
    const { settings } = setup({ topicArns: [TOPIC], certificates: { [UNLISTED_CERT]: cert } });
    expect(cert.startsWith('-----BEGIN CERTIFICATE-----')).toBe(true);
    expect(await reason(sign(notification(), '2', by), settings)).toBe('ok');
    expect(await reason(sign(notification(), '2', { ...signer, certUrl: UNLISTED_CERT }), settings)).toBe(
      'signature_mismatch',
    ); // another key, same URL
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the private key never outlives the test
  }
});

describe('SigningCertURL rules: https, an sns.<region>.amazonaws.com host, a .pem path', () => {
  const rejected = [
    'http://sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-west-2.amazonaws.com.evil.net/SimpleNotificationService-abc.pem',
    'https://sns.us-west-2.amazonaws.com./SimpleNotificationService-abc.pem',
    'https://evil-sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-west-2.evil.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sqs.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://evil.net/sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-west-2.amazonaws.com@evil.net/SimpleNotificationService-abc.pem',
    'https://user@sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.us-west-2.amazonaws.com:8443/SimpleNotificationService-abc.pem',
    'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.txt',
    'file:///etc/ssl/sns.pem',
    'not a url',
  ];

  test.each(rejected)('%s → untrusted_certificate, never fetched', async (url) => {
    const { settings, calls } = setup(creds.options, { [url]: { status: 200, body: AWS_CERT } });
    expect(await reason(sign(notification(), '1', { ...signer, certUrl: url }), settings)).toBe(
      'untrusted_certificate',
    );
    expect(calls).toEqual([]);
  });

  test.each([
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem',
    'https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://SNS.EU-WEST-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem',
  ])('%s is acceptable', (url) => {
    expect(snsUrlProblem(url, 'certificate')).toBeUndefined();
  });

  test('an SNS URL without .pem is acceptable as a SubscribeURL but not as a certificate', () => {
    const url = 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=x';
    expect(snsUrlProblem(url, 'subscribe')).toBeUndefined();
    expect(snsUrlProblem(url, 'certificate')).toMatch(/\.pem/);
  });

  test('a SigningCertURL that is absent is untrusted_certificate', async () => {
    const { SigningCertURL: _dropped, ...rest } = sign(notification());
    expect(await reason(rest, setup().settings)).toBe('untrusted_certificate');
  });
});

describe('certificate preload and cache', () => {
  const publicPem = (): { pem: string; by: SnsSigner } => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      by: { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), certUrl: UNLISTED_CERT },
    };
  };

  test('a preloaded URL is never fetched', async () => {
    const { settings, calls } = setup();
    expect(await reason(sign(notification()), settings)).toBe('ok');
    expect(calls).toEqual([]);
  });

  test('an unlisted URL is fetched once, then served from the cache (sequential and concurrent requests)', async () => {
    const { pem, by } = publicPem();
    const { settings, calls } = setup(creds.options, { [UNLISTED_CERT]: { status: 200, body: pem } });
    const results = await Promise.all([1, 2, 3].map(() => reason(sign(notification(), '2', by), settings)));
    expect(results).toEqual(['ok', 'ok', 'ok']);
    expect(await reason(sign(notification({ MessageId: 'another' }), '1', by), settings)).toBe('ok');
    expect(calls).toEqual([UNLISTED_CERT]);
    expect(settings.certificates.cachedCount).toBe(1);
  });

  test('a network failure is a 500 (InternalError, so SNS retries) and is not cached', async () => {
    const { pem, by } = publicPem();
    const answers: Record<string, { status: number; body: string } | Error> = {
      [UNLISTED_CERT]: new Error('ECONNRESET'),
    };
    const { settings, calls } = setup(creds.options, answers);
    const err = await thrown(reason(sign(notification(), '1', by), settings));
    expect(err).toBeInstanceOf(WebhookAdapterError);
    expect((err as WebhookAdapterError).statusCode).toBe(500);
    answers[UNLISTED_CERT] = { status: 200, body: pem };
    expect(await reason(sign(notification(), '1', by), settings)).toBe('ok');
    expect(calls).toEqual([UNLISTED_CERT, UNLISTED_CERT]);
  });

  test('AWS answering 5xx is a 500 too; 404 or a body that is no RSA key is untrusted_certificate', async () => {
    const { by } = publicPem();
    const upstream = await thrown(
      reason(
        sign(notification(), '1', by),
        setup(creds.options, { [UNLISTED_CERT]: { status: 503, body: '' } }).settings,
      ),
    );
    expect((upstream as WebhookAdapterError).statusCode).toBe(500);
    expect(
      await reason(
        sign(notification(), '1', by),
        setup(creds.options, { [UNLISTED_CERT]: { status: 404, body: '' } }).settings,
      ),
    ).toBe('untrusted_certificate');
    expect(
      await reason(
        sign(notification(), '1', by),
        setup(creds.options, { [UNLISTED_CERT]: { status: 200, body: '<html>' } }).settings,
      ),
    ).toBe('untrusted_certificate');
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString();
    expect(
      await reason(
        sign(notification(), '1', by),
        setup(creds.options, { [UNLISTED_CERT]: { status: 200, body: ec } }).settings,
      ),
    ).toBe('untrusted_certificate');
  });
});

describe('topic allowlist', () => {
  test('a valid signature from a topic not in topicArns is bad_credentials, checked before any certificate fetch', async () => {
    const { settings, calls } = setup({ topicArns: [TOPIC] }, { [signer.certUrl]: { status: 200, body: '' } });
    expect(await reason(sign(notification({ TopicArn: FOREIGN_TOPIC })), settings)).toBe('bad_credentials');
    expect(calls).toEqual([]);
  });

  test('several topics may be listed, also as one comma-separated string (one environment variable)', async () => {
    const { settings } = setup({ ...creds.options, topicArns: `${FOREIGN_TOPIC}, ${TOPIC}` });
    expect([...settings.topicArns]).toEqual([FOREIGN_TOPIC, TOPIC]);
    expect(await reason(sign(notification({ TopicArn: FOREIGN_TOPIC })), settings)).toBe('ok');
  });

  test('the match is exact (no prefix or case folding)', async () => {
    const { settings } = setup();
    expect(await reason(sign(notification({ TopicArn: `${TOPIC}2` })), settings)).toBe('bad_credentials');
    expect(await reason(sign(notification({ TopicArn: TOPIC.toLowerCase() })), settings)).toBe('bad_credentials');
  });
});

describe('settings schema', () => {
  const problems = (options: Record<string, unknown>): string[] => {
    try {
      buildConfig(
        {
          distinct: { apiKey: 'k' },
          sources: { ses: { feature: 'registration_email', experienceId: 'e', ...options } },
        },
        {},
        null,
        [adapter],
      );
    } catch (err) {
      if (err instanceof ConfigurationError) return [...err.problems];
      throw err;
    }
    return [];
  };

  test('topicArns is required, with a message that says why', () => {
    expect(problems({}).join('\n')).toMatch(/sources\.ses\.topicArns: required: .*any AWS account/);
  });

  test('a value that is not a topic ARN is refused', () => {
    expect(problems({ topicArns: ['MyTopic'] }).join('\n')).toMatch(/topicArns\.0: not an SNS topic ARN/);
    expect(problems({ topicArns: [] }).join('\n')).toMatch(/at least one topic ARN/);
  });

  test('certificates: a URL SNS would never send, or a value that is no RSA PEM, stops start-up', () => {
    const ecPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString();
    const rsaPrivate = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const text = problems({
      topicArns: [TOPIC],
      certificates: {
        'http://sns.us-west-2.amazonaws.com/a.pem': AWS_CERT,
        [UNLISTED_CERT]: ecPem,
        [signer.certUrl]: rsaPrivate,
      },
    }).join('\n');
    expect(text).toMatch(/is not https: SNS never sends such a SigningCertURL/);
    expect(text.match(/not an RSA certificate or public key in PEM/g)).toHaveLength(2);
  });

  test('PEM with literal \\n (as environment variables carry it) is understood', async () => {
    const pem = (creds.options.certificates as Record<string, string>)[signer.certUrl]!.replace(/\n/g, '\\n');
    const { settings } = setup({ topicArns: [TOPIC], certificates: { [signer.certUrl]: pem } });
    expect(await reason(sign(notification()), settings)).toBe('ok');
  });

  test('unknown options are refused (strict)', () => {
    expect(problems({ topicArns: [TOPIC], signingKey: 'x' }).join('\n')).toMatch(/signingKey/);
  });
});

describe('handshake: SubscriptionConfirmation and UnsubscribeConfirmation', () => {
  const subscribeUrl = String(confirmation('SubscriptionConfirmation').SubscribeURL);

  test('an allowlisted, validly signed SubscriptionConfirmation is confirmed by GETting SubscribeURL → 200', async () => {
    const { settings, calls } = setup(creds.options, {
      [subscribeUrl]: { status: 200, body: '<ConfirmSubscriptionResponse/>' },
    });
    const res = await adapter.handshake!(toRequest(sign(confirmation('SubscriptionConfirmation'), '2')), settings);
    expect(res).toEqual({ status: 200, body: { ok: true, confirmed: TOPIC } });
    expect(calls).toEqual([subscribeUrl]);
  });

  test('a confirmation for a topic not in topicArns is 401 bad_credentials and nothing is fetched', async () => {
    const { settings, calls } = setup(creds.options, { [subscribeUrl]: { status: 200, body: '' } });
    const err = await thrown(
      adapter.handshake!(
        toRequest(sign(confirmation('SubscriptionConfirmation', { TopicArn: FOREIGN_TOPIC }))),
        settings,
      ) as Promise<unknown>,
    );
    expect(err).toBeInstanceOf(WebhookVerificationError);
    expect((err as WebhookVerificationError).reason).toBe('bad_credentials');
    expect((err as WebhookVerificationError).statusCode).toBe(401);
    expect(calls).toEqual([]);
  });

  test('a confirmation with a bad or missing signature is 401 and nothing is fetched', async () => {
    const { settings, calls } = setup(creds.options, { [subscribeUrl]: { status: 200, body: '' } });
    const tampered = { ...sign(confirmation('SubscriptionConfirmation')), Token: 'changed' };
    const { Signature: _dropped, ...unsigned } = sign(confirmation('SubscriptionConfirmation'));
    for (const [body, why] of [
      [tampered, 'signature_mismatch'],
      [unsigned, 'missing_signature'],
    ] as const) {
      const err = await thrown(adapter.handshake!(toRequest(body), settings) as Promise<unknown>);
      expect((err as WebhookVerificationError).reason).toBe(why);
    }
    expect(calls).toEqual([]);
  });

  test.each([
    'http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=x',
    'https://sns.us-west-2.amazonaws.com.evil.net/?Action=ConfirmSubscription&Token=x',
    'https://169.254.169.254/latest/meta-data/',
  ])('a signed SubscribeURL %s is not followed (400)', async (url) => {
    const { settings, calls } = setup(creds.options, { [url]: { status: 200, body: '' } });
    const err = await thrown(
      adapter.handshake!(
        toRequest(sign(confirmation('SubscriptionConfirmation', { SubscribeURL: url }))),
        settings,
      ) as Promise<unknown>,
    );
    expect(err).toBeInstanceOf(WebhookParseError);
    expect((err as WebhookParseError).statusCode).toBe(400);
    expect(calls).toEqual([]);
  });

  test.each([[{ status: 403, body: 'expired' }], [{ status: 500, body: '' }], [new Error('ETIMEDOUT')]])(
    'SubscribeURL failing (%p) is a 500, so SNS re-sends the confirmation; the token is not in the error',
    async (answer) => {
      const { settings } = setup(creds.options, { [subscribeUrl]: answer });
      const err = await thrown(
        adapter.handshake!(toRequest(sign(confirmation('SubscriptionConfirmation'))), settings) as Promise<unknown>,
      );
      expect((err as WebhookAdapterError).statusCode).toBe(500);
      expect(JSON.stringify((err as WebhookAdapterError).toResponseBody())).not.toContain('Token');
      expect(String((err as Error & { cause?: Error }).cause?.message)).not.toContain('2336412f37fb687f');
    },
  );

  test('an UnsubscribeConfirmation is verified and acknowledged without following its SubscribeURL', async () => {
    const { settings, calls } = setup(creds.options, { [subscribeUrl]: { status: 200, body: '' } });
    const res = await adapter.handshake!(toRequest(sign(confirmation('UnsubscribeConfirmation'))), settings);
    expect(res).toEqual({ status: 200, body: { ok: true, unsubscribed: TOPIC } });
    expect(calls).toEqual([]);
  });

  test('notifications, non-JSON bodies and other methods are not handshakes', async () => {
    const { settings } = setup();
    expect(await adapter.handshake!(toRequest(sign(notification())), settings)).toBeUndefined();
    expect(await adapter.handshake!(toRequest('not json'), settings)).toBeUndefined();
    expect(
      await adapter.handshake!(toRequest(sign(confirmation('SubscriptionConfirmation')), 'GET'), settings),
    ).toBeUndefined();
  });
});

describe('over real HTTP (express app, memory queue)', () => {
  const subscribeUrl = String(confirmation('SubscriptionConfirmation').SubscribeURL);

  function app(): { server: Express; calls: string[] } {
    const config = buildConfig(
      {
        distinct: { apiKey: 'k', baseUrl: 'http://127.0.0.1:9' },
        queue: { driver: 'memory' },
        log: { level: 'silent' },
        sources: { ses: { feature: 'registration_email', experienceId: 'exp_http', ...creds.options } },
      },
      {},
      null,
      [adapter],
    );
    const calls: string[] = [];
    (config.sources.get('ses')!.settings as SnsSettings).fetcher = async (url) => {
      calls.push(url);
      return { status: url === subscribeUrl ? 200 : 404, body: '' };
    };
    return { server: appOver(config, memoryOutbox(config.dedupe.windowMs)), calls };
  }

  const post = (server: Express, body: Record<string, unknown>): request.Test =>
    request(server).post('/webhooks/ses').set('content-type', 'text/plain; charset=UTF-8').send(JSON.stringify(body));

  test('the subscription is confirmed with 200; a foreign topic gets 401, not 403', async () => {
    const { server, calls } = app();
    const ok = await post(server, sign(confirmation('SubscriptionConfirmation')));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, confirmed: TOPIC });
    const foreign = await post(server, sign(confirmation('SubscriptionConfirmation', { TopicArn: FOREIGN_TOPIC })));
    expect(foreign.status).toBe(401);
    expect(foreign.body.reason).toBe('bad_credentials');
    expect(calls).toEqual([subscribeUrl]);
  });

  test('a signed text/plain notification is queued per recipient; the same one re-sent by SNS is a duplicate', async () => {
    const { server } = app();
    const message = sesMessage({
      delivery: { timestamp: '2026-04-27T13:34:02.250Z', recipients: ['ana@example.com', 'bo@example.com'] },
    });
    const body = sign(notification({}, message));
    const first = await post(server, body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ received: 2, queued: 2 });
    const retry = await post(server, body);
    expect(retry.body).toMatchObject({ received: 2, queued: 0, duplicates: 2 });
  });
});

describe('parse: recipients, overrides, times', () => {
  const parse = (
    message: Record<string, unknown>,
    over: Record<string, unknown> = {},
  ): ReturnType<typeof adapter.parse> => adapter.parse(toRequest(notification(over, message)));

  test("one event per recipient of the event's own list, sharing the SNS MessageId but never the de-dup key", () => {
    const drafts = parse(
      sesMessage({
        delivery: { timestamp: '2026-04-27T13:34:02.250Z', recipients: ['ana@example.com', 'bo@example.com'] },
      }),
    );
    expect(drafts.map((d) => d.email)).toEqual(['ana@example.com', 'bo@example.com']);
    expect(new Set(drafts.map((d) => d.providerEventId))).toEqual(new Set(['7a1f8e0e-3d59-4a52-9f3c-5a1b0c2d3e4f']));
    const keys = drafts.map((d) => completeDraft(d, adapter, 'ses', NOW).dedupeKey);
    expect(new Set(keys).size).toBe(2);
  });

  test('Open and Click name no recipient: one event per mail.destination entry (To, Cc, Bcc)', () => {
    const mail = {
      timestamp: '2026-04-27T13:34:00.100Z',
      messageId: 'm-1',
      destination: ['a@example.com', 'b@example.com', 'c@example.com'],
    };
    const drafts = parse({
      eventType: 'Open',
      mail,
      open: { timestamp: '2026-04-27T14:00:00.000Z', ipAddress: '192.0.2.1', userAgent: 'UA' },
    });
    expect(drafts.map((d) => [d.type, d.email])).toEqual([
      ['email.opened', 'a@example.com'],
      ['email.opened', 'b@example.com'],
      ['email.opened', 'c@example.com'],
    ]);
    expect(drafts[0]!.details).not.toHaveProperty('ipAddress');
    expect(drafts[0]!.details).not.toHaveProperty('userAgent');
  });

  test('an empty event list falls back to mail.destination; no recipient at all still yields one event', () => {
    expect(parse(sesMessage({ delivery: { recipients: [] } })).map((d) => d.email)).toEqual(['ana@example.com']);
    const none = parse({
      notificationType: 'AmazonSnsSubscriptionSucceeded',
      message: 'You have successfully subscribed…',
    });
    expect(none).toHaveLength(1);
    expect(none[0]).toMatchObject({
      type: 'email.unknown',
      providerEvent: 'AmazonSnsSubscriptionSucceeded',
      messageId: null,
      occurredAt: null,
    });
    expect(none[0]).not.toHaveProperty('email');
  });

  test('message tags become overrides (first value of each tag array); other tags are ignored', () => {
    const message = sesMessage();
    (message.mail as Record<string, unknown>).tags = {
      distinct_user_id: ['u_42'],
      distinct_feature: ['registration_email'],
      distinct_experience_id: ['exp_9', 'exp_ignored'],
      myCustomTag1: ['x'],
    };
    expect(parse(message)[0]!.overrides).toEqual({
      userId: 'u_42',
      feature: 'registration_email',
      experienceId: 'exp_9',
    });
  });

  test('odd tag shapes are tolerated: a bare string is read, empty arrays and non-strings are not', () => {
    const message = sesMessage();
    (message.mail as Record<string, unknown>).tags = {
      distinct_user_id: 'u_bare',
      distinct_feature: [],
      distinct_experience_id: [7],
    };
    expect(parse(message)[0]!.overrides).toEqual({ userId: 'u_bare' });
  });

  test('identity notifications carry no tags: no overrides', () => {
    expect(
      parse({
        notificationType: 'Delivery',
        mail: { timestamp: '2026-04-27T13:34:00Z', destination: ['a@example.com'] },
        delivery: { recipients: ['a@example.com'] },
      })[0]!.overrides,
    ).toEqual({});
  });

  test("occurredAt: the event's own timestamp, else mail.timestamp, never the SNS Timestamp; garbage is null", () => {
    expect(parse(sesMessage())[0]!.occurredAt).toBe('2026-04-27T13:34:02.250Z');
    expect(parse(sesMessage({ delivery: { recipients: ['ana@example.com'] } }))[0]!.occurredAt).toBe(
      '2026-04-27T13:34:00.100Z',
    );
    const noTimes = { eventType: 'Send', mail: { timestamp: 'yesterday', destination: ['a@example.com'] }, send: {} };
    expect(parse(noTimes)[0]!.occurredAt).toBeNull();
  });

  test('bounce types: Permanent and Undetermined are email.bounced, Transient email.deferred, unknown ones stay bounced', () => {
    const bounce = (bounceType: unknown): string =>
      parse({
        eventType: 'Bounce',
        mail: { destination: ['a@example.com'] },
        bounce: { bounceType, bouncedRecipients: [{ emailAddress: 'a@example.com' }] },
      })[0]!.type;
    expect([
      bounce('Permanent'),
      bounce('Undetermined'),
      bounce('Transient'),
      bounce('Sideways'),
      bounce(undefined),
    ]).toEqual(['email.bounced', 'email.bounced', 'email.deferred', 'email.bounced', 'email.bounced']);
  });

  test('the SES topic-validation notification is acknowledged with no event', () => {
    expect(
      adapter.parse(
        toRequest(notification({ Message: 'Successfully validated SNS topic for Amazon SES event publishing.' })),
      ),
    ).toEqual([]);
  });

  test.each([
    ['Type is not Notification', 'Type', notification({ Type: 'Notice' })],
    ['no Message', 'Message', notification({ Message: undefined })],
    ['Message not JSON', 'Message', notification({ Message: 'Hello world!' })],
    ['Message a JSON array', 'Message', notification({ Message: '[]' })],
    ['neither eventType nor notificationType', 'Message.eventType', notification({}, { mail: {} })],
  ])('%s → WebhookParseError at %s', (_name, path, body) => {
    expect(parseErrorOf(() => adapter.parse(toRequest(body))).path).toBe(path);
  });
});

describe('testing helpers and simulate samples', () => {
  const types = [
    'email.sent',
    'email.delivered',
    'email.opened',
    'email.clicked',
    'email.bounced',
    'email.deferred',
    'email.complained',
    'email.rejected',
    'email.failed',
    'email.unsubscribed',
  ];

  test.each(types)(
    'sample(%s) signs, verifies and parses to that type for the recipient, carrying the overrides as tags',
    async (type) => {
      const sample = adapter.testing.sample({
        type,
        recipient: 'jane.doe@example.com',
        now: NOW,
        overrides: { distinct_user_id: 'u_7', experienceId: 'exp_7' },
      });
      const signed = adapter.testing.sign(
        { method: 'POST', url: 'https://hooks.example.com/webhooks/ses', headers: sample.headers, body: sample.body },
        signer,
        NOW,
      );
      expect(await reason(signed.body, setup().settings)).toBe('ok');
      const drafts = adapter.parse(toRequest(signed.body));
      expect(drafts).toHaveLength(1);
      expect(drafts[0]).toMatchObject({
        type,
        email: 'jane.doe@example.com',
        overrides: { userId: 'u_7', experienceId: 'exp_7' },
      });
      expect(drafts[0]!.occurredAt).toBe(NOW.toISOString());
      expect(sample.headers['content-type']).toBe('text/plain; charset=UTF-8');
    },
  );

  test('sample() refuses a type SES cannot emit', () => {
    expect(() => adapter.testing.sample({ type: 'email.queued', recipient: 'a@example.com', now: NOW })).toThrow(
      /no event for email\.queued/,
    );
  });

  test('sign() writes Signature, SigningCertURL and SignatureVersion into the body and keeps a v2 envelope at v2', () => {
    const body = Buffer.from(
      JSON.stringify(
        notification({
          SignatureVersion: '2',
          Signature: 'EXAMPLE',
          SigningCertURL: 'https://sns.us-west-2.amazonaws.com/x.pem',
        }),
      ),
    );
    const out = JSON.parse(
      adapter.testing.sign({ method: 'POST', url: 'u', headers: {}, body }, signer, NOW).body.toString(),
    ) as Record<string, unknown>;
    expect(out).toMatchObject({ SignatureVersion: '2', SigningCertURL: signer.certUrl });
    expect(out.Signature).not.toBe('EXAMPLE');
  });

  test('sign() and stripSignature() leave a body that is not an SNS envelope untouched', () => {
    const req = { method: 'POST', url: 'u', headers: {}, body: Buffer.from('not json') };
    expect(adapter.testing.sign(req, signer, NOW)).toBe(req);
    expect(adapter.testing.stripSignature(req)).toBe(req);
  });

  test('credentials are asymmetric: nothing derives a signer from the options', () => {
    expect(adapter.testing.signerFromOptions(creds.options)).toBeUndefined();
    expect(JSON.stringify(creds.options)).not.toContain('PRIVATE KEY');
  });
});

describe('the production fetcher (undici) against a local HTTP server', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/cert.pem') res.end(AWS_CERT);
      else if (req.url === '/redirect') res.writeHead(302, { location: '/cert.pem' }).end();
      else if (req.url === '/huge') res.end('x'.repeat(200 * 1024));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('returns status and body', async () => {
    expect(await httpsGet(`${base}/cert.pem`)).toEqual({ status: 200, body: AWS_CERT });
    expect((await httpsGet(`${base}/missing`)).status).toBe(404);
  });

  test('does not follow redirects (a redirect could leave the checked host)', async () => {
    expect((await httpsGet(`${base}/redirect`)).status).toBe(302);
  });

  test('refuses a response larger than 64 KB', async () => {
    await expect(httpsGet(`${base}/huge`)).rejects.toThrow(/exceeds/);
  });
});
