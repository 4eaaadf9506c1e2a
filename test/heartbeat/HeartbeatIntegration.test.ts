/**
 * Heartbeats between two real endpoints of one local RPC service, with the heartbeat RPCs as gateway asks — the
 * shape of Flink's JobMaster (sender) ↔ TaskExecutor (receiver) heartbeats. Real timers: the exact bounds are
 * specified by the fake-timer suites; these check the same behaviour end to end, with margins for the event loop.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HeartbeatListener, type HeartbeatManager, HeartbeatServices } from '../../src/heartbeat/index.js';
import { gateway, RpcEndpoint, type RpcGateway, type RpcService, RpcSystem } from '../../src/index.js';
import { recordingLogger } from './testUtils.js';

const INTERVAL = 20;
const TIMEOUT = 150;

interface JobReport {
  job: string;
  seq: number;
}
interface SlotReport {
  slots: number;
  seq: number;
}

/** What the job master offers: the receiving end of the task executor's heartbeats. An ask, so failures surface. */
interface JobMasterGateway extends RpcGateway {
  heartbeatFromTaskManager(resourceId: string, payload: SlotReport): Promise<void>;
}
const JobMasterGateway = gateway<JobMasterGateway>('test.JobMasterGateway', { heartbeatFromTaskManager: 'ask' });

interface TaskExecutorGateway extends RpcGateway {
  heartbeatFromJobManager(resourceId: string, payload: JobReport): Promise<void>;
}
const TaskExecutorGateway = gateway<TaskExecutorGateway>('test.TaskExecutorGateway', {
  heartbeatFromJobManager: 'ask',
});

type Event = { kind: string; id: string; at: number; payload?: unknown };

/** Records callbacks and whether each ran in the endpoint's main thread. */
function recordingListener<I, O>(endpoint: RpcEndpoint, payload: (seq: number) => O) {
  const events: Event[] = [];
  const violations: string[] = [];
  let seq = 0;
  const check = (callback: string) => {
    try {
      endpoint.validateRunsInMainThread();
    } catch {
      violations.push(callback);
    }
  };
  const listener: HeartbeatListener<I, O> = {
    notifyHeartbeatTimeout: (id) => {
      check('notifyHeartbeatTimeout');
      events.push({ kind: 'timeout', id, at: Date.now() });
    },
    notifyTargetUnreachable: (id) => {
      check('notifyTargetUnreachable');
      events.push({ kind: 'unreachable', id, at: Date.now() });
    },
    reportPayload: (id, p) => {
      check('reportPayload');
      events.push({ kind: 'payload', id, at: Date.now(), payload: p });
    },
    retrievePayload: () => {
      check('retrievePayload');
      return payload(++seq);
    },
  };
  const of = (kind: string) => events.filter((e) => e.kind === kind);
  return { listener, events, violations, of };
}

class JobMaster extends RpcEndpoint implements JobMasterGateway {
  static readonly gateways = [JobMasterGateway];
  readonly recorder = recordingListener<SlotReport, JobReport>(this, (seq) => ({ job: 'wordcount', seq }));
  heartbeats!: HeartbeatManager<SlotReport, JobReport>;

  constructor(
    service: RpcService,
    private readonly services: HeartbeatServices,
  ) {
    super(service, 'jm');
  }

  protected override async onStart() {
    this.heartbeats = this.services.createHeartbeatManagerSender(
      'jm',
      this.recorder.listener,
      this.getMainThreadExecutor(),
      recordingLogger(),
    );
  }

  protected override async onStop() {
    this.heartbeats.stop();
  }

  heartbeatFromTaskManager(resourceId: string, payload: SlotReport): Promise<void> {
    return this.heartbeats.receiveHeartbeat(resourceId, payload);
  }

  /** Starts monitoring a task executor, as Flink's JobMaster does once it registered. */
  async monitor(resourceId: string, address: string): Promise<void> {
    const te = await this.getRpcService().connect(address, TaskExecutorGateway);
    this.runAsync(() =>
      this.heartbeats.monitorTarget(resourceId, {
        // The job master only requests; the task executor never asks it for heartbeats.
        receiveHeartbeat: async () => {},
        requestHeartbeat: (origin, payload) => te.heartbeatFromJobManager(origin, payload),
      }),
    );
  }
}

class TaskExecutor extends RpcEndpoint implements TaskExecutorGateway {
  static readonly gateways = [TaskExecutorGateway];
  readonly recorder = recordingListener<JobReport, SlotReport>(this, (seq) => ({ slots: 4, seq }));
  heartbeats!: HeartbeatManager<JobReport, SlotReport>;
  /** A frozen task executor takes heartbeat requests but never handles them (like a stuck process). */
  frozen = false;

  constructor(
    service: RpcService,
    private readonly services: HeartbeatServices,
    private readonly stopHeartbeatsOnStop = true,
  ) {
    super(service, 'tm');
  }

  protected override async onStart() {
    this.heartbeats = this.services.createHeartbeatManager(
      'tm',
      this.recorder.listener,
      this.getMainThreadExecutor(),
      recordingLogger(),
    );
  }

  protected override async onStop() {
    if (this.stopHeartbeatsOnStop) this.heartbeats.stop();
  }

  heartbeatFromJobManager(resourceId: string, payload: JobReport): Promise<void> {
    if (this.frozen) return new Promise(() => {});
    return this.heartbeats.requestHeartbeat(resourceId, payload);
  }

