/**
 * The slots of a TaskExecutor (Flink's TaskSlotTable): each slot is free, allocated to a job (by the ResourceManager)
 * or active (the job's JobMaster accepted it), and holds the tasks deployed into it.
 */

import type { AllocationId, ExecutionAttemptId, JobId, ResourceId, SlotReport } from '../types.js';
import type { Task } from './Task.js';

export type TaskSlotState = 'free' | 'allocated' | 'active';

export interface TaskSlot {
  readonly index: number;
  state: TaskSlotState;
  jobId: JobId | undefined;
  allocationId: AllocationId | undefined;
  readonly tasks: Map<ExecutionAttemptId, Task>;
}

export class TaskSlotTable {
  private readonly slots: TaskSlot[];
  private readonly byAllocation = new Map<AllocationId, TaskSlot>();
  private readonly tasks = new Map<ExecutionAttemptId, Task>();

  constructor(
    readonly resourceId: ResourceId,
    readonly numberOfSlots: number,
  ) {
    this.slots = Array.from({ length: numberOfSlots }, (_, index) => ({
      index,
      state: 'free' as TaskSlotState,
      jobId: undefined,
      allocationId: undefined,
      tasks: new Map(),
    }));
  }

  isValidIndex(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.numberOfSlots;
  }

  getSlot(index: number): TaskSlot | undefined {
    return this.slots[index];
  }

  getSlotByAllocation(allocationId: AllocationId): TaskSlot | undefined {
    return this.byAllocation.get(allocationId);
  }

  /** Allocates a free slot; true if it was free (or is already allocated to exactly this allocation). */
  allocateSlot(index: number, jobId: JobId, allocationId: AllocationId): boolean {
    const slot = this.slots[index];
    if (slot === undefined) return false;
    if (slot.state !== 'free') return slot.allocationId === allocationId && slot.jobId === jobId;
    if (this.byAllocation.has(allocationId)) return false;
    slot.state = 'allocated';
    slot.jobId = jobId;
    slot.allocationId = allocationId;
    this.byAllocation.set(allocationId, slot);
    return true;
  }

  /** Marks the slot of `allocationId` active for `jobId`; false if it is not allocated to that job. */
  markSlotActive(jobId: JobId, allocationId: AllocationId): boolean {
    const slot = this.byAllocation.get(allocationId);
    if (slot === undefined || slot.jobId !== jobId) return false;
    slot.state = 'active';
    return true;
  }

  /** Back to allocated (e.g. the job's leader changed: it is offered again). */
  markSlotInactive(allocationId: AllocationId): boolean {
    const slot = this.byAllocation.get(allocationId);
    if (slot === undefined) return false;
    slot.state = 'allocated';
    return true;
  }

  /** Frees the slot; returns it (with the tasks it still had) or undefined for an unknown allocation. */
  freeSlot(allocationId: AllocationId): { slot: TaskSlot; tasks: Task[] } | undefined {
    const slot = this.byAllocation.get(allocationId);
    if (slot === undefined) return undefined;
    const tasks = [...slot.tasks.values()];
    for (const task of tasks) this.tasks.delete(task.executionAttemptId);
    slot.tasks.clear();
    this.byAllocation.delete(allocationId);
    slot.state = 'free';
    slot.jobId = undefined;
    slot.allocationId = undefined;
    return { slot, tasks };
  }

  addTask(task: Task): boolean {
    const slot = this.byAllocation.get(task.allocationId);
    if (slot === undefined || slot.state !== 'active' || slot.jobId !== task.jobId) return false;
    if (this.tasks.has(task.executionAttemptId)) return false;
    slot.tasks.set(task.executionAttemptId, task);
    this.tasks.set(task.executionAttemptId, task);
    return true;
  }

  removeTask(executionAttemptId: ExecutionAttemptId): Task | undefined {
    const task = this.tasks.get(executionAttemptId);
    if (task === undefined) return undefined;
    this.tasks.delete(executionAttemptId);
    this.byAllocation.get(task.allocationId)?.tasks.delete(executionAttemptId);
    return task;
  }

  getTask(executionAttemptId: ExecutionAttemptId): Task | undefined {
    return this.tasks.get(executionAttemptId);
  }

  getTasks(jobId?: JobId): Task[] {
    const all = [...this.tasks.values()];
    return jobId === undefined ? all : all.filter((task) => task.jobId === jobId);
  }

  getSlotsOfJob(jobId: JobId): TaskSlot[] {
    return this.slots.filter((slot) => slot.state !== 'free' && slot.jobId === jobId);
  }

  getJobs(): JobId[] {
    const jobs = new Set<JobId>();
    for (const slot of this.slots) if (slot.jobId !== undefined) jobs.add(slot.jobId);
    return [...jobs];
  }

  hasSlotsOfJob(jobId: JobId): boolean {
    return this.slots.some((slot) => slot.state !== 'free' && slot.jobId === jobId);
  }

  freeSlots(): number {
    return this.slots.filter((slot) => slot.state === 'free').length;
  }

  createSlotReport(): SlotReport {
    return {
      slots: this.slots.map((slot) => ({
        slotId: { resourceId: this.resourceId, slotNumber: slot.index },
        ...(slot.allocationId === undefined ? {} : { allocationId: slot.allocationId, jobId: slot.jobId }),
      })),
    };
  }
}
