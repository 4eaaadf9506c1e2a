export { startTaskManager, type TaskManagerHandle, type TaskManagerOptions } from './startTaskManager.js';
export { FINAL_LOCAL_CHECKPOINT_ID, Task, type TaskActions, TaskCancelledException, type TaskOptions } from './Task.js';
export { TaskExecutor, type TaskExecutorOptions } from './TaskExecutor.js';
export { type TaskSlot, type TaskSlotState, TaskSlotTable } from './TaskSlotTable.js';
