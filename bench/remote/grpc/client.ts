/** gRPC (grpc-js) client: one channel, unary calls through `Client.makeUnaryRequest`, tells on a client stream. */

import { once } from 'node:events';
import { Client, type ClientWritableStream, credentials, type MethodDefinition } from '@grpc/grpc-js';
import type { BenchClient, ConnectFn, Payload } from '../types.js';
import { CHANNEL_OPTIONS, echoService } from './service.js';

export const connect: ConnectFn = async ({ port }) => {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), CHANNEL_OPTIONS);
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 5_000, (error) => (error ? reject(error) : resolve())),
  );

  function unary<T>(def: MethodDefinition<any, any>, arg: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      client.makeUnaryRequest<unknown, T>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        arg,
        (error, value) => (error ? reject(error) : resolve(value as T)),
      );
    });
  }

  /** The open tell stream and the promise of its response (the server's tell count when the stream ends). */
  let tellStream: ClientWritableStream<unknown> | undefined;
  let tellResponse: Promise<number> | undefined;
  const { tell } = echoService;

  const bench: BenchClient = {
    echo: (payload) => unary<Payload>(echoService.echo, payload),
    tell: (payload) => {
      if (tellStream === undefined) {
        tellResponse = new Promise<number>((resolve, reject) => {
          tellStream = client.makeClientStreamRequest<unknown, number>(
            tell.path,
            tell.requestSerialize,
            tell.responseDeserialize,
            (error, value) => (error ? reject(error) : resolve(value as number)),
          );
        });
      }
      tellStream!.write(payload);
    },
    writable: async () => {
      // `write` returned false once the stream's buffer passed its high-water mark: wait for 'drain' then.
      if (tellStream?.writableNeedDrain) await once(tellStream, 'drain');
      else await new Promise((resolve) => setImmediate(resolve));
    },
    count: async () => {
      // grpc-js refuses a unary call whose request message is falsy ("Received no request message").
      if (tellStream === undefined) return unary<number>(echoService.count, {});
      const response = tellResponse!;
      tellStream.end();
      tellStream = undefined;
      tellResponse = undefined;
      return response;
    },
    echoBuffer: (data) => unary<Buffer>(echoService.echoBuffer, data),
    close: async () => client.close(),
  };
  return bench;
};
