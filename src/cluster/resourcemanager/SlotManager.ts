/**
 * The ResourceManager's declarative slot manager (Flink's FineGrainedSlotManager reduced to one slot profile): jobs
 * declare how many slots they need, the manager matches the declarations to free slots of registered TaskExecutors
 * and asks those TaskExecutors to allocate them (`requestSlot`). Slot reports of the TaskExecutors are the truth
 * about which slots are allocated and free.
 *
 * Everything runs in the owning ResourceManager's main thread.
 */

import type { Logger, MainThreadExecutor, ScheduledTask } from '../../index.js';
import type { TaskExecutorGateway } from '../gateways.js';
import type {
  AllocationId,
  InstanceId,
  JobId,
  ResourceId,
  ResourceManagerId,
  ResourceRequirements,
  SlotId,
  SlotReport,
} from '../types.js';

type SlotState = 'free' | 'pending' | 'allocated';

interface ManagedSlot {
  readonly slotId: SlotId;
  state: SlotState;
  jobId: JobId | undefined;
  allocationId: AllocationId | undefined;
}

interface ManagedTaskManager {
  readonly resourceId: ResourceId;
  readonly instanceId: InstanceId;
  readonly gateway: TaskExecutorGateway;
  readonly slots: Map<number, ManagedSlot>;
}

interface JobRequirement {
  readonly jobMasterAddress: string;
  numberOfRequiredSlots: number;
}

export interface SlotManagerOptions {
  readonly mainThread: MainThreadExecutor;
  readonly resourceManagerId: ResourceManagerId;
  readonly logger: Logger;
  /** Timeout of one `requestSlot` call. */
  readonly slotRequestTimeout: number;
  /** Pause before matching again after a `requestSlot` failed. */
  readonly retryDelay: number;
  /** Delay of a matching pass after a change (Flink's `slotmanager.requirement-check.delay`, default 50 ms). */
  readonly requirementCheckDelay?: number;
}

/** Slot counts for overviews. */
export interface SlotCounts {
  readonly registered: number;
  readonly free: number;
}

export class SlotManager {
  private readonly taskManagers = new Map<ResourceId, ManagedTaskManager>();
  private readonly requirements = new Map<JobId, JobRequirement>();
  private checkScheduled = false;
  private retryTimer: ScheduledTask<void> | undefined;
  private checkTimer: ScheduledTask<void> | undefined;
  private closed = false;

  constructor(private readonly options: SlotManagerOptions) {}

  /** A TaskExecutor's first slot report: its slots join the pool. Returns false if it was registered already. */
  registerTaskManager(
    resourceId: ResourceId,
    instanceId: InstanceId,
    gateway: TaskExecutorGateway,
    report: SlotReport,
  ): boolean {
    const existing = this.taskManagers.get(resourceId);
    if (existing !== undefined && existing.instanceId === instanceId) return false;
    if (existing !== undefined) this.unregisterTaskManager(resourceId);
    const taskManager: ManagedTaskManager = { resourceId, instanceId, gateway, slots: new Map() };
    this.taskManagers.set(resourceId, taskManager);
    this.applyReport(taskManager, report);
    this.scheduleCheck();
    return true;
  }

  /** Its slots leave the pool; allocations pending on it are given up (and retried elsewhere). */
  unregisterTaskManager(resourceId: ResourceId): void {
    if (this.taskManagers.delete(resourceId)) this.scheduleCheck();
  }

  isRegistered(resourceId: ResourceId): boolean {
    return this.taskManagers.has(resourceId);
  }

  /** A later slot report (or heartbeat payload). Returns false for an unknown instance. */
  reportSlotStatus(resourceId: ResourceId, instanceId: InstanceId, report: SlotReport): boolean {
    const taskManager = this.taskManagers.get(resourceId);
    if (taskManager === undefined || taskManager.instanceId !== instanceId) return false;
    // Most reports (heartbeats) change nothing: matching runs only when a slot changed.
    if (this.applyReport(taskManager, report)) this.scheduleCheck();
    return true;
  }

