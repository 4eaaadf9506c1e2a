/** Configuration with Flink's key names: files, flags, typed options and the settings the components take. */

export {
  type CommandLine,
  type CommandLineOptions,
  Configuration,
  IllegalConfigurationException,
  loadConfiguration,
  parseCommandLine,
} from './Configuration.js';
export { ClusterOptions, type ConfigOption, describeDefault, type OptionType } from './options.js';
export {
  type CheckpointingSettings,
  checkpointingSettings,
  type HeartbeatSettings,
  type HighAvailabilitySettings,
  heartbeatSettings,
  highAvailabilitySettings,
  type RegistrationSettings,
  registrationSettings,
  restartStrategySettings,
} from './settings.js';
export { formatDuration, parseBoolean, parseDuration, parseInteger, parseNumber } from './values.js';
export { ConfigurationFileException, parseFlinkYaml, type YamlEntry } from './yaml.js';
