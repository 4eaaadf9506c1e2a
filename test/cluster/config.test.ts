import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClusterOptions,
  Configuration,
  checkpointingSettings,
  heartbeatSettings,
  highAvailabilitySettings,
  IllegalConfigurationException,
  loadConfiguration,
  parseCommandLine,
  parseDuration,
  parseFlinkYaml,
  registrationSettings,
  restartStrategySettings,
} from '../../src/cluster/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'flink-rpc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('durations', () => {
  it.each([
    ['10 s', 10_000],
    ['10s', 10_000],
    ['500 ms', 500],
    ['500', 500],
    ['1 min', 60_000],
    ['2m', 120_000],
    ['1 h', 3_600_000],
    ['1 d', 86_400_000],
    ['3 seconds', 3_000],
    ['1 MIN', 60_000],
    ['1500 us', 2],
    ['1 ns', 1],
    [' 7 ms ', 7],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'ten s', '1.5 s', '-1 s', '10 parsecs', '1 s 2 ms'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration|time unit/);
  });
});

describe('the YAML subset of Flink configuration files', () => {
  it('reads flat keys, nested maps (Flink 2.x), comments and quotes', () => {
    const entries = parseFlinkYaml(
      [
        '# a comment',
        'jobmanager.rpc.address: jm-host   # trailing comment',
        'rest:',
        '  port: 8082',
        '  address: "0.0.0.0"',
        'high-availability:',
        '  type: zookeeper',
        '  zookeeper:',
        "    quorum: 'zk1:2181,zk2:2181'",
        '    path.root: /flink#1',
        'env.java.opts: [a, b]',
        'empty:',
        '',
      ].join('\n'),
    );
    expect(Object.fromEntries(entries.map((e) => [e.key, e.value]))).toEqual({
      'jobmanager.rpc.address': 'jm-host',
      'rest.port': '8082',
      'rest.address': '0.0.0.0',
      'high-availability.type': 'zookeeper',
      'high-availability.zookeeper.quorum': 'zk1:2181,zk2:2181',
      'high-availability.zookeeper.path.root': '/flink#1',
      'env.java.opts': '[a, b]',
      empty: '',
    });
    expect(entries.find((e) => e.key === 'rest.port')?.line).toBe(4);
  });

  it('refuses what it does not support, naming the file and line', () => {
    expect(() => parseFlinkYaml('a: 1\nnot a key value\n', 'conf.yaml')).toThrow(
      'conf.yaml:2: expected "key: value", got "not a key value"',
    );
    expect(() => parseFlinkYaml('list:\n  - a\n', 'c')).toThrow('c:2: block lists are not supported');
    expect(() => parseFlinkYaml('  a: 1\n', 'c')).toThrow('c:1: unexpected indentation');
    expect(() => parseFlinkYaml('a:\n    b: 1\n  c: 2\n', 'c')).toThrow('c:3: inconsistent indentation');
    expect(() => parseFlinkYaml('a: "open\n', 'c')).toThrow('c:1: unterminated quoted string');
    expect(() => parseFlinkYaml('a: &anchor 1\n', 'c')).toThrow(/anchors/);
  });
});

