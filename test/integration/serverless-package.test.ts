/**
 * `osls package` runs offline, with no AWS credentials (dummy ones, a throwaway HOME), exactly as
 * on a fresh clone; the generated CloudFormation must hold what the deployment needs (issue #4
 * item 3): both functions on nodejs22.x, the queue and its dead-letter queue with redrive, the
 * SQS event source mapping with partial batch responses, a visibility timeout above the
 * forwarder's timeout, one HTTP route per configured source, secrets from SSM, and IAM with no
 * wildcard actions or resources; and (issue #8 item 3) the shared key table (on-demand, key `pk`,
 * TTL on `expiresAt`) given to both functions, each granted exactly the DynamoDB actions it uses
 * on that table's ARN.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const STAGE = 'ci';
const CONFIG_FILE = 'distinct.config.lambda.yml';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
  DependsOn?: unknown;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let outDir: string;
let template: { Resources: Record<string, Resource>; Outputs?: Json };
let zipEntries: string[];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'dwa-sls-'));
  const home = mkdtempSync(join(tmpdir(), 'dwa-sls-home-'));
  // A clean environment: no real credentials or profiles can leak in, and none are needed.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_REGION: 'us-east-1',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
  const cli = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  try {
    await promisify(execFile)(
      process.execPath,
      [cli, 'package', '--stage', STAGE, '--region', 'us-east-1', '--package', outDir],
      {
        cwd: ROOT,
        env,
        timeout: 90_000,
      },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`osls package failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: err });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  template = JSON.parse(
    readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as typeof template;
  zipEntries = listZip(readFileSync(join(outDir, 'distinct-webhook-adapter.zip')));
}, 120_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

function resourcesOfType(type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function resource(id: string): Resource {
  const r = template.Resources[id];
  if (!r) throw new Error(`no resource ${id} in the template (have: ${Object.keys(template.Resources).join(', ')})`);
  return r;
}

/** Source ids of the bundled Lambda configuration. */
function configuredSources(): string[] {
  const doc = parseYaml(readFileSync(join(ROOT, CONFIG_FILE), 'utf8')) as { sources: Record<string, unknown> };
  return Object.keys(doc.sources);
}

/** `${VAR}` placeholders without a default in the bundled configuration (comments ignored). */
function requiredVariables(): string[] {
  const text = readFileSync(join(ROOT, CONFIG_FILE), 'utf8')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, ''))
    .join('\n');
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!))];
}

function statementsOf(roleId: string): Statement[] {
  const policies = resource(roleId).Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>;
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

function asList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

/** Every string inside a CloudFormation value (intrinsics included). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Entry names from a zip's central directory (enough of the format for a listing). */
function listZip(buf: Buffer): string[] {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

test('both functions run on nodejs22.x with the compiled handlers', () => {
  const receiver = resource('ReceiverLambdaFunction').Properties;
  const forwarder = resource('ForwarderLambdaFunction').Properties;
  expect(receiver).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'dist/src/runtime/lambda-http.handler' });
  expect(forwarder).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'dist/src/runtime/lambda-sqs.handler' });
  expect(resourcesOfType('AWS::Lambda::Function')).toHaveLength(2);
});

