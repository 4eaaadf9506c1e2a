/**
 * A cluster of real processes on this machine: JobManagers and TaskManagers as child processes on loopback, with
 * standalone or ZooKeeper HA, and a client to its Dispatcher leader. For the demo, process tests and benchmarks.
 */

import { Configuration } from '../config/Configuration.js';
import type { DispatcherGateway } from '../gateways.js';
import { ClusterProcess, freePort } from './childProcesses.js';
import { type ClusterClient, connectToCluster } from './clusterClient.js';

/** HA of a {@link LocalProcessCluster}. */
export type LocalClusterHa =
  | { readonly type: 'standalone' }
  | {
      readonly type: 'zookeeper';
      /** `host:port` of the ZooKeeper server. */
      readonly quorum: string;
      readonly storageDir: string;
      /** Default: a fresh id per cluster. */
      readonly clusterId?: string;
    };

export interface LocalProcessClusterOptions {
  readonly ha?: LocalClusterHa;
  /** JobManager processes (more than one only with ZooKeeper). Default 1. */
  readonly jobManagers?: number;
  /** Default 1. */
  readonly taskManagers?: number;
  /** Default 1. */
  readonly slotsPerTaskManager?: number;
  /** More configuration for every process, Flink keys (e.g. `heartbeat.timeout`). */
  readonly configuration?: Readonly<Record<string, string | number>>;
  /** Environment of the children (e.g. `FLINK_RPC_LOG_LEVEL`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Every stdout line of every child, prefixed with its name. */
  readonly onLine?: (name: string, line: string) => void;
}

/** A running cluster of child processes. */
export class LocalProcessCluster {
  readonly jobManagers: ClusterProcess[] = [];
  readonly taskManagers: ClusterProcess[] = [];
  private client: ClusterClient | undefined;
  private readonly settings: Record<string, string>;
  private jobManagerCount = 0;
  private closed = false;

  private constructor(
    private readonly options: LocalProcessClusterOptions,
    settings: Record<string, string>,
  ) {
    this.settings = settings;
  }