  /** The job's declaration replaces its previous one; 0 slots removes it. */
  processResourceRequirements(requirements: ResourceRequirements): void {
    const { jobId, numberOfRequiredSlots, jobMasterAddress } = requirements;
    if (numberOfRequiredSlots <= 0) {
      this.clearResourceRequirements(jobId);
      return;
    }
    this.requirements.set(jobId, { jobMasterAddress, numberOfRequiredSlots });
    this.releaseExcessPending(jobId, numberOfRequiredSlots);
    this.scheduleCheck();
  }

  /** Forgets the job's declaration; allocations still pending for it are given up. */
  clearResourceRequirements(jobId: JobId): void {
    this.requirements.delete(jobId);
    this.releaseExcessPending(jobId, 0);
  }

  counts(): SlotCounts {
    let registered = 0;
    let free = 0;
    for (const taskManager of this.taskManagers.values()) {
      for (const slot of taskManager.slots.values()) {
        registered += 1;
        if (slot.state === 'free') free += 1;
      }
    }
    return { registered, free };
  }

  /** The slots of one TaskExecutor: slot number and the job holding (or about to hold) it. */
  slotsOf(resourceId: ResourceId): { slotNumber: number; jobId?: JobId; free: boolean }[] {
    const taskManager = this.taskManagers.get(resourceId);
    if (taskManager === undefined) return [];
    return [...taskManager.slots.values()]
      .sort((a, b) => a.slotId.slotNumber - b.slotId.slotNumber)
      .map((slot) => ({
        slotNumber: slot.slotId.slotNumber,
        free: slot.state === 'free',
        ...(slot.jobId === undefined ? {} : { jobId: slot.jobId }),
      }));
  }

  /** Slots allocated or pending per job (for tests and overviews). */
  slotsOfJob(jobId: JobId): number {
    let count = 0;
    for (const taskManager of this.taskManagers.values()) {
      for (const slot of taskManager.slots.values()) if (slot.jobId === jobId && slot.state !== 'free') count += 1;
    }
    return count;
  }

  close(): void {
    this.closed = true;
    this.retryTimer?.cancel();
    this.checkTimer?.cancel();
    this.taskManagers.clear();
    this.requirements.clear();
  }

  /** Returns true if a slot changed (appeared, disappeared, was allocated or freed). */
  private applyReport(taskManager: ManagedTaskManager, report: SlotReport): boolean {
    let changed = false;
    const seen = new Set<number>();
    for (const status of report.slots) {
      const slotNumber = status.slotId.slotNumber;
      seen.add(slotNumber);
      let slot = taskManager.slots.get(slotNumber);
      if (slot === undefined) {
        slot = { slotId: { ...status.slotId }, state: 'free', jobId: undefined, allocationId: undefined };
        taskManager.slots.set(slotNumber, slot);
        changed = true;
      }
      if (status.allocationId !== undefined) {
        if (slot.state !== 'allocated' || slot.allocationId !== status.allocationId) changed = true;
        slot.state = 'allocated';
        slot.allocationId = status.allocationId;
        slot.jobId = status.jobId;
      } else if (slot.state === 'allocated') {
        // Freed on the TaskExecutor (the job released it or is gone).
        changed = true;
        slot.state = 'free';
        slot.allocationId = undefined;
        slot.jobId = undefined;
      }
      // A pending slot reported free: the request has not reached the TaskExecutor yet; keep waiting for its answer.
    }
    for (const slotNumber of [...taskManager.slots.keys()]) {
      if (!seen.has(slotNumber)) {
        taskManager.slots.delete(slotNumber);
        changed = true;
      }
    }
    return changed;
  }

  private releaseExcessPending(jobId: JobId, required: number): void {
    let held = this.slotsOfJob(jobId);
    if (held <= required) return;
    for (const taskManager of this.taskManagers.values()) {
      for (const slot of taskManager.slots.values()) {
        if (held <= required) return;
        if (slot.jobId === jobId && slot.state === 'pending') {
          // Its answer will be ignored; if the TaskExecutor allocated it anyway, the job master refuses the offer
          // and the TaskExecutor frees it, which its next slot report tells.
          slot.state = 'free';
          slot.jobId = undefined;
          slot.allocationId = undefined;
          held -= 1;
        }
      }
    }
  }