test('the queue redrives to its dead-letter queue', () => {
  const queue = resource('WebhookQueue').Properties;
  const dlq = resource('WebhookDeadLetterQueue');
  expect(dlq.Type).toBe('AWS::SQS::Queue');
  expect(queue.RedrivePolicy).toEqual({
    deadLetterTargetArn: { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] },
    maxReceiveCount: expect.any(Number),
  });
  expect((queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBeGreaterThan(1);
});

test('the forwarder consumes the queue with partial batch responses', () => {
  const mappings = resourcesOfType('AWS::Lambda::EventSourceMapping');
  expect(mappings).toHaveLength(1);
  const [, mapping] = mappings[0]!;
  expect(mapping.Properties).toMatchObject({
    EventSourceArn: { 'Fn::GetAtt': ['WebhookQueue', 'Arn'] },
    FunctionName: { 'Fn::GetAtt': ['ForwarderLambdaFunction', 'Arn'] },
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    Enabled: true,
  });
});

test("the queue's visibility timeout is at least 6 × the forwarder timeout + the batching window", () => {
  const visibility = resource('WebhookQueue').Properties.VisibilityTimeout as number;
  const timeout = resource('ForwarderLambdaFunction').Properties.Timeout as number;
  const [, mapping] = resourcesOfType('AWS::Lambda::EventSourceMapping')[0]!;
  const window = (mapping.Properties.MaximumBatchingWindowInSeconds as number | undefined) ?? 0;
  expect(timeout).toBeGreaterThan(0);
  expect(visibility).toBeGreaterThanOrEqual(6 * timeout + window);
});

test('one POST route per configured source, all integrated with the receiver', () => {
  const routes = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey as string);
  const webhookRoutes = routes.filter((k) => k.startsWith('POST /webhooks/'));
  expect(webhookRoutes.sort()).toEqual(
    configuredSources()
      .map((id) => `POST /webhooks/${id}`)
      .sort(),
  );
  expect(routes).not.toContain('$default'); // unknown paths never reach the function
  const integrations = resourcesOfType('AWS::ApiGatewayV2::Integration');
  expect(integrations).toHaveLength(1);
  expect(JSON.stringify(integrations[0]![1].Properties.IntegrationUri)).toContain('ReceiverLambdaFunction');
  expect(integrations[0]![1].Properties.PayloadFormatVersion).toBe('2.0');
});

test('every secret the configuration needs comes from an SSM parameter; queue URLs come from the stack', () => {
  for (const fn of ['ReceiverLambdaFunction', 'ForwarderLambdaFunction']) {
    const vars = (resource(fn).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.DISTINCT_SQS_QUEUE_URL).toEqual({ Ref: 'WebhookQueue' });
    expect(vars.DISTINCT_SQS_DLQ_URL).toEqual({ Ref: 'WebhookDeadLetterQueue' });
    expect(vars.DISTINCT_ADAPTER_CONFIG).toBe(CONFIG_FILE);
    const needed = requiredVariables().filter((v) => !v.startsWith('DISTINCT_SQS_') && v !== 'DISTINCT_DEDUPE_TABLE');
    expect(needed).toEqual(expect.arrayContaining(['DISTINCT_API_KEY', 'TWILIO_AUTH_TOKEN']));
    for (const name of needed) {
      expect({ name, value: vars[name] }).toEqual({
        name,
        value: `{{resolve:ssm:/distinct-webhook-adapter/${STAGE}/${name}}}`,
      });
    }
  }
});

test('IAM: one least-privilege role per function, no wildcard actions, SQS scoped to the two queue ARNs', () => {
  // No framework default role (it would be shared and broader).
  expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
  expect(resource('ReceiverLambdaFunction').Properties.Role).toEqual({ 'Fn::GetAtt': ['ReceiverRole', 'Arn'] });
  expect(resource('ForwarderLambdaFunction').Properties.Role).toEqual({ 'Fn::GetAtt': ['ForwarderRole', 'Arn'] });

  const queue = { 'Fn::GetAtt': ['WebhookQueue', 'Arn'] };
  const dlq = { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] };
  const sqsGrants = (roleId: string): Array<{ actions: string[]; resource: unknown }> =>
    statementsOf(roleId)
      .filter((s) => asList(s.Action).some((a) => a.startsWith('sqs:')))
      .map((s) => ({ actions: asList(s.Action).sort(), resource: s.Resource }));
  expect(sqsGrants('ReceiverRole')).toEqual([
    { actions: ['sqs:GetQueueAttributes', 'sqs:SendMessage'], resource: queue },
    { actions: ['sqs:SendMessage'], resource: dlq },
  ]);
  expect(sqsGrants('ForwarderRole')).toEqual([
    {
      actions: [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ],
      resource: queue,
    },
    { actions: ['sqs:SendMessage'], resource: dlq },
  ]);

  const roles = resourcesOfType('AWS::IAM::Role');
  expect(roles.map(([id]) => id).sort()).toEqual(['ForwarderRole', 'ReceiverRole']);
  expect(resourcesOfType('AWS::IAM::Policy')).toHaveLength(0);
  for (const [roleId, role] of roles) {
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const fnName = `distinct-webhook-adapter-${STAGE}-${roleId === 'ReceiverRole' ? 'receiver' : 'forwarder'}`;
    for (const s of statementsOf(roleId)) {
      expect(s.Effect).toBe('Allow');
      for (const action of asList(s.Action)) expect(action).not.toContain('*');
      const resources = strings(s.Resource);
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r).not.toBe('*');
      if (asList(s.Action).every((a) => a.startsWith('logs:'))) {
        // Lambda names log streams at run time: the one wildcard is the stream, inside this
        // function's own log group.
        expect(resources).toEqual([
          `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${fnName}:*`,
        ]);
      } else {
        for (const r of resources) expect(r).not.toContain('*');
      }
    }
  }
});

