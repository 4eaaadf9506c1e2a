/** Raw baseline client: request ids matched to replies through a Map; writes coalesced per tick. */

import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import type { BenchClient, ConnectFn, Payload } from '../types.js';
import { COUNT, ECHO, ECHO_BUFFER, FrameWriter, frameReader, TELL } from './framing.js';

export const connect: ConnectFn = async ({ port }) => {
  const socket = netConnect({ port, host: '127.0.0.1', noDelay: true });
  await once(socket, 'connect');
  const writer = new FrameWriter(socket);
  const pending = new Map<number, (value: any) => void>();
  let nextId = 1;
  socket.on(
    'data',
    frameReader(([id, value]: [number, unknown]) => {
      const resolve = pending.get(id);
      pending.delete(id);
      resolve?.(value);
    }),
  );
  const failAll = (error: Error): void => {
    for (const resolve of pending.values()) resolve(Promise.reject(error));
    pending.clear();
  };
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error('raw: connection closed')));

  function ask<T>(method: number, arg: unknown): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve) => {
      pending.set(id, resolve);
      writer.send([method, id, arg]);
    });
  }

  const client: BenchClient = {
    echo: (payload) => ask<Payload>(ECHO, payload),
    tell: (payload) => writer.send([TELL, 0, payload]),
    writable: async () => {
      // The burst is flushed in the next tick; only then does the socket know whether it is over its high-water mark.
      await new Promise((resolve) => setImmediate(resolve));
      if (writer.congested) await once(socket, 'drain');
    },
    count: () => ask<number>(COUNT, null),
    echoBuffer: (data) => ask<Buffer>(ECHO_BUFFER, data),
    close: async () => {
      socket.end();
      socket.destroy();
    },
  };
  return client;
};