describe('Configuration', () => {
  it('applies Flink defaults and typed values', () => {
    const configuration = Configuration.fromObject({ 'heartbeat.interval': '2 s', 'rest.port': 9000 });
    expect(configuration.get(ClusterOptions.heartbeatInterval)).toBe(2_000);
    expect(configuration.get(ClusterOptions.heartbeatTimeout)).toBe(50_000);
    expect(configuration.get(ClusterOptions.restPort)).toBe(9000);
    expect(configuration.get(ClusterOptions.jobManagerRpcPort)).toBe(6123);
    expect(configuration.get(ClusterOptions.numberOfTaskSlots)).toBe(1);
    expect(configuration.get(ClusterOptions.slotRequestTimeout)).toBe(300_000);
    expect(configuration.get(ClusterOptions.checkpointingInterval)).toBeUndefined();
  });

  it('accepts deprecated keys under their current name', () => {
    const configuration = Configuration.fromObject({
      'state.checkpoints.num-retained': 3,
      'restart-strategy': 'fixeddelay',
    });
    expect(configuration.get(ClusterOptions.checkpointsNumRetained)).toBe(3);
    expect(configuration.getString('execution.checkpointing.num-retained')).toBe('3');
    expect(restartStrategySettings(configuration)).toEqual({ type: 'fixed-delay', attempts: 1, delay: 1_000 });
  });

  it('names the key, the value, its source and the default when a value is bad', () => {
    const path = file('bad.yaml', 'taskmanager.numberOfTaskSlots: 4\nheartbeat.timeout: soon\n');
    const configuration = Configuration.fromFile(path);
    expect(() => configuration.get(ClusterOptions.heartbeatTimeout)).toThrow(IllegalConfigurationException);
    expect(() => configuration.get(ClusterOptions.heartbeatTimeout)).toThrow(
      `Invalid value "soon" for 'heartbeat.timeout' (from ${path}:2): "soon" is not a duration: use a whole number and a unit, such as "10 s" or "500 ms". Default: 50 s.`,
    );
    expect(() => Configuration.fromObject({ 'taskmanager.numberOfTaskSlots': 0 }).validate()).toThrow(
      /'taskmanager.numberOfTaskSlots' \(from configuration\): must be at least 1\. Default: 1\./,
    );
    expect(() => Configuration.fromObject({ 'high-availability.type': 'kubernetes' }).validate()).toThrow(
      /'high-availability.type'.*must be one of none, embedded, standalone, zookeeper/,
    );
    expect(() => Configuration.fromObject({ 'rest.port': 70_000 }).validate()).toThrow(/must be a port number/);
  });

  it('reports keys nobody reads', () => {
    expect(Configuration.fromObject({ 'rest.prot': 1, 'rest.port': 2 }).unknownKeys()).toEqual(['rest.prot']);
  });

  it('says which mandatory parameter is missing', () => {
    expect(() => highAvailabilitySettings(Configuration.fromObject({ 'high-availability.type': 'ZooKeeper' }))).toThrow(
      'Configuration is missing the mandatory parameter: high-availability.zookeeper.quorum (high-availability.type is zookeeper).',
    );
  });
});

describe('command line', () => {
  it('lays -D, --key value, --key=value and aliases over the file, and keeps positional arguments', () => {
    const path = file('config.yaml', 'rest.port: 8081\ntaskmanager.numberOfTaskSlots: 2\nheartbeat.interval: 1 s\n');
    const { configuration, commandLine } = loadConfiguration(
      [
        'run',
        '--config',
        path,
        '-Drest.port=9999',
        '--slots',
        '8',
        '--heartbeat.timeout=3 s',
        '-D',
        'a.b=c',
        'job.json',
        '--help',
      ],
      { aliases: { slots: 'taskmanager.numberOfTaskSlots' }, booleanFlags: ['help'] },
    );
    expect(commandLine.positional).toEqual(['run', 'job.json']);
    expect(commandLine.flags.has('help')).toBe(true);
    expect(configuration.get(ClusterOptions.restPort)).toBe(9999);
    expect(configuration.get(ClusterOptions.numberOfTaskSlots)).toBe(8);
    expect(heartbeatSettings(configuration)).toEqual({ interval: 1_000, timeout: 3_000, rpcFailureThreshold: 2 });
    expect(configuration.getString('a.b')).toBe('c');
    expect(configuration.sourceOf('rest.port')).toBe('flag -Drest.port=9999');
  });

  it('finds config.yaml in --configDir or $FLINK_CONF_DIR', () => {
    const confDir = mkdtempSync(join(dir, 'conf-'));
    writeFileSync(join(confDir, 'flink-conf.yaml'), 'rest.port: 1234\n');
    expect(parseCommandLine(['--configDir', confDir]).configFile).toBe(join(confDir, 'flink-conf.yaml'));
    expect(parseCommandLine([], { env: { FLINK_CONF_DIR: confDir } }).configFile).toBe(
      join(confDir, 'flink-conf.yaml'),
    );
    expect(() => parseCommandLine(['--configDir', mkdtempSync(join(dir, 'empty-'))])).toThrow(
      /No config.yaml or flink-conf.yaml/,
    );
  });

  it('refuses unknown flags, flags without values and a missing file', () => {
    expect(() => parseCommandLine(['--slots', '2'])).toThrow(/Unknown option --slots/);
    expect(() => parseCommandLine(['--rest.port'])).toThrow('The option --rest.port needs a value.');
    expect(() => parseCommandLine(['-Dnovalue'])).toThrow(/Expected -Dkey=value/);
    expect(() => loadConfiguration(['-c', join(dir, 'missing.yaml')])).toThrow(
      /Could not read the configuration file .*ENOENT/,
    );
    expect(() => loadConfiguration(['-Dheartbeat.interval=fast'])).toThrow(
      /'heartbeat.interval' \(from flag -Dheartbeat.interval=fast\)/,
    );
  });
});

