/** The commands that start cluster processes (filled in once the control plane's process mains exist). */

import { CliError, type CliIo } from '../output.js';

export async function miniclusterCommand(_options: unknown, _io: CliIo, _signal: AbortSignal): Promise<number> {
  throw new CliError('minicluster is not available in this build yet.');
}
export async function jobmanagerCommand(_options: unknown, _io: CliIo, _signal: AbortSignal): Promise<number> {
  throw new CliError('jobmanager is not available in this build yet.');
}
export async function taskmanagerCommand(_options: unknown, _io: CliIo, _signal: AbortSignal): Promise<number> {
  throw new CliError('taskmanager is not available in this build yet.');
}
export async function demoCommand(_io: CliIo, _signal: AbortSignal): Promise<number> {
  throw new CliError('demo is not available in this build yet.');
}
