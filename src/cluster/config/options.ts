/**
 * The configuration options of the control plane, with Flink's key names and defaults (Flink 1.19+/2.x; durations
 * in milliseconds). Where Flink renamed a key, the old name is accepted as a deprecated key.
 */

import { formatDuration } from './values.js';

export type OptionType = 'string' | 'integer' | 'number' | 'duration' | 'boolean';

type ValueOf<T extends OptionType> = T extends 'string' ? string : T extends 'boolean' ? boolean : number;

/** One option: its key, type, default, and an optional check of the parsed value (returns the problem). */
export interface ConfigOption<T = unknown> {
  readonly key: string;
  readonly type: OptionType;
  readonly defaultValue: T | undefined;
  readonly description: string;
  readonly deprecatedKeys?: readonly string[];
  /** Allowed values of a string option (compared case-insensitively, returned lower-case). */
  readonly choices?: readonly string[];
  readonly check?: (value: T) => string | undefined;
}

function option<K extends OptionType, D extends ValueOf<K> | undefined>(
  key: string,
  type: K,
  defaultValue: D,
  description: string,
  extra: Partial<Pick<ConfigOption<ValueOf<K>>, 'deprecatedKeys' | 'choices' | 'check'>> = {},
): ConfigOption<ValueOf<K>> & { readonly defaultValue: undefined extends D ? undefined : ValueOf<K> } {
  return { key, type, defaultValue, description, ...extra } as ConfigOption<ValueOf<K>> & {
    readonly defaultValue: undefined extends D ? undefined : ValueOf<K>;
  };
}

const positive = (value: number) => (value > 0 ? undefined : 'must be greater than 0');
const atLeast = (min: number) => (value: number) => (value >= min ? undefined : `must be at least ${min}`);
const port = (value: number) => (value >= 0 && value <= 65_535 ? undefined : 'must be a port number from 0 to 65535');

