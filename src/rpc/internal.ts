/** Symbols through which the runtime calls an endpoint's protected hooks; not part of the public API. */

/** Calls `onStart()` of an endpoint. */
export const kOnStart: unique symbol = Symbol('flink-rpc.onStart');
/** Calls `onStop()` of an endpoint. */
export const kOnStop: unique symbol = Symbol('flink-rpc.onStop');
