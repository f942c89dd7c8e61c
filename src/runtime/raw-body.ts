/**
 * The webhook routes' body reader: the exact bytes, as `express.raw({ type: () => true, limit })`
 * reads them, without body-parser's per-request machinery for the common case.
 *
 * Fast path: a request with a Content-Length within the limit and no Transfer-Encoding or
 * Content-Encoding (what providers send). Node's HTTP parser delivers exactly Content-Length bytes
 * or aborts, so the bytes are collected as they come and `req.body` is the received Buffer.
 * Everything else (chunked, compressed, declared over the limit, no body) goes to `express.raw`
 * unchanged, so its behaviour (inflate, 413 `entity.too.large`, 400 `request.aborted`…) stays.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** An error shaped like raw-body's, so the app's error handler answers it the same way. */
class BodyReadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string,
  ) {
    super(message);
  }
}

export function rawBody(limit: number): RequestHandler {
  const fallback = express.raw({ type: () => true, limit });
  return (req: Request, res: Response, next: NextFunction): void => {
    const headers = req.headers;
    const declared = headers['content-length'];
    const encoding = headers['content-encoding'];
    if (
      declared === undefined ||
      headers['transfer-encoding'] !== undefined ||
      (encoding !== undefined && encoding.toLowerCase() !== 'identity') ||
      req.readableEnded
    ) {
      fallback(req, res, next);
      return;
    }
    const length = Number(declared);
    if (!(length <= limit)) {
      fallback(req, res, next);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('aborted', onAborted);
      req.removeListener('error', onError);
    };
    const fail = (err: Error): void => {
      cleanup();
      req.pause();
      next(err);
    };
    function onData(chunk: Buffer): void {
      received += chunk.length;
      // Defensive: the parser never delivers more than Content-Length.
      if (received > limit) fail(new BodyReadError('request entity too large', 413, 'entity.too.large'));
      else chunks.push(chunk);
    }
    function onEnd(): void {
      cleanup();
      if (received !== length) {
        next(new BodyReadError('request size did not match content length', 400, 'request.size.invalid'));
        return;
      }
      req.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
      next();
    }
    function onAborted(): void {
      fail(new BodyReadError('request aborted', 400, 'request.aborted'));
    }
    function onError(err: Error): void {
      fail(err);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  };
}
