/**
 * A benchmark helper process: many TaskManagers in one process (`services` RpcServices, each with `perService`
 * TaskExecutors of `slots` slots), so a hundred or a thousand TaskManagers fit on one machine. Argument: JSON
 * `{ settings, services, perService, slots, prefix }` (`settings`: Flink keys, as for the TaskManager main).
 * Prints `TaskManager host ready at <first address> (<n> TaskManagers)` when every TaskExecutor has started.
 */

import { Configuration } from '../src/cluster/config/Configuration.js';
import { ClusterOptions as O } from '../src/cluster/config/options.js';
import { registrationSettings } from '../src/cluster/config/settings.js';
import {
  closeAll,
  createHeartbeatServices,
  createProcessHaServices,
  exitOnSignals,
  startRemoteRpcService,
} from '../src/cluster/process/processServices.js';
import { startTaskManager, type TaskManagerHandle } from '../src/cluster/taskexecutor/startTaskManager.js';
import type { RpcService } from '../src/index.js';

interface HostArguments {
  settings: Record<string, string>;
  services: number;
  perService: number;
  slots: number;
  prefix: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as HostArguments;
const configuration = Configuration.fromObject(args.settings, 'host arguments');
const haServices = await createProcessHaServices(configuration, 'taskmanager');
const heartbeat = createHeartbeatServices(configuration);
const registration = registrationSettings(configuration);
const services: RpcService[] = [];
const taskManagers: TaskManagerHandle[] = [];
for (let s = 0; s < args.services; s++) {
  const rpcService = await startRemoteRpcService(configuration, configuration.get(O.taskManagerHost), '0', undefined);
  services.push(rpcService);
  for (let t = 0; t < args.perService; t++) {
    taskManagers.push(
      await startTaskManager({
        rpcService,
        haServices,
        numberOfSlots: args.slots,
        resourceId: `${args.prefix}-${s}-${t}`,
        heartbeat,
        registration,
        hostname: '127.0.0.1',
      }),
    );
  }
}
exitOnSignals(
  'TaskManager host',
  () =>
    closeAll([
      ...taskManagers.map((taskManager) => () => taskManager.close()),
      () => haServices.close(),
      ...services.map((service) => () => service.closeAsync()),
    ]),
  services[0]!.getLogger(),
);
process.stdout.write(
  `TaskManager host ready at ${taskManagers[0]?.taskExecutor.getAddress()} (${taskManagers.length} TaskManagers)\n`,
);
