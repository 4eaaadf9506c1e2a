/** The JobManager's REST server and dashboard (Flink's REST API, paths and JSON names). */

export { RestHandlerException, toRestHandlerException } from './errors.js';
export { type RestServerHandle, type RestServerOptions, startRestServer } from './RestServer.js';
