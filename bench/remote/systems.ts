/** The systems under test. Each id is a directory with `server.ts` and `client.ts` (see `types.ts`). */

export interface SystemSpec {
  id: string;
  label: string;
  /** The adapter directory under `bench/remote/` (default: the id). Variants of one system share it. */
  dir?: string;
  /** Environment of the variant's server and client processes (e.g. which observability options flink-rpc gets). */
  env?: Readonly<Record<string, string>>;
  /** How it is set up, printed under the table and stored in the JSON. */
  notes: string;
}

/**
 * In measuring order: the baseline and flink-rpc first, so that they are always measured back to back (see
 * `roundOrder` in `../rounds.ts`), then the peers.
 */
export const SYSTEMS: readonly SystemSpec[] = [
  {
    id: 'raw',
    label: 'raw',
    notes:
      'node:net, 4-byte length prefix, one msgpackr Packr/Unpackr, request ids in a Map, writes coalesced per tick ' +
      '(one concatenated socket.write in process.nextTick)',
  },
  {
    id: 'flink',
    label: 'flink-rpc',
    notes:
      'public API: remoteServiceBuilder(...).createAndStart(), EchoEndpoint, connect(address, EchoGateway); defaults',
  },

  {
    id: 'birpc',
    label: 'birpc/ws',
    notes:
      'birpc over one ws WebSocket, msgpackr serialize/deserialize as binary frames, permessage-deflate off; tells ' +
      'via $callEvent (no response)',
  },
  {
    id: 'grpc',
    label: 'grpc-js',
    notes:
      '@grpc/grpc-js unary calls on one insecure channel; service defined in code with msgpackr serializers (no ' +
      'protobuf); tells are messages of one client-streaming call whose response is the count',
  },
];
