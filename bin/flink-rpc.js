#!/usr/bin/env node
// Launcher of the `flink-rpc` command: the compiled CLI when the package is built or installed, otherwise (a source
// checkout without a build) the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/index.js', import.meta.url);
const source = new URL('../src/cli/index.ts', import.meta.url);

if (existsSync(fileURLToPath(compiled)) && process.env.FLINK_RPC_CLI_FROM_SOURCE !== '1') {
  await import(compiled.href);
} else if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  process.stderr.write('flink-rpc: neither dist/cli/index.js nor src/cli/index.ts found; run `npm run build`.\n');
  process.exit(1);
}
