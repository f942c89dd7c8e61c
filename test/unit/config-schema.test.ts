/**
 * The configuration's JSON Schema (editors, CI): the committed distinct.config.schema.json is
 * what the zod schemas generate, the shipped example configs name it and pass it, and it refuses
 * what the loader refuses (unknown keys, a source without its provider's credentials).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { ADAPTERS } from '../../adapters';
import { CONFIG_SCHEMA_FILE, configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = ['distinct.config.example.yml', 'distinct.config.lambda.yml', 'deploy/compose/distinct.config.yml'];

test(`${CONFIG_SCHEMA_FILE} is up to date (regenerate: node bin/distinct-adapter.js validate --print-schema > ${CONFIG_SCHEMA_FILE})`, () => {
  expect(readFileSync(join(ROOT, CONFIG_SCHEMA_FILE), 'utf8')).toBe(configJsonSchemaText(ADAPTERS));
});

describe('the schema', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(configJsonSchema(ADAPTERS));
  const ok = (doc: unknown): boolean => validate(doc) === true;
  const base = (sources: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    distinct: { apiKey: '${DISTINCT_API_KEY}' },
    sources,
    ...extra,
  });

  test.each(EXAMPLES)('%s names the schema and passes it', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    expect(text.split('\n')[0]).toMatch(
      /^# yaml-language-server: \$schema=(\.\/|(\.\.\/)+)distinct\.config\.schema\.json$/,
    );
    expect({ file, ok: ok(parseYaml(text)), errors: validate.errors ?? null }).toEqual({
      file,
      ok: true,
      errors: null,
    });
  });

  test('refuses what the loader refuses, accepts what it accepts', () => {
    const twilio = { feature: 'registration_sms', experienceId: 'e', authToken: '${TWILIO_AUTH_TOKEN}' };
    expect(ok(base({ twilio }))).toBe(true);
    expect(ok(base({ 'twilio-eu': { ...twilio, provider: 'twilio' } }))).toBe(true);
    expect(ok(base({ 'twilio-eu': twilio }))).toBe(false); // an id that is no provider must name it
    expect(ok(base({ twilio: { ...twilio, authTokn: 'x' } }))).toBe(false);
    expect(ok(base({ twilio: { feature: 'registration_sms', experienceId: 'e' } }))).toBe(false); // no credentials
    expect(ok(base({ twilio: { feature: 'registration_sms', experienceId: 'e', insecure: true } }))).toBe(true);
    expect(ok(base({ twilio }, { server: { prot: 3000 } }))).toBe(false);
    expect(ok(base({ twilio }, { queue: { driver: 'postgres' } }))).toBe(false);
    expect(ok(base({ twilio }, { $schema: './distinct.config.schema.json' }))).toBe(true);
    expect(ok({ sources: { twilio } })).toBe(false); // distinct.apiKey is required
    // Placeholders where the loader substitutes strings; not where it needs a number.
    expect(ok(base({ twilio }, { log: { level: '${LOG_LEVEL:-info}' }, server: { publicUrl: '${PUBLIC_URL}' } }))).toBe(
      true,
    );
    expect(ok(base({ twilio }, { log: { level: 'verbose' } }))).toBe(false);
    expect(ok(base({ twilio }, { server: { publicUrl: 'not a url' } }))).toBe(false);
    expect(ok(base({ twilio }, { server: { port: '${PORT}' } }))).toBe(false);
  });
});
