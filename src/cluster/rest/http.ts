/** Small helpers over node:http: JSON answers and a size-limited, JSON-only request body reader. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RestHandlerException } from './errors.js';

/** Writes `body` as JSON with `status` (no-op when an answer was already sent). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** Flink's error shape. */
export function sendErrors(
  res: ServerResponse,
  status: number,
  errors: readonly string[],
  headers: Readonly<Record<string, string>> = {},
): void {
  sendJson(res, status, { errors }, headers);
}

/**
 * Reads a JSON request body of at most `limitBytes`.
 * @throws RestHandlerException 413 past the limit, 415 for a body that is not `application/json`, 400 for malformed JSON
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  // Requiring the JSON media type also keeps cross-site HTML forms from submitting jobs (they cannot send it).
  if (type !== 'application/json') {
    throw new RestHandlerException(415, `Expected a request body of type application/json, got ${type || 'none'}.`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw bodyTooLarge(limitBytes);
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        // Stop keeping the bytes but do not destroy the request: the 413 answer still has to reach the client.
        req.off('data', onData);
        req.resume();
        reject(bodyTooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(new RestHandlerException(400, 'The request was aborted.')));
  });
  const text = body.toString('utf8');
  if (text.trim() === '') throw new RestHandlerException(400, 'The request body is empty: expected JSON.');
  // Deeply nested input would later overflow the stack of recursive code (serializers, validators) far from here.
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new RestHandlerException(400, `The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RestHandlerException(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Deepest nesting a request body may have (a job graph needs about five levels). */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in JSON text (strings skipped); cheap and never recursive. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

function bodyTooLarge(limitBytes: number): RestHandlerException {
  return new RestHandlerException(413, `The request body exceeds the limit of ${limitBytes} bytes.`, {
    Connection: 'close',
  });
}
