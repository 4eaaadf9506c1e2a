/** Starting one TaskManager: a TaskExecutor on a given RpcService (Flink's TaskManagerRunner, without the process). */

import { hostname as osHostname } from 'node:os';
import type { HighAvailabilityServices } from '../../ha/index.js';
import type { HeartbeatServices } from '../../heartbeat/index.js';
import type { Logger, RpcService } from '../../index.js';
import type { RetryingRegistrationOptions } from '../registration/RetryingRegistration.js';
import type { OperatorFactory } from '../task/Operator.js';
import type { OperatorRef, ResourceId } from '../types.js';
import { TaskExecutor } from './TaskExecutor.js';

export interface TaskManagerOptions {
  readonly rpcService: RpcService;
  readonly haServices: HighAvailabilityServices;
  /** Flink's `taskmanager.numberOfTaskSlots`. */
  readonly numberOfSlots: number;
  /** Default: a random UUID. */
  readonly resourceId?: string;
  readonly heartbeat: HeartbeatServices;
  readonly registration: RetryingRegistrationOptions;
  /** Flink's `task.cancellation.timeout` (default 30 000 ms). */
  readonly taskCancellationTimeout?: number;
  /** Flink's `taskmanager.slot.timeout` (default 10 000 ms). */
  readonly slotTimeout?: number;
  readonly hostname?: string;
  readonly dataPort?: number;
  readonly loadOperatorFactory?: (ref: OperatorRef) => Promise<OperatorFactory>;
  readonly logger?: Logger;
}

export interface TaskManagerHandle {
  readonly resourceId: ResourceId;
  readonly taskExecutor: TaskExecutor;
  /** Stops the TaskExecutor (its tasks are cancelled, the leaders told); the RpcService and HA services stay. */
  close(): Promise<void>;
}

/** Creates and starts a TaskExecutor; it registers at the ResourceManager leader by itself. */
export async function startTaskManager(options: TaskManagerOptions): Promise<TaskManagerHandle> {
  const resourceId = options.resourceId ?? crypto.randomUUID();
  const taskExecutor = new TaskExecutor(options.rpcService, {
    resourceId,
    numberOfSlots: options.numberOfSlots,
    haServices: options.haServices,
    heartbeat: options.heartbeat,
    registration: options.registration,
    hostname: options.hostname ?? osHostname(),
    ...(options.taskCancellationTimeout === undefined
      ? {}
      : { taskCancellationTimeout: options.taskCancellationTimeout }),
    ...(options.slotTimeout === undefined ? {} : { slotTimeout: options.slotTimeout }),
    ...(options.dataPort === undefined ? {} : { dataPort: options.dataPort }),
    ...(options.loadOperatorFactory === undefined ? {} : { loadOperatorFactory: options.loadOperatorFactory }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  taskExecutor.start();
  let closing: Promise<void> | undefined;
  return {
    resourceId,
    taskExecutor,
    close: () => {
      closing ??= taskExecutor.closeAsync();
      return closing;
    },
  };
}
