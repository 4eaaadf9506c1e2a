/** Checks of what peers send the ResourceManager: RPC arguments are untrusted input. */

import type { ResourceRequirements, SlotReport, TaskExecutorRegistration } from '../types.js';

const MAX_SLOTS = 100_000;

function nonEmptyString(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new TypeError(`${what} must be a non-empty string.`);
  }
}

export function validateTaskExecutorRegistration(registration: TaskExecutorRegistration): void {
  if (registration === null || typeof registration !== 'object') {
    throw new TypeError('A TaskExecutor registration must be an object.');
  }
  nonEmptyString(registration.taskExecutorAddress, 'taskExecutorAddress');
  nonEmptyString(registration.resourceId, 'resourceId');
  if (typeof registration.hostname !== 'string') throw new TypeError('hostname must be a string.');
  const slots = registration.numberOfSlots;
  if (!Number.isSafeInteger(slots) || slots < 0 || slots > MAX_SLOTS) {
    throw new TypeError(`numberOfSlots must be an integer from 0 to ${MAX_SLOTS}, was ${slots}.`);
  }
}

export function validateSlotReport(report: SlotReport | undefined, resourceId: string): void {
  if (report === null || typeof report !== 'object' || !Array.isArray(report.slots)) {
    throw new TypeError('A slot report must be an object with a slots array.');
  }
  if (report.slots.length > MAX_SLOTS) throw new TypeError('A slot report lists too many slots.');
  const numbers = new Set<number>();
  for (const status of report.slots) {
    const slotId = status?.slotId;
    if (slotId === null || typeof slotId !== 'object' || slotId.resourceId !== resourceId) {
      throw new TypeError(`A slot report of ${resourceId} lists a slot of another TaskExecutor.`);
    }
    if (!Number.isSafeInteger(slotId.slotNumber) || slotId.slotNumber < 0 || numbers.has(slotId.slotNumber)) {
      throw new TypeError('A slot report lists an invalid or duplicate slot number.');
    }
    numbers.add(slotId.slotNumber);
    if (status.allocationId !== undefined) nonEmptyString(status.allocationId, 'allocationId');
    if (status.jobId !== undefined) nonEmptyString(status.jobId, 'jobId');
  }
}

export function validateRequirements(requirements: ResourceRequirements): void {
  if (requirements === null || typeof requirements !== 'object') {
    throw new TypeError('Resource requirements must be an object.');
  }
  nonEmptyString(requirements.jobId, 'jobId');
  nonEmptyString(requirements.jobMasterAddress, 'jobMasterAddress');
  const n = requirements.numberOfRequiredSlots;
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SLOTS) {
    throw new TypeError(`numberOfRequiredSlots must be an integer from 0 to ${MAX_SLOTS}, was ${n}.`);
  }
}
