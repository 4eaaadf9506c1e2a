/** gRPC (grpc-js) server: unary echo, client-streaming tells, insecure HTTP/2 on 127.0.0.1. */

import {
  Server,
  ServerCredentials,
  type ServerReadableStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { serverMain } from '../server-support.js';
import { CHANNEL_OPTIONS, echoService } from './service.js';

serverMain(async () => {
  let tells = 0;
  const server = new Server(CHANNEL_OPTIONS);
  server.addService(echoService, {
    echo: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(null, call.request),
    echoBuffer: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
      callback(null, call.request),
    count: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<number>) => callback(null, tells),
    tell: (call: ServerReadableStream<unknown, number>, callback: sendUnaryData<number>) => {
      call.on('data', () => {
        tells++;
      });
      call.on('end', () => callback(null, tells));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { port };
});
