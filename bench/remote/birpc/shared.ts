/**
 * birpc over ws, as its documentation suggests wiring it (`post` → `ws.send`, `on` → the 'message' event), with
 * msgpackr as `serialize`/`deserialize` so that messages travel as binary WebSocket frames and the payload is encoded
 * like everywhere else (birpc 4 passes messages through unchanged by default; JSON would also work but could not
 * carry Buffers). permessage-deflate is off on both sides: compression would only slow a loopback benchmark.
 * birpc's own defaults stay: a nanoid per call and a 60 s timeout timer per call are part of its cost.
 */

import { type BirpcOptions, createBirpc } from 'birpc';
import type WebSocket from 'ws';
import { createCodec } from '../msgpack.js';
import type { Payload } from '../types.js';

export interface ServerFunctions {
  echo(payload: Payload): Payload;
  tell(payload: Payload): void;
  count(): number;
  echoBuffer(data: Buffer): Buffer;
}

const { packr, unpackr } = createCodec();

export function birpcOverWs<Remote extends object, Local extends object>(ws: WebSocket, functions: Local) {
  const options: BirpcOptions<Remote, Local> = {
    post: (data: Buffer) => ws.send(data),
    on: (handler) => ws.on('message', (data: Buffer) => handler(data)),
    serialize: (message) => packr.pack(message),
    deserialize: (data: Buffer) => unpackr.unpack(data),
  };
  return createBirpc<Remote, Local>(functions, options);
}