  async monitor(resourceId: string, address: string): Promise<void> {
    const jm = await this.getRpcService().connect(address, JobMasterGateway);
    this.runAsync(() =>
      this.heartbeats.monitorTarget(resourceId, {
        receiveHeartbeat: (origin, payload) => jm.heartbeatFromTaskManager(origin, payload),
        requestHeartbeat: async () => {},
      }),
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await sleep(2);
  }
}

let service: RpcService;
let jm: JobMaster;
let tm: TaskExecutor;

async function startPair(services: HeartbeatServices, stopHeartbeatsOnStop = true) {
  jm = new JobMaster(service, services);
  tm = new TaskExecutor(service, services, stopHeartbeatsOnStop);
  jm.start();
  tm.start();
  await tm.monitor('jm', jm.getAddress());
  await jm.monitor('tm', tm.getAddress());
}

beforeEach(async () => {
  // A long ask timeout: in these tests a frozen peer must be caught by the heartbeat timeout, not by ask timeouts.
  service = await RpcSystem.load().localServiceBuilder({ askTimeout: 10_000 }).createAndStart();
});

afterEach(async () => {
  await service.closeAsync();
});

describe('heartbeats between two endpoints', () => {
  it('carry payloads both ways over gateway asks, with every callback in the main thread', async () => {
    await startPair(new HeartbeatServices(INTERVAL, TIMEOUT));
    await until(() => jm.recorder.of('payload').length >= 5 && tm.recorder.of('payload').length >= 5, 5_000);

    const toTm = tm.recorder.of('payload');
    expect(new Set(toTm.map((e) => e.id))).toEqual(new Set(['jm']));
    expect(toTm.slice(0, 3).map((e) => e.payload)).toEqual([
      { job: 'wordcount', seq: 1 },
      { job: 'wordcount', seq: 2 },
      { job: 'wordcount', seq: 3 },
    ]);
    const toJm = jm.recorder.of('payload');
    expect(new Set(toJm.map((e) => e.id))).toEqual(new Set(['tm']));
    expect(toJm.slice(0, 3).map((e) => e.payload)).toEqual([
      { slots: 4, seq: 1 },
      { slots: 4, seq: 2 },
      { slots: 4, seq: 3 },
    ]);
    expect(jm.heartbeats.getLastHeartbeatFrom('tm')).toBeGreaterThan(0);
    expect(tm.heartbeats.getLastHeartbeatFrom('jm')).toBeGreaterThan(0);

    await sleep(2 * TIMEOUT); // healthy peers never time out
    expect(jm.recorder.events.filter((e) => e.kind !== 'payload')).toEqual([]);
    expect(tm.recorder.events.filter((e) => e.kind !== 'payload')).toEqual([]);
    expect(jm.recorder.violations).toEqual([]);
    expect(tm.recorder.violations).toEqual([]);
  });

  it('report a task executor that stops answering by a timeout, within timeout + one interval', async () => {
    await startPair(new HeartbeatServices(INTERVAL, TIMEOUT));
    await until(() => jm.recorder.of('payload').length >= 3, 5_000);
    tm.frozen = true;
    const frozenAt = Date.now();
    const lastHeartbeat = jm.heartbeats.getLastHeartbeatFrom('tm');

    await until(() => jm.recorder.of('timeout').length > 0, 5_000);
    const [timeout] = jm.recorder.of('timeout');
    expect(timeout!.id).toBe('tm');
    // Not before the timeout (1 ms of slack: Date.now() and Node's timer clock round differently) …
    expect(timeout!.at - lastHeartbeat).toBeGreaterThanOrEqual(TIMEOUT - 1);
    // … and within timeout + one interval of the freeze (plus event-loop slack on a busy machine).
    expect(timeout!.at - frozenAt).toBeLessThanOrEqual(TIMEOUT + INTERVAL + 50);
    expect(jm.recorder.of('unreachable')).toEqual([]); // asks hang, they do not fail
    expect(jm.recorder.violations).toEqual([]);
  });

  it('report a terminated task executor unreachable after N failed heartbeat asks', async () => {
    await startPair(new HeartbeatServices(INTERVAL, 10_000, 2));
    await until(() => jm.recorder.of('payload').length >= 3, 5_000);
    await tm.closeAsync(); // asks to it now fail with RecipientUnreachableException
    const closedAt = Date.now();

    await until(() => jm.recorder.of('unreachable').length > 0, 5_000);
    expect(jm.recorder.of('unreachable').map((e) => e.id)).toEqual(['tm']);
    // Two failed rounds: a few intervals, far below the 10 s heartbeat timeout.
    expect(jm.recorder.of('unreachable')[0]!.at - closedAt).toBeLessThan(10 * INTERVAL + 100);
    expect(jm.recorder.of('timeout')).toEqual([]);
    expect(jm.recorder.violations).toEqual([]);
  });

  it('fire nothing on a terminated endpoint, even if its manager was never stopped', async () => {
    await startPair(new HeartbeatServices(INTERVAL, TIMEOUT), false);
    await until(() => tm.recorder.of('payload').length >= 3, 5_000);
    await tm.closeAsync();
    const eventsAtClose = tm.recorder.events.length;

    await sleep(2 * TIMEOUT); // the job master's requests now fail; the task executor's timeout would have fired
    expect(tm.recorder.events.slice(eventsAtClose)).toEqual([]);
    tm.heartbeats.stop();
  });

  it('stop nothing else when one side stops its manager: the other side times it out', async () => {
    await startPair(new HeartbeatServices(INTERVAL, TIMEOUT));
    await until(() => tm.recorder.of('payload').length >= 3, 5_000);
    jm.runAsync(() => jm.heartbeats.stop());
    await until(() => tm.recorder.of('timeout').length > 0, 5_000);
    expect(tm.recorder.of('timeout').map((e) => e.id)).toEqual(['jm']);
    const jmEvents = jm.recorder.events.length;
    await sleep(2 * INTERVAL);
    expect(jm.recorder.events.length).toBe(jmEvents);
    expect(tm.recorder.violations).toEqual([]);
  });
});
