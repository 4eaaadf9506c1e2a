/** Makes the actor runtime the default `RpcSystem` (Flink's ServiceLoader entry for Pekko). */

import { RpcSystem } from '../RpcSystem.js';
import { ActorRpcSystem } from './ActorRpcSystem.js';

RpcSystem.registerLoader({
  name: 'actor',
  priority: 100,
  loadRpcSystem: (config) => new ActorRpcSystem(config),
});
