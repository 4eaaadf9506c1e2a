/**
 * flink-rpc: Apache Flink's RPC system for TypeScript on Node.js.
 *
 * @packageDocumentation
 */

import './rpc/actor/installActorRpcSystem.js';
import './transport/installTcpTransport.js';

export {
  type Class,
  type ClassOptions,
  DeserializationError,
  registerClass,
  SerializationError,
} from './codec/ValueCodec.js';
export {
  buildRpcAddress,
  formatHost,
  isValidEndpointId,
  normalizeHost,
  parseRpcAddress,
  type RpcAddress,
  type RpcProtocol,
  rpcAddressToHostAndPort,
} from './rpc/address.js';
export {
  DEFAULT_ASK_TIMEOUT,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_THROUGHPUT,
  DEFAULT_TIME_SLICE,
  type RpcConfig,
  type RpcTlsConfig,
} from './rpc/config.js';
export {
  EndpointNotStartedException,
  FencingTokenException,
  HandshakeException,
  RecipientUnreachableException,
  RpcConnectionException,
  RpcException,
  RpcLoaderException,
  RpcTimeoutException,
  TaskCancelledError,
} from './rpc/errors.js';
export type { MainThreadExecutor, ScheduledExecutor, ScheduledTask } from './rpc/executors.js';
export {
  type AskSpec,
  type FencedRpcGateway,
  type GatewayDescriptor,
  type GatewayOptions,
  gateway,
  type MethodInfo,
  type MethodSpec,
  type MethodTable,
  type RpcGateway,
  type TellSpec,
} from './rpc/gateway.js';
export type { Logger } from './rpc/logger.js';
export type { RpcServer } from './rpc/RpcServer.js';
export { FencedRpcEndpoint, type FencingTokenOf, RpcEndpoint, type RpcService } from './rpc/RpcService.js';
export { type RpcServiceBuilder, RpcSystem, type RpcSystemLoader } from './rpc/RpcSystem.js';
