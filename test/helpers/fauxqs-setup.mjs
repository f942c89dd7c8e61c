/**
 * Jest globalSetup: one in-process SQS API (fauxqs, pinned in package.json) for the whole run,
 * on 127.0.0.1 and a free port (DEPENDENCIES §5). Tests reach it through process.env.SQS_ENDPOINT
 * and create their own queues with random names.
 *
 * ESM on purpose: fauxqs ships only an `import` export. `buildApp` + `listen` rather than
 * `startFauxqs`, which always binds 0.0.0.0.
 */
import { buildApp } from 'fauxqs';

export default async function setup() {
  const app = buildApp({ logger: false });
  process.env.SQS_ENDPOINT = await app.listen({ port: 0, host: '127.0.0.1' });
  // Workers inherit this environment: dummy credentials and a region, so the SDK never looks for
  // real ones (and never asks the EC2 metadata service), and no Node 20 support warning per worker.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Read back by fauxqs-teardown.mjs (globalSetup and globalTeardown share this global scope).
  globalThis.__FAUXQS__ = app;
}
