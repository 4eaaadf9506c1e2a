/**
 * A separate process that opens the cluster's ZooKeeper HA stores and prints what it recovers as one JSON line:
 * proof that the stores hold their data in ZooKeeper and the storage directory, not in the writer's memory.
 * Argument: JSON `{ connectString, clusterId, storageDir, jobId }`.
 */

import { createZooKeeperClusterHaStores } from '../../../src/cluster/index.js';
import { ZooKeeperHaServices } from '../../../src/ha/index.js';

const { connectString, clusterId, storageDir, jobId } = JSON.parse(process.argv[2] ?? '{}');
const haServices = await ZooKeeperHaServices.create({ connectString, clusterId, sessionTimeout: 4_000 });
try {
  // A reader never writes: an election that never started is enough as the guard.
  const guard = haServices.getDispatcherLeaderElection();
  const stores = createZooKeeperClusterHaStores(haServices, { storageDir });
  const graphs = stores.jobGraphStore(guard);
  const checkpoints = stores.completedCheckpointStore(jobId, 10, guard);
  const report = {
    jobIds: await graphs.getJobIds(),
    graph: await graphs.recoverJobGraph(jobId),
    checkpointIds: (await checkpoints.getAllCheckpoints()).map((c) => c.checkpointId),
    nextCheckpointId: await stores.checkpointIdCounter(jobId, guard).get(),
    dirtyResults: (await stores.jobResultStore(guard).getDirtyResults()).map((r) => r.jobId),
    writeRefused: await checkpoints
      .addCheckpoint({ jobId, checkpointId: 999, triggerTimestamp: 0, completionTimestamp: 0, taskStates: {} })
      .then(
        () => 'no',
        (error: Error) => error.name,
      ),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await haServices.close();
}
