'use strict';
/**
 * Values serverless.yml derives from the bundled Lambda configuration (distinct.config.lambda.yml),
 * so adding or removing a source is one edit in that file:
 * - `httpRoutes`: one API Gateway route `POST /webhooks/<id>` per configured source, plus `GET /healthz`.
 *   Requests to any other path are answered 404 by API Gateway without invoking the function.
 * - `secrets`: every `${VAR}` the configuration needs (those without a `:-default`), as a
 *   CloudFormation dynamic reference to the SSM parameter `<ssmPrefix>/<VAR>`. CloudFormation
 *   resolves these at deploy time, so `osls package` needs neither AWS credentials nor network.
 *
 * Used through `${file(./deploy/serverless-vars.js):…}`; osls calls each export with
 * `{ resolveVariable }`.
 */
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');

/** Variables serverless.yml itself sets from the stack (queue URLs): never looked up in SSM. */
const SET_BY_STACK = new Set(['DISTINCT_SQS_QUEUE_URL', 'DISTINCT_SQS_DLQ_URL', 'DISTINCT_DEDUPE_TABLE']);
const REQUIRED_VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

async function configFile(resolveVariable) {
  const file = await resolveVariable('self:custom.configFile');
  return path.resolve(__dirname, '..', file);
}

/** The source ids of the configuration (route segments). */
function sourceIds(file) {
  const doc = parse(fs.readFileSync(file, 'utf8'));
  const ids = Object.keys((doc && doc.sources) || {});
  if (ids.length === 0) throw new Error(`${file}: no sources configured`);
  return ids;
}

/** Names of the `${VAR}` placeholders without a default, in order of appearance. */
function requiredVariables(file) {
  const text = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '')) // comments may mention variables
    .join('\n');
  const names = new Set();
  for (const m of text.matchAll(REQUIRED_VAR)) if (!SET_BY_STACK.has(m[1])) names.add(m[1]);
  return [...names];
}

module.exports.httpRoutes = async ({ resolveVariable }) => {
  const file = await configFile(resolveVariable);
  return [
    ...sourceIds(file).map((id) => ({ httpApi: { method: 'POST', path: `/webhooks/${id}` } })),
    { httpApi: { method: 'GET', path: '/healthz' } },
  ];
};

module.exports.secrets = async ({ resolveVariable }) => {
  const file = await configFile(resolveVariable);
  const prefix = await resolveVariable('self:custom.ssmPrefix');
  const env = {};
  for (const name of requiredVariables(file)) env[name] = `{{resolve:ssm:${prefix}/${name}}}`;
  return env;
};
