/** Entry of the `flink-rpc` command: runs the CLI on the process arguments and exits with its code. */

import { runCliAsProcess } from './runAsProcess.js';

await runCliAsProcess(process.argv.slice(2));
