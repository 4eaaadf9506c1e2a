/**
 * The slots one job holds (Flink's declarative slot pool, reduced to one resource profile): slots offered by
 * TaskExecutors are accepted up to what the job needs, assigned to execution attempts, and released when their
 * TaskExecutor goes or the job ends.
 */

import type { AllocationId, ExecutionAttemptId, ResourceId, SlotOffer } from '../types.js';

/** A slot the job holds. */
export interface PooledSlot {
  readonly allocationId: AllocationId;
  readonly resourceId: ResourceId;
  readonly slotIndex: number;
  /** The execution attempt deployed into it, if any. */
  assignedTo: ExecutionAttemptId | undefined;
}

export class SlotPool {
  private readonly slots = new Map<AllocationId, PooledSlot>();

  get size(): number {
    return this.slots.size;
  }

  /**
   * Accepts the offers of `resourceId` while the pool holds fewer than `required` slots; offers it accepted before
   * are accepted again (an offer re-sent after a timeout). Malformed offers are refused.
   */
  offer(resourceId: ResourceId, offers: readonly SlotOffer[], required: number): SlotOffer[] {
    const accepted: SlotOffer[] = [];
    for (const offer of offers) {
      if (typeof offer?.allocationId !== 'string' || !Number.isInteger(offer.slotIndex)) continue;
      const known = this.slots.get(offer.allocationId);
      if (known !== undefined) {
        if (known.resourceId === resourceId) accepted.push(offer);
        continue;
      }
      if (this.slots.size >= required) continue;
      this.slots.set(offer.allocationId, {
        allocationId: offer.allocationId,
        resourceId,
        slotIndex: offer.slotIndex,
        assignedTo: undefined,
      });
      accepted.push(offer);
    }
    return accepted;
  }

  /** Slots assigned to nobody whose TaskExecutor passes `usable`. */
  freeSlots(usable: (resourceId: ResourceId) => boolean): PooledSlot[] {
    return [...this.slots.values()].filter((slot) => slot.assignedTo === undefined && usable(slot.resourceId));
  }

  /** The slot is free again once `attemptId` left it. */
  release(allocationId: AllocationId, attemptId: ExecutionAttemptId): void {
    const slot = this.slots.get(allocationId);
    if (slot !== undefined && slot.assignedTo === attemptId) slot.assignedTo = undefined;
  }

  /** Every slot is free again (a restart deploys new attempts). */
  releaseAll(): void {
    for (const slot of this.slots.values()) slot.assignedTo = undefined;
  }

  allocationsOn(resourceId: ResourceId): AllocationId[] {
    const allocations: AllocationId[] = [];
    for (const slot of this.slots.values()) if (slot.resourceId === resourceId) allocations.push(slot.allocationId);
    return allocations;
  }

  /** Forgets the slots of a TaskExecutor that is gone. */
  removeTaskManager(resourceId: ResourceId): void {
    for (const [allocationId, slot] of this.slots) if (slot.resourceId === resourceId) this.slots.delete(allocationId);
  }

  /** Empties the pool, returning what it held (to free them at their TaskExecutors). */
  drain(): PooledSlot[] {
    const all = [...this.slots.values()];
    this.slots.clear();
    return all;
  }
}