test('the shared key table: on-demand, partition key pk (S) only, TTL on expiresAt; both functions are pointed at it', () => {
  const table = resource('KeyTable');
  expect(table.Type).toBe('AWS::DynamoDB::Table');
  expect(table.Properties).toMatchObject({
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
  });
  expect(table.Properties.ProvisionedThroughput).toBeUndefined();
  expect(resourcesOfType('AWS::DynamoDB::Table')).toHaveLength(1);
  for (const fn of ['ReceiverLambdaFunction', 'ForwarderLambdaFunction']) {
    const vars = (resource(fn).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.DISTINCT_DEDUPE_TABLE).toEqual({ Ref: 'KeyTable' });
  }
});

test('IAM: each function gets exactly the DynamoDB actions it uses, on the key table ARN only', () => {
  const tableArn = { 'Fn::GetAtt': ['KeyTable', 'Arn'] };
  const dynamoGrants = (roleId: string): Array<{ actions: string[]; resource: unknown }> =>
    statementsOf(roleId)
      .filter((s) => asList(s.Action).some((a) => a.startsWith('dynamodb:')))
      .map((s) => ({ actions: asList(s.Action).sort(), resource: s.Resource }));
  expect(dynamoGrants('ReceiverRole')).toEqual([
    {
      actions: [
        'dynamodb:DeleteItem',
        'dynamodb:DescribeTable',
        'dynamodb:DescribeTimeToLive',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
      ],
      resource: tableArn,
    },
  ]);
  expect(dynamoGrants('ForwarderRole')).toEqual([
    {
      actions: [
        'dynamodb:BatchWriteItem',
        'dynamodb:DescribeTable',
        'dynamodb:DescribeTimeToLive',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
      ],
      resource: tableArn,
    },
  ]);
});

test('the package holds the compiled runtime and the configuration, without better-sqlite3, twilio or dev tools', () => {
  const has = (prefix: string): boolean => zipEntries.some((e) => e.startsWith(prefix));
  expect(zipEntries).toContain(CONFIG_FILE);
  expect(zipEntries).toContain('package.json');
  expect(zipEntries).toContain('dist/src/runtime/lambda-http.js');
  expect(zipEntries).toContain('dist/src/runtime/lambda-sqs.js');
  expect(zipEntries).toContain('dist/adapters/index.js');
  expect(has('node_modules/@aws-sdk/client-sqs/')).toBe(true);
  expect(has('node_modules/@aws-sdk/client-dynamodb/')).toBe(true);
  expect(zipEntries).toContain('dist/src/dedupe/key-store.js');
  expect(has('node_modules/zod/')).toBe(true);
  for (const excluded of [
    'node_modules/better-sqlite3/',
    'node_modules/twilio/',
    'node_modules/jest/',
    'node_modules/typescript/',
    'node_modules/osls/',
    'node_modules/fauxqs/',
    'node_modules/dynalite/',
    'test/',
    'bench/',
    'fixtures/',
    'src/',
  ]) {
    expect({ excluded, present: has(excluded) }).toEqual({ excluded, present: false });
  }
});