/** Every option the control plane reads. */
export const ClusterOptions = {
  // JobManager
  jobManagerRpcAddress: option(
    'jobmanager.rpc.address',
    'string',
    '127.0.0.1',
    'Host the JobManager RPC service listens on and is reached at.',
  ),
  jobManagerRpcPort: option(
    'jobmanager.rpc.port',
    'integer',
    6123,
    'Port of the JobManager RPC service (0: any free port).',
    { check: port },
  ),
  jobManagerBindHost: option(
    'jobmanager.bind-host',
    'string',
    undefined,
    'Local address the JobManager RPC service binds to (default: its rpc address).',
  ),
  restPort: option('rest.port', 'integer', 8081, 'Port of the REST server.', { check: port }),
  restAddress: option(
    'rest.address',
    'string',
    undefined,
    'Address clients use to reach the REST server (default: jobmanager.rpc.address).',
  ),
  restBindAddress: option('rest.bind-address', 'string', undefined, 'Local address the REST server binds to.'),
  webRefreshInterval: option('web.refresh-interval', 'duration', 3_000, 'How often the dashboard refreshes.', {
    check: positive,
  }),
  slotRequestTimeout: option(
    'slot.request.timeout',
    'duration',
    300_000,
    'How long a job waits for the slots it needs before it fails with NoResourceAvailableException.',
    { check: positive },
  ),
  askTimeout: option('pekko.ask.timeout', 'duration', 10_000, 'Default timeout of RPC asks.', {
    check: positive,
    deprecatedKeys: ['akka.ask.timeout'],
  }),

  // TaskManager
  taskManagerHost: option(
    'taskmanager.host',
    'string',
    '127.0.0.1',
    'Host the TaskManager RPC service listens on and is reached at.',
  ),
  taskManagerRpcPort: option(
    'taskmanager.rpc.port',
    'string',
    '0',
    'Port or port range of the TaskManager RPC service ("0": any free port, "50100-50200": a range).',
    {
      check: (value) =>
        /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)
          ? undefined
          : 'must be a port, a range such as 50100-50200, or a comma-separated list of them',
    },
  ),
  taskManagerResourceId: option(
    'taskmanager.resource-id',
    'string',
    undefined,
    'Resource id of the TaskManager (default: generated).',
  ),
  numberOfTaskSlots: option('taskmanager.numberOfTaskSlots', 'integer', 1, 'Number of slots of a TaskManager.', {
    check: atLeast(1),
  }),
  taskCancellationTimeout: option(
    'task.cancellation.timeout',
    'duration',
    180_000,
    'How long a task may take to stop after cancellation before it is failed (0: wait forever).',
    { check: atLeast(0) },
  ),

  // Heartbeats
  heartbeatInterval: option('heartbeat.interval', 'duration', 10_000, 'Time between two heartbeat requests.', {
    check: positive,
  }),
  heartbeatTimeout: option(
    'heartbeat.timeout',
    'duration',
    50_000,
    'Time without a heartbeat after which a peer is considered lost.',
    { check: positive },
  ),
  heartbeatRpcFailureThreshold: option(
    'heartbeat.rpc-failure-threshold',
    'integer',
    2,
    'Consecutive failed heartbeat RPCs after which a peer is considered unreachable (-1: disabled).',
    { check: (value) => (value === -1 || value > 0 ? undefined : 'must be greater than 0, or -1 to disable') },
  ),

  // Registration
  registrationInitialTimeout: option(
    'cluster.registration.initial-timeout',
    'duration',
    100,
    'First registration attempt timeout; doubled on every timeout.',
    { check: positive },
  ),
  registrationMaxTimeout: option(
    'cluster.registration.max-timeout',
    'duration',
    30_000,
    'Largest registration attempt timeout.',
    { check: positive },
  ),
  registrationErrorDelay: option(
    'cluster.registration.error-delay',
    'duration',
    10_000,
    'Pause after a failed registration attempt.',
    { check: atLeast(0) },
  ),
  registrationRefusedDelay: option(
    'cluster.registration.refused-registration-delay',
    'duration',
    30_000,
    'Pause after a refused registration.',
    { check: atLeast(0) },
  ),

  // High availability
  haType: option(
    'high-availability.type',
    'string',
    'none',
    'none (standalone: fixed addresses, or embedded inside a MiniCluster), embedded, standalone or zookeeper.',
    {
      deprecatedKeys: ['high-availability', 'high-availability.mode'],
      choices: ['none', 'embedded', 'standalone', 'zookeeper'],
    },
  ),
  haZooKeeperQuorum: option(
    'high-availability.zookeeper.quorum',
    'string',
    undefined,
    'host:port[,host:port…] of the ZooKeeper ensemble.',
  ),
  haZooKeeperRoot: option(
    'high-availability.zookeeper.path.root',
    'string',
    '/flink',
    'Root node of all Flink clusters in ZooKeeper.',
  ),
  haClusterId: option(
    'high-availability.cluster-id',
    'string',
    '/default',
    'Separates clusters that share a ZooKeeper ensemble and storage directory.',
  ),
  haStorageDir: option(
    'high-availability.storageDir',
    'string',
    undefined,
    'Directory for job graphs, checkpoint metadata and job results (ZooKeeper holds pointers to them).',
    { deprecatedKeys: ['high-availability.storage-dir'] },
  ),
  haZooKeeperSessionTimeout: option(
    'high-availability.zookeeper.client.session-timeout',
    'duration',
    60_000,
    'ZooKeeper session timeout: a dead JobManager loses its leadership this long after its last contact.',
    { check: positive },
  ),
  haZooKeeperConnectionTimeout: option(
    'high-availability.zookeeper.client.connection-timeout',
    'duration',
    15_000,
    'How long to wait for the first ZooKeeper connection.',
    { check: positive },
  ),

  // Checkpointing
  checkpointingInterval: option(
    'execution.checkpointing.interval',
    'duration',
    undefined,
    'Checkpoint interval of jobs that do not set one (unset: no checkpoints).',
    { check: atLeast(10) },
  ),
  checkpointingTimeout: option(
    'execution.checkpointing.timeout',
    'duration',
    600_000,
    'A checkpoint not completed within this time is aborted.',
    { check: positive },
  ),
  checkpointsNumRetained: option(
    'execution.checkpointing.num-retained',
    'integer',
    1,
    'Completed checkpoints kept per job.',
    { deprecatedKeys: ['state.checkpoints.num-retained'], check: atLeast(1) },
  ),
  checkpointsDir: option(
    'execution.checkpointing.dir',
    'string',
    undefined,
    'Directory for checkpoint state too large to travel inline.',
    { deprecatedKeys: ['state.checkpoints.dir'] },
  ),

  // Restart strategy
  restartStrategyType: option(
    'restart-strategy.type',
    'string',
    undefined,
    'none/off/disable, fixed-delay/fixeddelay or exponential-delay/exponentialdelay (unset: exponential-delay with checkpointing, else none).',
    {
      deprecatedKeys: ['restart-strategy'],
      choices: ['none', 'off', 'disable', 'fixed-delay', 'fixeddelay', 'exponential-delay', 'exponentialdelay'],
    },
  ),
  fixedDelayAttempts: option(
    'restart-strategy.fixed-delay.attempts',
    'integer',
    1,
    'Restarts before the job fails (fixed-delay).',
    { check: atLeast(0) },
  ),
  fixedDelayDelay: option(
    'restart-strategy.fixed-delay.delay',
    'duration',
    1_000,
    'Pause before each restart (fixed-delay).',
    { check: atLeast(0) },
  ),
  exponentialInitialBackoff: option(
    'restart-strategy.exponential-delay.initial-backoff',
    'duration',
    1_000,
    'First pause before a restart (exponential-delay).',
    { check: atLeast(1) },
  ),
  exponentialMaxBackoff: option(
    'restart-strategy.exponential-delay.max-backoff',
    'duration',
    60_000,
    'Longest pause before a restart (exponential-delay).',
    { check: atLeast(1) },
  ),
  exponentialBackoffMultiplier: option(
    'restart-strategy.exponential-delay.backoff-multiplier',
    'number',
    1.5,
    'Growth of the pause per restart (exponential-delay).',
    { check: (value) => (value > 1 ? undefined : 'must be greater than 1') },
  ),
  exponentialResetBackoffThreshold: option(
    'restart-strategy.exponential-delay.reset-backoff-threshold',
    'duration',
    3_600_000,
    'Running this long without failure resets the backoff (exponential-delay).',
    { check: atLeast(1) },
  ),
  exponentialJitterFactor: option(
    'restart-strategy.exponential-delay.jitter-factor',
    'number',
    0.1,
    'Random spread of the pause, as a fraction (exponential-delay).',
    { check: (value) => (value >= 0 && value <= 1 ? undefined : 'must be between 0 and 1') },
  ),
  exponentialAttempts: option(
    'restart-strategy.exponential-delay.attempts-before-reset-backoff',
    'integer',
    2_147_483_647,
    'Restarts before the job fails, counted since the last reset (exponential-delay).',
    { check: atLeast(1) },
  ),
} as const;

/** All options by key (deprecated keys included, mapping to their option). */
export const OPTIONS_BY_KEY: ReadonlyMap<string, ConfigOption> = (() => {
  const byKey = new Map<string, ConfigOption>();
  for (const definition of Object.values(ClusterOptions) as ConfigOption[]) {
    byKey.set(definition.key, definition);
    for (const deprecated of definition.deprecatedKeys ?? []) byKey.set(deprecated, definition);
  }
  return byKey;
})();

/** A default as Flink documents it ("10 s", "(none)"). */
export function describeDefault(definition: ConfigOption): string {
  if (definition.defaultValue === undefined) return '(none)';
  if (definition.type === 'duration') return formatDuration(definition.defaultValue as number);
  return String(definition.defaultValue);
}
