export { JobLeaderIdService } from './JobLeaderIdService.js';
export { ResourceManager, type ResourceManagerOptions } from './ResourceManager.js';
export { ResourceManagerService } from './ResourceManagerService.js';
export { type SlotCounts, SlotManager, type SlotManagerOptions } from './SlotManager.js';
