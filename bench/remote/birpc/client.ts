/** birpc-over-ws client: asks through the birpc proxy, tells with `$callEvent` (no response, nothing awaited). */

import { once } from 'node:events';
import WebSocket from 'ws';
import type { BenchClient, ConnectFn } from '../types.js';
import { birpcOverWs, type ServerFunctions } from './shared.js';

/** ws has no 'drain' on the WebSocket; tells wait while this much is buffered (Node's default socket high-water mark). */
const HIGH_WATER_MARK = 64 * 1024;

const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));

export const connect: ConnectFn = async ({ port }) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await once(ws, 'open');
  const rpc = birpcOverWs<ServerFunctions, object>(ws, {});
  const ignore = (): void => {};
  const client: BenchClient = {
    echo: (payload) => rpc.echo(payload),
    tell: (payload) => {
      rpc.$callEvent('tell', payload).catch(ignore);
    },
    writable: async () => {
      do await nextMacrotask();
      while (ws.bufferedAmount > HIGH_WATER_MARK);
    },
    count: () => rpc.count(),
    echoBuffer: (data) => rpc.echoBuffer(data),
    close: async () => {
      rpc.$close();
      ws.terminate();
    },
  };
  return client;
};
