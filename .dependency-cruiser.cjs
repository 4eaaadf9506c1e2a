/**
 * Layer rules for flink-rpc, checked by `npm run lint`.
 *
 * The layers, lowest first: the core API (src/rpc), the value codec (src/codec), the actor runtime (src/rpc/actor),
 * the transport (src/transport), then ha, heartbeat, testing and cluster. A layer imports only layers below it; the
 * codec needs nothing but the core's error classes; no module takes part in an import cycle, type-only imports
 * included (they still tie two files together for a reader).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles (type-only ones included) make a layer impossible to read on its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'The core API (src/rpc) finds the runtime through RpcSystem.load(), never by importing it.',
      from: { path: '^src/rpc/[^/]+$' },
      to: { path: '^src/', pathNot: '^src/rpc/[^/]+$' },
    },
    {
      name: 'codec-imports-only-the-error-classes',
      severity: 'error',
      comment: 'The value codec stands beside the runtime and needs nothing but the core error classes.',
      from: { path: '^src/codec/' },
      to: { path: '^src/', pathNot: ['^src/codec/', '^src/rpc/errors\\.ts$'] },
    },
    {
      name: 'runtime-never-imports-transport',
      severity: 'error',
      comment: 'The actor runtime knows the transport only through the Transport interface it installs itself by.',
      from: { path: '^src/rpc/actor/' },
      to: { path: '^src/', pathNot: ['^src/rpc/'] },
    },
    {
      name: 'transport-imports-only-lower-layers',
      severity: 'error',
      from: { path: '^src/transport/' },
      to: { path: '^src/', pathNot: ['^src/transport/', '^src/rpc/', '^src/codec/'] },
    },
    {
      name: 'lower-layers-never-import-upper-ones',
      severity: 'error',
      comment: 'rpc, codec and transport never import ha, heartbeat, testing, cluster or the package entry point.',
      from: { path: '^src/(rpc|codec|transport)/' },
      to: { path: '^src/(ha|heartbeat|testing|cluster)/|^src/index\\.ts$' },
    },
    {
      name: 'ha-and-heartbeat-use-the-public-core-only',
      severity: 'error',
      from: { path: '^src/(ha|heartbeat)/' },
      to: { path: '^src/(rpc/actor|transport|codec|testing|cluster)/' },
    },
    {
      name: 'cluster-uses-public-entry-points',
      severity: 'error',
      comment: 'The control plane is built on the public API: the package, ha and heartbeat entry points.',
      from: { path: '^src/cluster/' },
      to: {
        path: '^src/',
        pathNot: ['^src/cluster/', '^src/index\\.ts$', '^src/ha/index\\.ts$', '^src/heartbeat/index\\.ts$'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
