/** Installs the TCP/TLS transport behind `RpcSystem.load().remoteServiceBuilder(...)` (imported by `src/index.ts`). */

import { installRemoteTransport } from '../ActorRpcSystem.js';
import { TcpTransport } from './TcpTransport.js';
import { createWireCodec } from './wireCodec.js';

installRemoteTransport(
  (options) => (host) => TcpTransport.create(host, options),
  () => {
    // Force-serialization aid: a value goes through exactly what the wire would do to it.
    const codec = createWireCodec();
    return (value) => {
      const bytes = codec.encode(value, 0);
      return codec.decode(bytes, 0, bytes.length);
    };
  },
);
