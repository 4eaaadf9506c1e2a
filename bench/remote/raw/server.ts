/** Raw baseline server: `net` + length-prefixed msgpackr frames, replies coalesced per tick. */

import { createServer } from 'node:net';
import { serverMain } from '../server-support.js';
import { COUNT, ECHO, ECHO_BUFFER, FrameWriter, frameReader, TELL } from './framing.js';

serverMain(async () => {
  let tells = 0;
  const server = createServer({ noDelay: true }, (socket) => {
    const writer = new FrameWriter(socket);
    socket.on(
      'data',
      frameReader(([method, id, arg]: [number, number, unknown]) => {
        switch (method) {
          case ECHO:
          case ECHO_BUFFER:
            writer.send([id, arg]);
            break;
          case TELL:
            tells++;
            break;
          case COUNT:
            writer.send([id, tells]);
            break;
        }
      }),
    );
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port };
});