describe('derived settings', () => {
  it('checks that the heartbeat timeout is at least the interval', () => {
    expect(() =>
      heartbeatSettings(Configuration.fromObject({ 'heartbeat.interval': '10 s', 'heartbeat.timeout': '5 s' })),
    ).toThrow(
      /heartbeat.timeout = 5000 ms\) must be at least the heartbeat interval \(heartbeat.interval = 10000 ms\)/,
    );
  });

  it('gives registration settings with Flink defaults', () => {
    expect(registrationSettings(new Configuration())).toEqual({
      initialRegistrationTimeout: 100,
      maxRegistrationTimeout: 30_000,
      errorDelay: 10_000,
      refusedRegistrationDelay: 30_000,
    });
  });

  it('builds restart strategies from restart-strategy.*', () => {
    expect(restartStrategySettings(new Configuration())).toBeUndefined();
    expect(restartStrategySettings(Configuration.fromObject({ 'restart-strategy.type': 'off' }))).toEqual({
      type: 'none',
    });
    expect(
      restartStrategySettings(
        Configuration.fromObject({
          'restart-strategy.type': 'exponential-delay',
          'restart-strategy.exponential-delay.initial-backoff': '10 ms',
          'restart-strategy.exponential-delay.attempts-before-reset-backoff': 4,
        }),
      ),
    ).toEqual({
      type: 'exponential-delay',
      initialBackoff: 10,
      maxBackoff: 60_000,
      backoffMultiplier: 1.5,
      resetBackoffThreshold: 3_600_000,
      jitterFactor: 0.1,
      attempts: 4,
    });
  });

  it('gives checkpointing and HA settings', () => {
    expect(checkpointingSettings(Configuration.fromObject({ 'execution.checkpointing.interval': '200 ms' }))).toEqual({
      interval: 200,
      timeout: 600_000,
      numRetained: 1,
      dir: undefined,
    });
    expect(highAvailabilitySettings(new Configuration())).toEqual({
      type: 'standalone',
      jobManagerAddress: '127.0.0.1',
      jobManagerPort: 6123,
    });
    expect(
      highAvailabilitySettings(
        Configuration.fromObject({
          'high-availability.type': 'zookeeper',
          'high-availability.zookeeper.quorum': '127.0.0.1:2181',
          'high-availability.storageDir': '/tmp/ha',
        }),
      ),
    ).toEqual({
      type: 'zookeeper',
      connectString: '127.0.0.1:2181',
      rootPath: '/flink',
      clusterId: 'default',
      sessionTimeout: 60_000,
      connectionTimeout: 15_000,
      storageDir: '/tmp/ha',
    });
  });
});
