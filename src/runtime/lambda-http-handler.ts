/**
 * The Lambda HTTP shim: turns an API Gateway HTTP API event (payload format 2.0) or a Lambda
 * function URL event (the same format) into a {@link WebhookRequest}, runs the pipeline, and
 * writes its {@link WebhookResponse} as a proxy result. No express: this code is on every cold
 * start (src/runtime/lambda-http.ts is the entry point that initialises it).
 *
 * - `isBase64Encoded` bodies (API Gateway base64-encodes bodies it does not consider text, e.g.
 *   Twilio's form posts) are decoded back to the exact bytes the provider signed.
 * - URL-signed providers (Twilio) are verified against the source's `publicUrl` when configured,
 *   else `https://<requestContext.domainName><rawPath>?<rawQueryString>`: API Gateway and function
 *   URLs terminate TLS, so the scheme the provider used is always https. With a custom domain
 *   whose API mapping has a path, set the source's `publicUrl`: rawPath leaves the mapping out.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PayloadTooLargeError, WebhookAdapterError } from '../core/errors';
import { decodeContent } from './content-encoding';
import type { WebhookRequest, WebhookResponse } from '../core/request';
import type { Logger } from '../observability/logger';
import type { Pipeline } from '../pipeline/pipeline';

/** An API Gateway HTTP API v2 event; Lambda function URL events have the same shape. */
export type HttpEvent = APIGatewayProxyEventV2;

/** The structured result both API Gateway (format 2.0) and function URLs accept. */
export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export interface HttpHandlerDeps {
  pipeline: Pipeline;
  logger: Logger;
}

/** `/webhooks/<source>`, optionally behind a path prefix (a named stage, a function URL path). */
const WEBHOOK_PATH = /^(?:\/[^/]+)*?\/webhooks\/([^/]+)\/?$/;

/** Builds the Lambda handler around an initialised pipeline. Never throws: every failure is a response. */
export function createHttpHandler(deps: HttpHandlerDeps): (event: HttpEvent) => Promise<HttpResult> {
  const { pipeline, logger } = deps;
  return async (event) => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      return toResult({ status: 200, body: { status: 'ok' } });
    }
    const match = WEBHOOK_PATH.exec(path);
    if (!match) {
      return toResult({
        status: 404,
        body: { error: 'ERR_NOT_FOUND', message: 'no such route; providers post to /webhooks/<source>' },
      });
    }
    const sourceId = match[1]!;
    const received = decodeBody(event);
    const limit = pipeline.config.server.bodyLimit;
    let rawBody: Buffer;
    try {
      if (received.length > limit) throw new PayloadTooLargeError(`${limit} bytes`);
      // As `serve` reads it: gzip, deflate and br inflated (bounded), other codings refused.
      rawBody = decodeContent(received, contentEncoding(event), limit);
    } catch (err) {
      if (!(err instanceof WebhookAdapterError)) throw err;
      logger.warn({ source: sourceId, status: err.statusCode, bytes: received.length }, err.message);
      return toResult({ status: err.statusCode, body: err.toResponseBody() });
    }
    const request = requestFromEvent(event, sourceId, rawBody, pipeline);
    return toResult(await pipeline.handle(sourceId, request));
  };
}

/** The request's Content-Encoding (header names arrive in any case). */
function contentEncoding(event: Pick<HttpEvent, 'headers'>): string | undefined {
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && name.toLowerCase() === 'content-encoding') return value;
  }
  return undefined;
}

/**
 * The body as the exact bytes the provider sent. Security: signatures are verified on these
 * bytes, so a base64 body is decoded, never passed through a text round trip.
 */
export function decodeBody(event: Pick<HttpEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** Builds the runtime-agnostic request (header names lower-cased, URL as the provider called it). */
export function requestFromEvent(
  event: HttpEvent,
  sourceId: string,
  rawBody: Buffer,
  pipeline: Pipeline,
): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    // Format 2.0 already joins repeated headers with commas; this only guards mixed-case duplicates.
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  // Payload format 2.0 moves Cookie headers into `cookies`; put them back where a header reader looks.
  if (event.cookies && event.cookies.length > 0 && headers.cookie === undefined)
    headers.cookie = event.cookies.join('; ');
  // Function URL docs show the query string with a leading '?' in one place; accept both.
  const query = (event.rawQueryString ?? '').replace(/^\?/, '');
  // TLS ends at API Gateway / the function URL endpoint: the provider called https.
  const fallbackUrl = `https://${event.requestContext.domainName}${event.rawPath}${query ? `?${query}` : ''}`;
  return pipeline.request(sourceId, {
    method: event.requestContext.http.method.toUpperCase(),
    url: fallbackUrl,
    query,
    headers,
    rawBody,
    receivedAt: receivedAt(event),
  });
}

/** The gateway's receipt time when it states one (`timeEpoch`, ms), else now. */
function receivedAt(event: HttpEvent): Date {
  const epoch = Number(event.requestContext.timeEpoch);
  return Number.isFinite(epoch) && epoch > 0 ? new Date(epoch) : new Date();
}

/** Writes a pipeline response in the Lambda proxy result format. */
export function toResult(response: WebhookResponse): HttpResult {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  let body = '';
  if (typeof response.body === 'string') {
    body = response.body;
    if (!hasType) headers['content-type'] = 'text/plain; charset=utf-8';
  } else if (response.body !== undefined) {
    body = JSON.stringify(response.body);
    if (!hasType) headers['content-type'] = 'application/json; charset=utf-8';
  }
  return { statusCode: response.status, headers, body, isBase64Encoded: false };
}