  /**
   * Starts the JobManagers, then the TaskManagers, connects a client and waits until every TaskManager has
   * registered; stops everything if any step fails.
   */
  static async start(options: LocalProcessClusterOptions = {}): Promise<LocalProcessCluster> {
    const ha = options.ha ?? { type: 'standalone' };
    const jobManagers = options.jobManagers ?? 1;
    if (ha.type === 'standalone' && jobManagers !== 1) {
      throw new RangeError('A standalone cluster has exactly one JobManager; use ZooKeeper HA for standbys.');
    }
    const settings: Record<string, string> = {
      'jobmanager.rpc.address': '127.0.0.1',
      'taskmanager.host': '127.0.0.1',
      'taskmanager.numberOfTaskSlots': String(options.slotsPerTaskManager ?? 1),
    };
    if (ha.type === 'standalone') {
      settings['high-availability.type'] = 'none';
      settings['jobmanager.rpc.port'] = String(await freePort());
    } else {
      settings['high-availability.type'] = 'zookeeper';
      settings['high-availability.zookeeper.quorum'] = ha.quorum;
      settings['high-availability.storageDir'] = ha.storageDir;
      settings['high-availability.cluster-id'] = ha.clusterId ?? `local-${process.pid}-${Date.now().toString(36)}`;
      settings['jobmanager.rpc.port'] = '0';
    }
    for (const [key, value] of Object.entries(options.configuration ?? {})) settings[key] = String(value);
    const cluster = new LocalProcessCluster(options, settings);
    try {
      await Promise.all(Array.from({ length: jobManagers }, () => cluster.startJobManager().ready));
      await Promise.all(Array.from({ length: options.taskManagers ?? 1 }, () => cluster.startTaskManager().ready));
      cluster.client = await connectToCluster(cluster.configuration());
      await cluster.waitForTaskManagers(
        options.taskManagers ?? 1,
        (options.taskManagers ?? 1) * (options.slotsPerTaskManager ?? 1),
      );
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** The configuration every process of this cluster runs with. */
  configuration(): Configuration {
    return Configuration.fromObject(this.settings, 'local cluster');
  }

  /** Starts one more JobManager process (a standby under ZooKeeper HA); await its `ready`. */
  startJobManager(): ClusterProcess {
    this.jobManagerCount += 1;
    const child = this.spawn('jobmanager', `jm-${this.jobManagerCount}`, []);
    this.jobManagers.push(child);
    return child;
  }

  /**
   * Starts a TaskManager process; `resourceId` defaults to `tm-<n>` (pass a dead TaskManager's id to restart it).
   * Await its `ready`.
   */
  startTaskManager(resourceId = `tm-${this.taskManagers.length + 1}`): ClusterProcess {
    const child = this.spawn('taskmanager', resourceId, [`-Dtaskmanager.resource-id=${resourceId}`]);
    this.taskManagers.push(child);
    return child;
  }

  /** The Dispatcher leader's gateway (waits for one, e.g. during a JobManager failover). */
  dispatcher(timeoutMs = 30_000): Promise<DispatcherGateway> {
    if (this.client === undefined) throw new Error('The cluster client is not connected.');
    return this.client.getDispatcher(timeoutMs);
  }

  /**
   * Waits until the ResourceManager leader counts `taskManagers` registered TaskManagers with `slots` slots in all
   * (a TaskManager prints its ready line before it has registered).
   */
  async waitForTaskManagers(taskManagers: number, slots: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const overview = await this.dispatcher(timeoutMs)
        .then((gateway) => gateway.requestClusterOverview())
        .catch(() => undefined);
      if (overview?.taskmanagers === taskManagers && overview['slots-total'] === slots) return;
      if (Date.now() > deadline) {
        throw new Error(
          `The cluster did not register ${taskManagers} TaskManagers with ${slots} slots within ${timeoutMs} ms ` +
            `(last overview: ${JSON.stringify(overview)}).`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The client's connection (its RpcService can reach any endpoint of the cluster). */
  getClient(): ClusterClient {
    if (this.client === undefined) throw new Error('The cluster client is not connected.');
    return this.client;
  }

  /** The live TaskManager whose resource id is `resourceId`. */
  taskManager(resourceId: string): ClusterProcess | undefined {
    return this.taskManagers.find((child) => child.name === resourceId && child.isAlive());
  }

  /** The JobManager process whose RPC service serves `address` (an endpoint address of it). */
  jobManagerServing(address: string): ClusterProcess | undefined {
    return this.jobManagers.find((child) => {
      const own = this.addressOf(child);
      return child.isAlive() && own !== undefined && address.startsWith(own);
    });
  }

  /** The service address (`rpc.tcp://flink@host:port/`) a process printed in its ready line. */
  addressOf(child: ClusterProcess): string | undefined {
    return readyAddresses.get(child);
  }

  /** Stops the client, then every live child with SIGTERM (SIGKILL after 15 s). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client?.close().catch(() => {});
    await Promise.all(this.taskManagers.map((child) => child.stop()));
    await Promise.all(this.jobManagers.map((child) => child.stop()));
  }

  private spawn(kind: 'jobmanager' | 'taskmanager', name: string, extra: string[]): ClusterProcess {
    const args = [...Object.entries(this.settings).map(([key, value]) => `-D${key}=${value}`), ...extra];
    const child = new ClusterProcess(kind, args, {
      name,
      env: { FLINK_RPC_LOG_LEVEL: 'error', ...this.options.env },
      onLine: (line) => {
        const match = / ready at (rpc\.tcp:\/\/[^ /]+\/)/.exec(line);
        if (match) readyAddresses.set(child, match[1]!);
        this.options.onLine?.(name, line);
      },
    });
    return child;
  }
}

/** The service address each process announced. */
const readyAddresses = new WeakMap<ClusterProcess, string>();
