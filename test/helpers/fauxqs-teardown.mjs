/** Jest globalTeardown: stops the SQS API started by fauxqs-setup.mjs. */
export default async function teardown() {
  const app = globalThis.__FAUXQS__;
  globalThis.__FAUXQS__ = undefined;
  if (app) await app.close();
}
