/** birpc-over-ws server: one birpc instance per WebSocket connection. */

import { WebSocketServer } from 'ws';
import { serverMain } from '../server-support.js';
import { birpcOverWs, type ServerFunctions } from './shared.js';

serverMain(async () => {
  let tells = 0;
  const functions: ServerFunctions = {
    echo: (payload) => payload,
    tell: () => {
      tells++;
    },
    count: () => tells,
    echoBuffer: (data) => data,
  };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    birpcOverWs<object, ServerFunctions>(ws, functions);
    ws.on('error', () => ws.terminate());
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port };
});
