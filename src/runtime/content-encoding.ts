/**
 * A request body as `serve` reads it (express.raw / body-parser): `Content-Encoding` gzip,
 * deflate or br is inflated, identity or none is taken as it is, anything else (another coding,
 * two codings) is refused. The Lambda HTTP runtime uses it, so both runtimes answer a compressed
 * webhook the same way (README HTTP table: 400, 413, 415).
 */
import { brotliDecompressSync, gunzipSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { PayloadTooLargeError, UnsupportedEncodingError, WebhookParseError } from '../core/errors';

const INFLATE: Readonly<Record<string, (buf: Buffer, options: ZlibOptions) => Buffer>> = {
  gzip: gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/**
 * The body the pipeline reads: `raw` inflated per `encoding` (the header's value, or undefined).
 * Bounded: inflating stops at `limit` bytes, so a small compressed body cannot grow without end.
 * @throws UnsupportedEncodingError (415) for a coding other than identity, gzip, deflate or br,
 *   or more than one; PayloadTooLargeError (413) when the inflated body exceeds `limit`;
 *   WebhookParseError (400) when the bytes do not inflate
 */
export function decodeContent(raw: Buffer, encoding: string | undefined, limit: number): Buffer {
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return raw;
  const inflate = Object.hasOwn(INFLATE, coding) ? INFLATE[coding] : undefined;
  if (inflate === undefined) throw new UnsupportedEncodingError(encoding ?? '');
  try {
    return inflate(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new PayloadTooLargeError(`${limit} bytes`);
    throw new WebhookParseError('request body could not be read', '', { cause: err });
  }
}
