/**
 * A real DynamoDB API for the key-store tests: dynalite (pure JavaScript, DEPENDENCIES §10b),
 * started in-process on 127.0.0.1 and a free port, with tables created the way an operator
 * creates them (partition key `pk` String, on-demand). dynalite has no TTL: the store treats
 * expired items as absent itself, which is what these tests rely on.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { freePort } from './app';
import { useSqsHarness, type SqsHarness } from './sqs';

// dynalite ships no types.
const dynalite = require('dynalite') as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => import('node:http').Server;

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** A fresh keys table (random name). */
  createTable(): Promise<string>;
  close(): Promise<void>;
}

/** dynalite in memory on 127.0.0.1: a free port, or `port` (to bring a stopped one back). */
export async function startDynalite(port = 0): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    endpoint,
    client,
    async createTable() {
      const name = `keys-${randomBytes(5).toString('hex')}`;
      await createKeysTable(client, name);
      return name;
    },
    async close() {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The table as docs/scaling.md tells operators to create it. */
export async function createKeysTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // dynalite answers CreateTable with CREATING and turns the table ACTIVE on a later tick; an item
  // call before that is ResourceNotFoundException. Wait for ACTIVE, as operators' tooling does.
  for (let i = 0; i < 200; i += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`table ${name} did not become ACTIVE within 2 s`);
}

/** An endpoint nothing listens on (a port that was free a moment ago). */
export async function deadEndpoint(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/** The key-store suites' shared set-up: useSqsHarness and dynalite, started before all tests. */
export interface StoreHarness extends SqsHarness {
  dyn: LocalDynamo;
}

export function useStoreHarness(): StoreHarness {
  const h = useSqsHarness() as StoreHarness;
  beforeAll(async () => {
    h.dyn = await startDynalite();
  });
  afterAll(async () => {
    await h.dyn.close();
  });
  return h;
}
