/**
 * `flink-rpc`: the command line of the cluster (Flink's `flink` and `*-daemon.sh` scripts in one). Client commands
 * talk to a JobManager's REST API; process commands start a JobManager, a TaskManager or a whole MiniCluster.
 *
 * Exit codes: 0 success (the job FINISHED), 1 the job failed or was cancelled, or an error, 2 wrong usage.
 */

import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { DemoOptions } from './commands/demo.js';
import { cancelJob, listJobs, runJob } from './commands/jobs.js';
import { CliError, type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './output.js';
import { ClusterUnreachableError, RestApiError, RestClient, restUrlOf } from './RestClient.js';

const DEFAULT_JOBMANAGER = 'localhost:8081';

/** Parses `argv` (without node and script) and runs the command; resolves with the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(argv, io, signal, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function buildProgram(
  argv: readonly string[],
  io: CliIo,
  signal: AbortSignal,
  setExitCode: (code: number) => void,
): Command {
  const program = new Command('flink-rpc')
    .description("Run and operate a small Flink cluster built on flink-rpc (Flink's CLI, REST API and dashboard).")
    .version(packageVersion(), '-V, --version', 'print the flink-rpc version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  const jobmanagerOption = () =>
    new Option('-m, --jobmanager <host:port>', 'REST address of the JobManager')
      .env('FLINK_REST_ADDRESS')
      .default(DEFAULT_JOBMANAGER);
  const client = (options: { jobmanager: string }): RestClient => {
    try {
      return new RestClient(restUrlOf(options.jobmanager));
    } catch (error) {
      throw new CliError((error as Error).message, EXIT_USAGE);
    }
  };

  program
    .command('run')
    .description('Submit a job graph (JSON) and follow it: tasks by state, checkpoints, restarts, records committed.')
    .argument('<job.json>', 'the job graph file')
    .addOption(jobmanagerOption())
    .option('-d, --detached', 'print the job id and return at once', false)
    .option('--interval <ms>', 'how often the progress is refreshed', positiveInteger, 1_000)
    .option(
      '--unavailable-timeout <ms>',
      'give up after the JobManager is unreachable this long',
      positiveInteger,
      120_000,
    )
    .exitOverride()
    .action(
      async (
        file: string,
        options: { jobmanager: string; detached: boolean; interval: number; unavailableTimeout: number },
      ) => {
        setExitCode(
          await runJob(
            client(options),
            file,
            {
              detached: options.detached,
              intervalMs: options.interval,
              unavailableTimeoutMs: options.unavailableTimeout,
            },
            io,
            signal,
          ),
        );
      },
    );

  program
    .command('list')
    .description('List the jobs of the cluster (running ones; --all for every job).')
    .addOption(jobmanagerOption())
    .option('-a, --all', 'include finished, cancelled and failed jobs', false)
    .option('--json', "print Flink's /jobs/overview JSON", false)
    .exitOverride()
    .action(async (options: { jobmanager: string; all: boolean; json: boolean }) => {
      setExitCode(await listJobs(client(options), options, io));
    });

  program
    .command('cancel')
    .description('Cancel a job.')
    .argument('<jobId>', 'the id printed by run or list')
    .addOption(jobmanagerOption())
    .exitOverride()
    .action(async (jobId: string, options: { jobmanager: string }) => {
      setExitCode(await cancelJob(client(options), jobId, io));
    });

  addProcessCommands(program, argv, io, signal, setExitCode);
  return program;
}

/** The commands that start processes (imported lazily: the client commands stay quick to start). */
function addProcessCommands(
  program: Command,
  argv: readonly string[],
  io: CliIo,
  signal: AbortSignal,
  setExitCode: (code: number) => void,
): void {
  const load = () => import('./commands/processes.js');
  const flinkFlags = (examples: string) => `
Configuration (Flink's key names, e.g. jobmanager.rpc.address, jobmanager.rpc.port, high-availability.type,
high-availability.zookeeper.quorum, heartbeat.interval, heartbeat.timeout, rest.port, web.refresh-interval):
  -c, --config <file>       a configuration file (YAML: key: value); or --configDir <dir> / $FLINK_CONF_DIR
  -D<key>=<value>           one configuration value (repeatable)
  --<key> <value>           the same, e.g. --heartbeat.timeout 5000

Examples:
${examples}`;

  program
    .command('jobmanager')
    .description(
      'Start a JobManager process (Dispatcher, ResourceManager, JobMasters, REST API and dashboard) until Ctrl-C.',
    )
    .usage('[options] [-D<key>=<value> ...]')
    .option('--rest-port <port>', 'REST and dashboard port (rest.port, default 8081)')
    .option('--rest-address <address>', 'REST bind address (rest.bind-address, default 127.0.0.1)')
    .addHelpText(
      'after',
      flinkFlags(
        '  flink-rpc jobmanager -Djobmanager.rpc.port=6123 --rest-port 8081\n  flink-rpc jobmanager -c conf/config.yaml',
      ),
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      setExitCode(await (await load()).jobmanagerCommand(rawArgs(argv, command, 'jobmanager'), io, signal));
    });

  program
    .command('taskmanager')
    .description("Start a TaskManager process that registers at the cluster's ResourceManager, until Ctrl-C.")
    .usage('[options] [-D<key>=<value> ...]')
    .option('--slots <n>', 'task slots (taskmanager.numberOfTaskSlots, default 1)')
    .option('--resource-id <id>', 'the TaskManager id (taskmanager.resource-id, default a random one)')
    .addHelpText(
      'after',
      flinkFlags('  flink-rpc taskmanager --slots 2 -Djobmanager.rpc.address=localhost -Djobmanager.rpc.port=6123'),
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .exitOverride()
    .action(async (_options: unknown, command: Command) => {
      setExitCode(await (await load()).taskmanagerCommand(rawArgs(argv, command, 'taskmanager'), io, signal));
    });

  program
    .command('minicluster')
    .description(
      'Start a whole cluster in this process (JobManager, TaskManagers, REST API and dashboard) until Ctrl-C.',
    )
    .option('-t, --taskmanagers <n>', 'number of TaskManagers', positiveInteger, 2)
    .option('-s, --slots <n>', 'task slots per TaskManager (taskmanager.numberOfTaskSlots)', positiveInteger)
    .option('-p, --rest-port <port>', 'REST and dashboard port (rest.port, default 8081)', port)
    .option('--rest-address <address>', 'REST bind address (rest.bind-address, default 127.0.0.1)')
    .option('-c, --config <file>', 'a configuration file with Flink key names (YAML: key: value)')
    .option('-D, --define <key=value>', "a configuration value with Flink's key names (repeatable)", collectDefine, {})
    .exitOverride()
    .action(async (options: MiniClusterFlags) => {
      setExitCode(await (await load()).miniclusterCommand(options, io, signal));
    });

  program
    .command('demo')
    .description(
      'Run the demo: a JobManager and TaskManagers as processes, an exactly-once job, a TaskManager SIGKILLed ' +
        'half-way, the failover, and a check that every record was committed exactly once.',
    )
    .option('-t, --taskmanagers <n>', 'number of TaskManager processes', positiveInteger, 3)
    .option('-s, --slots <n>', 'task slots per TaskManager', positiveInteger, 2)
    .option('--records <n>', 'records the job writes', positiveInteger, 24_000)
    .option('-p, --rest-port <port>', 'REST and dashboard port (0 picks a free one)', port, 8081)
    .option('--keep-running', 'keep the cluster (and its dashboard) up after the job, until Ctrl-C', false)
    .exitOverride()
    .action(async (options: DemoOptions) => {
      const { demoCommand } = await import('./commands/demo.js');
      setExitCode(await demoCommand(options, io, signal));
    });
}

interface MiniClusterFlags {
  taskmanagers: number;
  slots?: number;
  restPort?: number;
  restAddress?: string;
  config?: string;
  define: Record<string, string>;
}

/** The arguments after the command name, untouched: the process commands parse Flink-style flags themselves. */
function rawArgs(argv: readonly string[], command: Command, name: string): string[] {
  const at = argv.indexOf(name);
  return at < 0 ? [...command.args] : argv.slice(at + 1);
}

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer.');
  return parsed;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new InvalidArgumentError('expected a port (0-65535).');
  return parsed;
}

function collectDefine(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got '${value}'.`);
  return { ...previous, [value.slice(0, at).trim()]: value.slice(at + 1).trim() };
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Help and version are not errors; commander already printed the message of a usage error.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      return EXIT_OK;
    }
    return EXIT_USAGE;
  }
  if (error instanceof CliError) {
    io.stderr.write(`error: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ClusterUnreachableError) {
    io.stderr.write(`error: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  if (error instanceof RestApiError) {
    const what =
      error.status === 503 ? 'the JobManager has no Dispatcher leader right now' : 'the JobManager refused the request';
    io.stderr.write(`error: ${what} (HTTP ${error.status}): ${error.message}\n`);
    return EXIT_FAILURE;
  }
  io.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT_FAILURE;
}
