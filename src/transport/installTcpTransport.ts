/** Installs the TCP/TLS transport behind `RpcSystem.load().remoteServiceBuilder(...)` (imported by `src/index.ts`). */

import { installRemoteTransport } from '../rpc/actor/ActorRpcSystem.js';
import { RpcException } from '../rpc/errors.js';
import { createFrameCodec } from './frames.js';
import { TcpTransport } from './TcpTransport.js';

installRemoteTransport(
  (options) => (host) => TcpTransport.create(host, options),
  (config) => {
    // Force-serialization aid: a value goes through exactly what the wire would do to it, size limit included.
    const codec = createFrameCodec();
    const max = config.maxFrameSize;
    return (value) => {
      const bytes = codec.encode(value, 0);
      if (bytes.length > max) {
        throw new RpcException(`The serialized size ${bytes.length} exceeds the maximum framesize ${max} .`);
      }
      return codec.decode(bytes, 0, bytes.length);
    };
  },
);
