/**
 * A Flink-style configuration: string values under dotted keys, read from a file and overridden by command-line
 * flags, with typed accessors that apply the defaults and name the key (and where its value came from) in every error.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ConfigOption, describeDefault, OPTIONS_BY_KEY } from './options.js';
import { parseBoolean, parseDuration, parseInteger, parseNumber } from './values.js';
import { ConfigurationFileException, parseFlinkYaml } from './yaml.js';

/** A value that cannot be used, or a mandatory one that is missing (Flink's IllegalConfigurationException). */
export class IllegalConfigurationException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IllegalConfigurationException';
  }
}

interface StoredValue {
  readonly value: string;
  /** Where it came from: `config.yaml:12`, `flag -Dkey=value`, `set()`. */
  readonly source: string;
}

/** Configuration values by key. Immutable accessors; `set` for programmatic overrides. */
export class Configuration {
  private readonly values = new Map<string, StoredValue>();

  /** Builds a configuration from plain values (numbers and booleans are turned into their text). */
  static fromObject(values: Record<string, string | number | boolean>, source = 'configuration'): Configuration {
    const configuration = new Configuration();
    for (const [key, value] of Object.entries(values)) configuration.set(key, String(value), source);
    return configuration;
  }

  /** Reads a Flink configuration file (`config.yaml` / `flink-conf.yaml` syntax). */
  static fromFile(path: string): Configuration {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigurationFileException(
        `Could not read the configuration file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      );
    }
    const configuration = new Configuration();
    for (const entry of parseFlinkYaml(text, path)) configuration.set(entry.key, entry.value, `${path}:${entry.line}`);
    return configuration;
  }

  /** Sets `key` (a deprecated key is stored under its current name). */
  set(key: string, value: string, source = 'set()'): this {
    const canonical = OPTIONS_BY_KEY.get(key)?.key ?? key;
    this.values.set(canonical, { value, source: canonical === key ? source : `${source} (deprecated key ${key})` });
    return this;
  }

  /** A copy with `other`'s values laid over this one's. */
  merge(other: Configuration): Configuration {
    const merged = new Configuration();
    for (const [key, stored] of this.values) merged.values.set(key, stored);
    for (const [key, stored] of other.values) merged.values.set(key, stored);
    return merged;
  }

  has(key: string): boolean {
    return this.values.has(OPTIONS_BY_KEY.get(key)?.key ?? key);
  }

  /** The raw text of `key`, if set. */
  getString(key: string): string | undefined {
    return this.values.get(OPTIONS_BY_KEY.get(key)?.key ?? key)?.value;
  }

  /** The typed value of `option`: the configured one, else its default (`undefined` when it has none). */
  get<T>(option: ConfigOption<T> & { readonly defaultValue: T }): T;
  get<T>(option: ConfigOption<T>): T | undefined;
  get<T>(option: ConfigOption<T>): T | undefined {
    const stored = this.values.get(option.key);
    if (stored === undefined) return option.defaultValue;
    return parseOption(option, stored);
  }

  /** The typed value of `option`; throws naming the key if it is neither configured nor has a default. */
  require<T>(option: ConfigOption<T>, why?: string): T {
    const value = this.get(option);
    if (value === undefined || value === '') {
      throw new IllegalConfigurationException(
        `Configuration is missing the mandatory parameter: ${option.key}${why === undefined ? '' : ` (${why})`}.`,
      );
    }
    return value as T;
  }

  /** Parses every known option that is set, so a bad value is reported at startup rather than when first used. */
  validate(): void {
    const problems: string[] = [];
    for (const [key, stored] of this.values) {
      const definition = OPTIONS_BY_KEY.get(key);
      if (definition === undefined) continue;
      try {
        parseOption(definition, stored);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    if (problems.length > 0) throw new IllegalConfigurationException(problems.join('\n'));
  }

  /** Keys that are set but that no option of the control plane reads (likely typos: worth a warning). */
  unknownKeys(): string[] {
    return [...this.values.keys()].filter((key) => !OPTIONS_BY_KEY.has(key)).sort();
  }

  /** Every set key and its text, sorted by key (for `GET /config` and logs). */
  toMap(): Record<string, string> {
    return Object.fromEntries(
      [...this.values.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.value]),
    );
  }

  /** Where the value of `key` came from, if set. */
  sourceOf(key: string): string | undefined {
    return this.values.get(OPTIONS_BY_KEY.get(key)?.key ?? key)?.source;
  }
}

function parseOption<T>(option: ConfigOption<T>, stored: StoredValue): T {
  let value: unknown;
  try {
    switch (option.type) {
      case 'string':
        value = stored.value;
        if (option.choices !== undefined) {
          const lower = stored.value.trim().toLowerCase();
          if (!option.choices.includes(lower)) throw new Error(`must be one of ${option.choices.join(', ')}.`);
          value = lower;
        }
        break;
      case 'integer':
        value = parseInteger(stored.value);
        break;
      case 'number':
        value = parseNumber(stored.value);
        break;
      case 'duration':
        value = parseDuration(stored.value);
        break;
      case 'boolean':
        value = parseBoolean(stored.value);
        break;
    }
    const problem = option.check?.(value as T);
    if (problem !== undefined) throw new Error(`${problem}.`);
  } catch (error) {
    throw new IllegalConfigurationException(
      `Invalid value ${JSON.stringify(stored.value)} for '${option.key}' (from ${stored.source}): ${(error as Error).message} ` +
        `Default: ${describeDefault(option as ConfigOption)}.`,
    );
  }
  return value as T;
}

/** What {@link parseCommandLine} found. */
export interface CommandLine {
  /** The configuration file given with `--config`/`-c` (or found in `--configDir`/`$FLINK_CONF_DIR`). */
  readonly configFile: string | undefined;
  /** The `-Dkey=value`, `--key value` and alias flags, as a configuration. */
  readonly overrides: Configuration;
  /** Arguments that are not options (e.g. the job file of `run`). */
  readonly positional: string[];
  /** Bare flags named in `options.booleanFlags` that were given (e.g. `help`). */
  readonly flags: ReadonlySet<string>;
}

/** Options of {@link parseCommandLine}. */
export interface CommandLineOptions {
  /** Short names for keys, e.g. `{ slots: 'taskmanager.numberOfTaskSlots' }` for `--slots 4`. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Flags that take no value, e.g. `['help']`. */
  readonly booleanFlags?: readonly string[];
  /** Where `$FLINK_CONF_DIR` is read from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Parses command-line arguments: `-Dkey=value` / `-D key=value` (Flink's dynamic properties), `--key value` /
 * `--key=value` for any dotted key or alias, `--config FILE` / `-c FILE`, `--configDir DIR` (its `config.yaml`, else
 * `flink-conf.yaml`; `$FLINK_CONF_DIR` when no file is given). Throws {@link IllegalConfigurationException} for
 * an unknown flag or a flag without its value.
 */
export function parseCommandLine(argv: readonly string[], options: CommandLineOptions = {}): CommandLine {
  const overrides = new Configuration();
  const positional: string[] = [];
  const flags = new Set<string>();
  const aliases = options.aliases ?? {};
  const booleanFlags = new Set(options.booleanFlags ?? []);
  let configFile: string | undefined;
  let configDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const takeValue = (name: string): string => {
      const value = argv[i + 1];
      if (value === undefined) throw new IllegalConfigurationException(`The option ${name} needs a value.`);
      i++;
      return value;
    };
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('-D')) {
      const assignment = arg === '-D' ? takeValue('-D') : arg.slice(2);
      const equals = assignment.indexOf('=');
      if (equals <= 0) throw new IllegalConfigurationException(`Expected -Dkey=value, got ${JSON.stringify(arg)}.`);
      overrides.set(assignment.slice(0, equals), assignment.slice(equals + 1), `flag -D${assignment}`);
    } else if (arg === '-c' || arg === '--config') {
      configFile = takeValue(arg);
    } else if (arg === '--configDir') {
      configDir = takeValue(arg);
    } else if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      if (name === 'config' || name === 'configDir') {
        const value = arg.slice(equals + 1);
        if (name === 'config') configFile = value;
        else configDir = value;
        continue;
      }
      if (booleanFlags.has(name) && equals < 0) {
        flags.add(name);
        continue;
      }
      const key = aliases[name] ?? (name.includes('.') ? name : undefined);
      if (key === undefined) {
        const known = [...Object.keys(aliases), ...booleanFlags].map((flag) => `--${flag}`);
        throw new IllegalConfigurationException(
          `Unknown option --${name}${known.length > 0 ? ` (known: ${known.join(', ')}, or --<config key> value)` : ''}.`,
        );
      }
      const value = equals < 0 ? takeValue(`--${name}`) : arg.slice(equals + 1);
      overrides.set(key, value, `flag --${name}`);
    } else {
      positional.push(arg);
    }
  }
  configDir ??= configFile === undefined ? (options.env ?? process.env).FLINK_CONF_DIR : undefined;
  if (configFile === undefined && configDir !== undefined) configFile = findConfigFile(configDir);
  return { configFile, overrides, positional, flags };
}

/** `config.yaml` (Flink 2.x) or `flink-conf.yaml` (Flink 1.x) in `directory`. */
function findConfigFile(directory: string): string {
  for (const name of ['config.yaml', 'flink-conf.yaml']) {
    const candidate = join(directory, name);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new IllegalConfigurationException(
    `No config.yaml or flink-conf.yaml in the configuration directory ${directory}.`,
  );
}

/**
 * The configuration of a process: the file (if any) with the flags laid over it, validated. Throws
 * {@link IllegalConfigurationException} or {@link ConfigurationFileException} with a readable message.
 */
export function loadConfiguration(
  argv: readonly string[],
  options: CommandLineOptions = {},
): {
  configuration: Configuration;
  commandLine: CommandLine;
} {
  const commandLine = parseCommandLine(argv, options);
  const base =
    commandLine.configFile === undefined ? new Configuration() : Configuration.fromFile(commandLine.configFile);
  const configuration = base.merge(commandLine.overrides);
  configuration.validate();
  return { configuration, commandLine };
}
