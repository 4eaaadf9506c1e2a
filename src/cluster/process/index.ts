/** Running the control plane as processes: entry points, a cluster client, and child-process clusters. */

export {
  ClusterProcess,
  type ClusterProcessKind,
  type ClusterProcessOptions,
  freePort,
  isPortOpen,
  liveClusterProcesses,
  type ProcessExit,
} from './childProcesses.js';
export { type ClusterClient, connectToCluster } from './clusterClient.js';
export {
  type JobManagerProcessHandle,
  main as jobManagerMain,
  reportLeadershipChanges,
  runJobManager,
} from './jobmanagerMain.js';
export {
  type LocalClusterHa,
  LocalProcessCluster,
  type LocalProcessClusterOptions,
} from './LocalProcessCluster.js';
export {
  createHeartbeatServices,
  createProcessHaServices,
  exitOnSignals,
  RPC_SERVICE_NAME,
  STANDALONE_ENDPOINT_IDS,
  standaloneAddresses,
  startRemoteRpcService,
} from './processServices.js';
export {
  main as taskManagerMain,
  runTaskManager,
  TASK_MANAGER_FLAG_ALIASES,
  type TaskManagerProcessHandle,
} from './taskmanagerMain.js';
