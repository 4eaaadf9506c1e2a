/** Entry of the `flink-rpc` command: runs the CLI on the process arguments and exits with its code. */

import { runCli } from './main.js';

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

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, controller.signal);
process.exitCode = code;
// Long-running commands closed their services; nothing else should keep the process, but a stray handle must not.
setTimeout(() => process.exit(code), 2_000).unref();