  /**
   * Matching runs a little later (Flink's `slotmanager.requirement-check.delay`): changes arriving together are
   * handled in one pass, and a slot that keeps bouncing (e.g. refused by a JobMaster) is not re-requested in a
   * tight loop.
   */
  private scheduleCheck(): void {
    if (this.checkScheduled || this.closed) return;
    this.checkScheduled = true;
    this.checkTimer = this.options.mainThread.schedule(() => {
      this.checkTimer = undefined;
      this.checkScheduled = false;
      this.checkResourceRequirements();
    }, this.options.requirementCheckDelay ?? 50);
  }

  /**
   * Matches every job's missing slots to free slots. Each slot goes to the TaskExecutor with the most free slots
   * left, which spreads a job over the cluster (as `cluster.evenly-spread-out-slots`).
   */
  private checkResourceRequirements(): void {
    if (this.closed || this.requirements.size === 0) return;
    const pools: { taskManager: ManagedTaskManager; free: ManagedSlot[] }[] = [];
    for (const taskManager of this.taskManagers.values()) {
      const free = [...taskManager.slots.values()]
        .filter((slot) => slot.state === 'free')
        .sort((a, b) => b.slotId.slotNumber - a.slotId.slotNumber);
      if (free.length > 0) pools.push({ taskManager, free });
    }
    const held = new Map<JobId, number>();
    for (const taskManager of this.taskManagers.values()) {
      for (const slot of taskManager.slots.values()) {
        if (slot.state !== 'free' && slot.jobId !== undefined) held.set(slot.jobId, (held.get(slot.jobId) ?? 0) + 1);
      }
    }
    for (const [jobId, requirement] of this.requirements) {
      let missing = requirement.numberOfRequiredSlots - (held.get(jobId) ?? 0);
      while (missing > 0) {
        let best: { taskManager: ManagedTaskManager; free: ManagedSlot[] } | undefined;
        for (const pool of pools) if (pool.free.length > (best?.free.length ?? 0)) best = pool;
        const slot = best?.free.pop();
        if (best === undefined || slot === undefined) return;
        this.allocate(best.taskManager, slot, jobId, requirement.jobMasterAddress);
        missing -= 1;
      }
    }
  }

  private allocate(taskManager: ManagedTaskManager, slot: ManagedSlot, jobId: JobId, jobMasterAddress: string): void {
    const allocationId = crypto.randomUUID();
    slot.state = 'pending';
    slot.jobId = jobId;
    slot.allocationId = allocationId;
    const { logger, mainThread, resourceManagerId, slotRequestTimeout } = this.options;
    logger.debug({ jobId, allocationId, slot: slot.slotId }, 'Requesting slot.');
    let request: Promise<void>;
    try {
      request = taskManager.gateway.requestSlot(
        slot.slotId,
        jobId,
        allocationId,
        jobMasterAddress,
        resourceManagerId,
        slotRequestTimeout,
      );
    } catch (error) {
      request = Promise.reject(error);
    }
    mainThread
      .thenApply(
        request,
        () => {
          const current = this.taskManagers.get(taskManager.resourceId)?.slots.get(slot.slotId.slotNumber);
          if (current?.state === 'pending' && current.allocationId === allocationId) current.state = 'allocated';
          // Otherwise the answer is late (the allocation was given up): ignored.
        },
        (error: unknown) => {
          const current = this.taskManagers.get(taskManager.resourceId)?.slots.get(slot.slotId.slotNumber);
          if (current?.state !== 'pending' || current.allocationId !== allocationId) return;
          logger.info({ err: error, jobId, slot: slot.slotId }, 'Slot request failed; retrying.');
          const occupied = error as { name?: string; allocationId?: unknown; jobId?: unknown };
          if (occupied?.name === 'SlotOccupiedException' && typeof occupied.allocationId === 'string') {
            current.state = 'allocated';
            current.allocationId = occupied.allocationId;
            current.jobId = typeof occupied.jobId === 'string' ? occupied.jobId : undefined;
          } else {
            current.state = 'free';
            current.allocationId = undefined;
            current.jobId = undefined;
          }
          this.scheduleRetry();
        },
      )
      .catch(() => {
        // The ResourceManager terminated meanwhile.
      });
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = this.options.mainThread.schedule(() => {
      this.retryTimer = undefined;
      this.scheduleCheck();
    }, this.options.retryDelay);
  }
}
