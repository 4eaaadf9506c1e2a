/** Runs the CLI as the whole process: Ctrl-C (SIGINT) and SIGTERM stop the command, and its code is the exit code. */

import { runCli } from './main.js';

/**
 * Runs `argv` (without node and script) as this process's command: the first SIGINT or SIGTERM aborts it (it stops
 * what it started), a second one exits at once. Sets the exit code and exits shortly after the command returned.
 */
export async function runCliAsProcess(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupts += 1;
      // A second Ctrl-C leaves at once, whatever is still shutting down.
      if (interrupts > 1) process.exit(130);
      controller.abort();
    });
  }
  const code = await runCli(argv, { stdout: process.stdout, stderr: process.stderr }, controller.signal);
  process.exitCode = code;
  // Long-running commands closed their services; nothing else should keep the process, but a stray handle must not.
  setTimeout(() => process.exit(code), 2_000).unref();
}
