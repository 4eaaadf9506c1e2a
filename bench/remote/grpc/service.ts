/**
 * The gRPC service, defined in code: method definitions with msgpackr (de)serializers instead of protobuf, so no
 * schema or code generation is needed and every system encodes the same payload with the same codec. (With
 * protobuf, grpc-js would spend its time in protobufjs instead; the HTTP/2 framing cost is the same either way.)
 *
 * Tells: gRPC has no fire-and-forget call. We send them on one client-streaming call (`Tell`), whose single
 * response is the number of tells the server has received; `count()` ends the stream and waits for that response.
 * This is gRPC's idiomatic, and fastest, way to send many one-way messages: a unary call per tell (not awaited)
 * would add a full HTTP/2 stream per message and could not be ordered before the counting call.
 */

import type { MethodDefinition } from '@grpc/grpc-js';
import { createCodec } from '../msgpack.js';

const { packr, unpackr } = createCodec();
const serialize = (value: unknown): Buffer => packr.pack(value);
const deserialize = (bytes: Buffer): any => unpackr.unpack(bytes);

function method(name: string, requestStream: boolean): MethodDefinition<any, any> {
  return {
    path: `/bench.Echo/${name}`,
    requestStream,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}

export const echoService = {
  echo: method('Echo', false),
  tell: method('Tell', true),
  count: method('Count', false),
  echoBuffer: method('EchoBuffer', false),
};

/** Room for 8 MiB plus msgpack and gRPC framing (the default receive limit is 4 MiB). */
export const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
};
