/**
 * The benchmark's flink-rpc protocol, written exactly as a user would, against the public entry point
 * `src/index.ts` (the package's `.` export). Importing it also installs whatever transport `src/index.ts` registers.
 */

import { gateway, type RpcConfig, RpcEndpoint, type RpcGateway, type RpcService } from '../../../src/index.js';
import { isObservabilityVariant, observabilitySetup } from '../../observability.js';
import type { Payload } from '../types.js';

export interface EchoGateway extends RpcGateway {
  echo(payload: Payload): Promise<Payload>;
  tell(payload: Payload): void;
  count(): Promise<number>;
  echoBuffer(data: Buffer): Promise<Buffer>;
}

export const EchoGateway = gateway<EchoGateway>('EchoGateway', {
  echo: 'ask',
  tell: 'tell',
  count: 'ask',
  echoBuffer: 'ask',
});

export class EchoEndpoint extends RpcEndpoint implements EchoGateway {
  static readonly gateways = [EchoGateway];
  private tells = 0;

  constructor(rpcService: RpcService) {
    super(rpcService, 'echo');
  }

  async echo(payload: Payload): Promise<Payload> {
    return payload;
  }

  tell(_payload: Payload): void {
    this.tells++;
  }

  async count(): Promise<number> {
    return this.tells;
  }

  async echoBuffer(data: Buffer): Promise<Buffer> {
    return data;
  }
}

/**
 * Service options of both sides: the defaults (what users get), plus `maxFrameSize` headroom for the 8 MiB echo if
 * the default ever drops below it. `FLINK_RPC_BENCH_VARIANT` picks an observability variant (`off`, `default`,
 * `metrics`, `tracing-sdk`: see `bench/observability.ts`); `FLINK_RPC_BENCH_CONFIG` (JSON) overrides options, e.g.
 * `{"captureAskCallStack":true}`, to measure what an option costs.
 */
export function benchConfig(): RpcConfig {
  const variant = process.env.FLINK_RPC_BENCH_VARIANT;
  const observability = isObservabilityVariant(variant) ? observabilitySetup(variant).config : {};
  const overrides = JSON.parse(process.env.FLINK_RPC_BENCH_CONFIG ?? '{}') as RpcConfig;
  return { maxFrameSize: 10_485_760, ...observability, ...overrides };
}
