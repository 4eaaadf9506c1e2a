/**
 * `npm run demo`: a small Flink on flink-rpc, as real processes — the same demo as `flink-rpc demo` (see
 * src/cli/commands/demo.ts), with the dashboard on a free port. Options pass through, e.g.
 * `npm run demo -- --records 6000 --keep-running`.
 */

import { runCliAsProcess } from '../src/cli/runAsProcess.js';

await runCliAsProcess(['demo', '--rest-port', '0', ...process.argv.slice(2)]);
