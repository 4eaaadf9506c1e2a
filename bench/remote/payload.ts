import type { Payload } from './types.js';

/** The echo payload: a few strings, numbers, a boolean, arrays and one nested object (~90 bytes of msgpack). */
export function makePayload(id: number): Payload {
  return { id, name: 'task-7', tags: ['a', 'b', 'c'], nested: { ok: true, score: 0.5, values: [1, 2, 3] } };
}

/** Deep check of one echo reply, run once per workload (a broken adapter must not produce a fast number). */
export function checkPayload(sent: Payload, received: Payload): void {
  if (JSON.stringify(sent) !== JSON.stringify(received)) {
    throw new Error(`echo returned ${JSON.stringify(received)} for ${JSON.stringify(sent)}`);
  }
}

/** Cheap check of every echo reply: a transport that mixes up replies fails loudly. */
export function checkId(sent: Payload, received: Payload): void {
  if (received?.id !== sent.id) throw new Error(`echo reply for id ${sent.id} carries id ${received?.id}`);
}

/** Random bytes, so that no layer can get away with compressing them. */
export function makeBuffer(size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  for (let offset = 0; offset < size; offset += 65_536) {
    crypto.getRandomValues(buffer.subarray(offset, Math.min(size, offset + 65_536)));
  }
  return buffer;
}

/** Compares length and a sample of bytes (a full compare of 8 MiB per call would distort the timing). */
export function checkBuffer(sent: Buffer, received: Buffer): void {
  if (!((received as unknown) instanceof Uint8Array)) {
    throw new Error(`echoBuffer returned ${typeof received}, not bytes`);
  }
  if (received.length !== sent.length)
    throw new Error(`echoBuffer returned ${received.length} of ${sent.length} bytes`);
  const step = Math.max(1, Math.floor(sent.length / 997));
  for (let i = 0; i < sent.length; i += step) {
    if (received[i] !== sent[i]) throw new Error(`echoBuffer returned different bytes at offset ${i}`);
  }
  if (received[sent.length - 1] !== sent[sent.length - 1]) throw new Error('echoBuffer returned a different last byte');
}
