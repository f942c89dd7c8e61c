/**
 * The credentials primitive (src/verify/credentials.ts): basic auth and header tokens for the
 * providers that sign nothing. Header vectors come from RFC 7617, not from our own encoder.
 */
import type { z } from 'zod';
import { adapter as postmark } from '../../adapters/postmark';
import { buildConfig } from '../helpers/config';
import type { UnsignedRequest } from '../../src/core/adapter';
import { ConfigurationError, WebhookVerificationError, type VerificationReason } from '../../src/core/errors';
import {
  basicAuthorization,
  createCredentials,
  credentialsSettings,
  signerFromCredentialsOptions,
  signWithCredentials,
  stripCredentials,
  TEST_TOKEN_HEADER,
  verifyCredentials,
  type CredentialsSettings,
} from '../../src/verify/credentials';

const schema = credentialsSettings('postmark');

function settings(options: Record<string, unknown>): CredentialsSettings {
  return (schema as z.ZodType<CredentialsSettings>).parse(options);
}

function problems(options: Record<string, unknown>): string[] {
  const result = schema.safeParse(options);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function reason(headers: Record<string, string>, s: CredentialsSettings): VerificationReason | 'ok' {
  try {
    verifyCredentials({ headers }, s);
    return 'ok';
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.reason;
    throw err;
  }
}

function message(headers: Record<string, string>, s: CredentialsSettings): string {
  try {
    verifyCredentials({ headers }, s);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

// RFC 7617 §2 and §2.1 examples.
const ALADDIN = 'Aladdin:open sesame';
const ALADDIN_HEADER = 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==';
const UTF8_PAIR = 'test:123£';
const UTF8_HEADER = 'Basic dGVzdDoxMjPCow==';

describe('settings schema', () => {
  test('accepts basicAuth as one "user:pass" or a rotation list, and a header token', () => {
    expect(problems({ basicAuth: 'hook:s3cret' })).toEqual([]);
    expect(problems({ basicAuth: ['old:one', 'new:two'] })).toEqual([]);
    expect(problems({ headerToken: { header: 'X-Webhook-Token', value: 'tok' } })).toEqual([]);
    expect(problems({ headerToken: { header: 'X-Webhook-Token', value: ['old', 'new'] } })).toEqual([]);
    expect(problems({ basicAuth: 'hook:s3cret', headerToken: { header: 'X-Webhook-Token', value: 'tok' } })).toEqual(
      [],
    );
    expect(settings({ basicAuth: ['a:1', 'b:2'] }).basicAuth).toHaveLength(2);
    expect(settings({ headerToken: { header: 'X-Webhook-Token', value: 'tok' } }).headerToken?.header).toBe(
      'x-webhook-token',
    );
  });

  test('without either credential it fails with the "signs nothing" message', () => {
    expect(problems({})).toEqual([
      ': postmark signs nothing: configure basicAuth and/or headerToken, or mark the source insecure: true',
    ]);
  });

  test.each([
    ['no colon', 'hooks3cret'],
    ['empty user', ':s3cret'],
    ['empty password', 'hook:'],
    ['empty string', ''],
  ])('a basicAuth value with %s is refused without echoing it', (_n, value) => {
    const list = problems({ basicAuth: value });
    expect(list.length).toBeGreaterThan(0);
    if (value.length > 3) for (const p of list) expect(p).not.toContain(value);
  });

  test('a bad entry in a rotation list is reported by index', () => {
    expect(problems({ basicAuth: ['good:one', 'bad'] })).toEqual([
      'basicAuth.1: must be "user:password" with a non-empty user and password',
    ]);
  });

  test('refuses unknown keys, a bad header name, and a token in Authorization beside basicAuth', () => {
    expect(problems({ basicAuth: 'a:b', signingKey: 'x' }).join()).toMatch(/signingKey/);
    expect(problems({ headerToken: { header: 'X Token', value: 't' } }).join()).toMatch(
      /headerToken.header: must be an HTTP header name/,
    );
    expect(problems({ headerToken: { header: 'X-Token' } }).length).toBeGreaterThan(0);
    expect(problems({ basicAuth: 'a:b', headerToken: { header: 'Authorization', value: 'Bearer t' } })).toEqual([
      'headerToken.header: cannot be Authorization while basicAuth is set: both would travel in the same header',
    ]);
    // Alone, a bearer token in Authorization is fine (Brevo's "bearer" webhook auth).
    expect(problems({ headerToken: { header: 'Authorization', value: 'Bearer t' } })).toEqual([]);
  });

  test('parsed settings hold digests, never the secret text', () => {
    const s = settings({ basicAuth: 'hook:s3cret-value', headerToken: { header: 'X-Token', value: 'token-value' } });
    const dump = JSON.stringify(s, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
    expect(dump).not.toContain('s3cret-value');
    expect(dump).not.toContain('token-value');
  });

  test('through the config loader: a postmark source without credentials fails with its path; insecure: true starts', () => {
    const doc = (extra: Record<string, unknown>) => ({
      distinct: { apiKey: 'k' },
      sources: { 'postmark-eu': { provider: 'postmark', feature: 'registration_email', experienceId: 'e', ...extra } },
    });
    let thrown: unknown;
    try {
      buildConfig(doc({}), {}, null, [postmark]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).problems).toEqual([
      'sources.postmark-eu: postmark signs nothing: configure basicAuth and/or headerToken, or mark the source insecure: true',
    ]);
    const insecure = buildConfig(doc({ insecure: true }), {}, null, [postmark]);
    expect(insecure.sources.get('postmark-eu')?.insecure).toBe(true);
    const env = { PM_USER: 'hook', PM_PASS: 'p:w' };
    const secured = buildConfig(doc({ basicAuth: '${PM_USER}:${PM_PASS}' }), env, null, [postmark]);
    const s = secured.sources.get('postmark-eu')!.settings as CredentialsSettings;
    expect(reason({ authorization: basicAuthorization('hook:p:w') }, s)).toBe('ok');
  });
});

describe('basic auth', () => {
  const s = settings({ basicAuth: ALADDIN });

  test('basicAuthorization() reproduces the RFC 7617 examples', () => {
    expect(basicAuthorization(ALADDIN)).toBe(ALADDIN_HEADER);
    expect(basicAuthorization(UTF8_PAIR)).toBe(UTF8_HEADER);
  });

  test('accepts the RFC 7617 header literally, with any scheme case and surrounding spaces', () => {
    expect(reason({ authorization: ALADDIN_HEADER }, s)).toBe('ok');
    expect(reason({ authorization: ALADDIN_HEADER.replace('Basic', 'basic') }, s)).toBe('ok');
    expect(reason({ authorization: ALADDIN_HEADER.replace('Basic', 'BASIC  ') + ' ' }, s)).toBe('ok');
  });

  test('accepts UTF-8 credentials (RFC 7617 charset=UTF-8 example)', () => {
    expect(reason({ authorization: UTF8_HEADER }, settings({ basicAuth: UTF8_PAIR }))).toBe('ok');
  });

  test('a password containing colons splits at the first colon only', () => {
    const withColons = settings({ basicAuth: 'hook:a:b:c' });
    expect(reason({ authorization: `Basic ${Buffer.from('hook:a:b:c').toString('base64')}` }, withColons)).toBe('ok');
    expect(reason({ authorization: `Basic ${Buffer.from('hook:a:b').toString('base64')}` }, withColons)).toBe(
      'bad_credentials',
    );
  });

  test.each([
    ['a wrong password', `Basic ${Buffer.from('Aladdin:open sesame!').toString('base64')}`],
    ['a wrong user', `Basic ${Buffer.from('aladdin:open sesame').toString('base64')}`],
    ['user and password swapped', `Basic ${Buffer.from('open sesame:Aladdin').toString('base64')}`],
    ['a Bearer token', 'Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    ['base64 without a colon', `Basic ${Buffer.from('Aladdinopen sesame').toString('base64')}`],
    ['not base64 at all', 'Basic !!!'],
    ['the scheme alone', 'Basic'],
    ['the plain pair, unencoded', `Basic ${ALADDIN}`],
  ])('rejects %s with bad_credentials', (_n, value) => {
    expect(reason({ authorization: value }, s)).toBe('bad_credentials');
  });

  test('a missing or empty Authorization header is missing_signature', () => {
    expect(reason({}, s)).toBe('missing_signature');
    expect(reason({ authorization: '' }, s)).toBe('missing_signature');
    expect(reason({ authorization: '   ' }, s)).toBe('missing_signature');
  });

  test('rotation: every listed pair is accepted, nothing else', () => {
    const rotated = settings({ basicAuth: ['old:one', 'new:two'] });
    expect(reason({ authorization: basicAuthorization('old:one') }, rotated)).toBe('ok');
    expect(reason({ authorization: basicAuthorization('new:two') }, rotated)).toBe('ok');
    // Halves of different pairs never combine.
    expect(reason({ authorization: basicAuthorization('old:two') }, rotated)).toBe('bad_credentials');
  });

  test('error messages never contain the configured or received secret', () => {
    const text = message({ authorization: basicAuthorization('Aladdin:wrong-password') }, s);
    expect(text).toMatch(/does not match/);
    expect(text).not.toMatch(/open sesame|wrong-password|Aladdin/);
  });
});

describe('header token', () => {
  const s = settings({ headerToken: { header: 'X-Webhook-Token', value: ['old-token', 'new-token'] } });

  test('the named header (any case in the config) must carry one of the values, exactly', () => {
    expect(reason({ 'x-webhook-token': 'new-token' }, s)).toBe('ok');
    expect(reason({ 'x-webhook-token': 'old-token' }, s)).toBe('ok');
    expect(reason({ 'x-webhook-token': 'NEW-TOKEN' }, s)).toBe('bad_credentials');
    expect(reason({ 'x-webhook-token': 'new-token ' }, s)).toBe('bad_credentials');
    expect(reason({ 'x-webhook-token': 'new' }, s)).toBe('bad_credentials');
  });

  test('absent or empty header is missing_signature; another header does not count', () => {
    expect(reason({}, s)).toBe('missing_signature');
    expect(reason({ 'x-webhook-token': '' }, s)).toBe('missing_signature');
    expect(reason({ 'x-other-token': 'new-token' }, s)).toBe('missing_signature');
    expect(message({}, s)).toBe('missing x-webhook-token header');
  });

  test('a bearer token in Authorization (Brevo) is compared as the whole header value', () => {
    const bearer = settings({ headerToken: { header: 'Authorization', value: 'Bearer abc123' } });
    expect(reason({ authorization: 'Bearer abc123' }, bearer)).toBe('ok');
    expect(reason({ authorization: 'Bearer abc124' }, bearer)).toBe('bad_credentials');
  });
});

describe('both configured', () => {
  const s = settings({ basicAuth: 'hook:pw', headerToken: { header: 'X-Webhook-Token', value: 'tok' } });
  const auth = basicAuthorization('hook:pw');

  test('both must be present and right', () => {
    expect(reason({ authorization: auth, 'x-webhook-token': 'tok' }, s)).toBe('ok');
    expect(reason({ authorization: auth }, s)).toBe('missing_signature');
    expect(reason({ 'x-webhook-token': 'tok' }, s)).toBe('missing_signature');
    expect(reason({ authorization: auth, 'x-webhook-token': 'nope' }, s)).toBe('bad_credentials');
    expect(reason({ authorization: basicAuthorization('hook:nope'), 'x-webhook-token': 'tok' }, s)).toBe(
      'bad_credentials',
    );
  });

  test('settings with no credential at all fail closed', () => {
    expect(reason({ authorization: auth }, {})).toBe('bad_credentials');
  });
});

describe('testing helpers', () => {
  const req: UnsignedRequest = {
    method: 'POST',
    url: 'https://hooks.example.com/webhooks/postmark',
    headers: { 'content-type': 'application/json', Authorization: 'Basic stale' },
    body: Buffer.from('{}'),
  };

  test('createCredentials() gives fresh basic auth whose options validate and whose signer verifies', () => {
    const a = createCredentials();
    const b = createCredentials();
    expect(a.options.basicAuth).not.toEqual(b.options.basicAuth);
    const s = settings(a.options);
    const signed = signWithCredentials(req, a.signer);
    expect(Object.keys(signed.headers).filter((h) => h.toLowerCase() === 'authorization')).toEqual(['authorization']);
    expect(reason(signed.headers, s)).toBe('ok');
    expect(reason(signWithCredentials(req, b.signer).headers, s)).toBe('bad_credentials');
    expect(reason(stripCredentials(signed).headers, s)).toBe('missing_signature');
    expect(stripCredentials(signed).headers['content-type']).toBe('application/json');
  });

  test('createCredentials({ headerToken: true }) adds a token the signer sends and strip removes', () => {
    const c = createCredentials({ basicAuth: true, headerToken: true });
    const s = settings(c.options);
    const signed = signWithCredentials(req, c.signer);
    expect(signed.headers[TEST_TOKEN_HEADER]).toBe(c.signer.headerToken?.value);
    expect(reason(signed.headers, s)).toBe('ok');
    expect(reason(stripCredentials(signed).headers, s)).toBe('missing_signature');
  });

  test('signerFromCredentialsOptions() derives the signer from a config (first of a rotation list)', () => {
    expect(signerFromCredentialsOptions({ basicAuth: ['a:1', 'b:2'] })).toEqual({ basicAuth: 'a:1' });
    expect(signerFromCredentialsOptions({ headerToken: { header: 'X-T', value: ['v1', 'v2'] } })).toEqual({
      headerToken: { header: 'X-T', value: 'v1' },
    });
    expect(signerFromCredentialsOptions({})).toBeUndefined();
    expect(signerFromCredentialsOptions({ headerToken: { header: 'X-T' } })).toBeUndefined();
    const options = { basicAuth: ['a:1', 'b:2'], headerToken: { header: 'X-T', value: 'v' } };
    const signed = signWithCredentials(req, signerFromCredentialsOptions(options)!);
    expect(reason(signed.headers, settings(options))).toBe('ok');
  });
});
