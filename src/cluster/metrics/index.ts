/** Prometheus metrics of the cluster, with Flink's metric names. */

export { ClusterMetrics, PROMETHEUS_CONTENT_TYPE } from './ClusterMetrics.js';
