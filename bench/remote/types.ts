/**
 * Shared types of the remote benchmark: the contract every system adapter implements, and the result rows.
 *
 * A system is two modules under `bench/remote/<system>/`:
 * - `server.ts` — an entry point run as its own process (see `serverMain` in `server-support.ts`): it starts a
 *   server on 127.0.0.1 and announces a {@link ServerInfo} line on stdout;
 * - `client.ts` — exports `connect: ConnectFn`, imported by the client process (`client-main.ts`).
 */

/** The small structured payload echoed by the `echo` workload and sent by `tell`. */
export interface Payload {
  id: number;
  name: string;
  tags: string[];
  nested: { ok: boolean; score: number; values: number[] };
}

/** What a server announces on stdout (one JSON line) once it accepts connections. */
export interface ServerInfo {
  /** TCP port on 127.0.0.1. */
  port: number;
  /** System-specific address, e.g. flink-rpc's `rpc.tcp://…/endpointId`; the port is enough for the others. */
  address?: string;
  /** The server's process id (added by `serverMain`), to measure its CPU time. */
  pid?: number;
}

/** One connected client of a system under test. All methods travel over the network to the server process. */
export interface BenchClient {
  /** Ask: returns the payload as the server received it. */
  echo(payload: Payload): Promise<Payload>;
  /** Fire-and-forget: the server counts it; nothing comes back. */
  tell(payload: Payload): void;
  /**
   * Resolves when the client may send more tells: once its write buffer has drained where the system exposes
   * backpressure, else on the next macrotask (so that queued writes can go out before the next burst).
   */
  writable(): Promise<void>;
  /**
   * Ask: the number of tells the server has received so far, counting every tell this client sent before the call
   * (the client must order it after them).
   */
  count(): Promise<number>;
  /** Ask: returns the bytes as the server received them. */
  echoBuffer(data: Buffer): Promise<Buffer>;
  /** Closes connections so that the process can exit. */
  close(): Promise<void>;
}

/** The export `connect` of `bench/remote/<system>/client.ts`. */
export type ConnectFn = (server: ServerInfo) => Promise<BenchClient>;

export type Workload = 'echo' | 'tell' | 'echo-1MiB' | 'echo-8MiB';

/** One row of the result table (and of `bench/results/latest.json`). */
export interface Result {
  /** System id: `raw`, `grpc`, `birpc`, `flink`. */
  system: string;
  workload: Workload;
  /** Calls in flight (1 for tells and buffer echoes, which are sequential or a stream). */
  concurrency: number;
  status: 'ok' | 'error' | 'unavailable';
  /** The round (0-based) of an interleaved run this measurement belongs to. */
  round?: number;
  /** Why a row is `error` or `unavailable`. */
  error?: string;
  /** Calls (or tells) completed in the measured window. */
  ops?: number;
  /** Measured window in milliseconds. */
  durationMs?: number;
  opsPerSec?: number;
  /** Buffer echoes: payload megabytes (2^20) echoed per second, counted once (not request + reply). */
  mbPerSec?: number;
  /** Latency of one call in microseconds (asks only). */
  p50Us?: number;
  p99Us?: number;
  /** CPU time of client + server per call (or tell) in the measured window, µs (see `cpu.ts`). */
  cpuUsPerOp?: number;
  clientCpuUsPerOp?: number;
  serverCpuUsPerOp?: number;
  /** This row's throughput divided by the raw baseline's for the same workload and concurrency. */
  ratioToRaw?: number;
  /** This row's p50 divided by raw's p50 (lower is better). */
  p50RatioToRaw?: number;
  /** This row's CPU µs per op divided by raw's (lower is better). */
  cpuRatioToRaw?: number;
}

/** Durations of one run. */
export interface BenchTiming {
  /** Warm-up before each measured window (ms). */
  warmupMs: number;
  /** Measured window of the echo and tell workloads (ms). */
  measureMs: number;
  /** Measured window of each large-buffer workload (ms); at least `minBufferIterations` calls are made. */
  bufferMeasureMs: number;
  minBufferIterations: number;
}

/**
 * Windows of one measurement. They are short because each row is measured once per round, several rounds per run,
 * the systems taking turns: many short windows side by side resist a noisy machine better than one long one each.
 */
export const FULL_TIMING: BenchTiming = {
  warmupMs: 150,
  measureMs: 400,
  bufferMeasureMs: 300,
  minBufferIterations: 3,
};
export const QUICK_TIMING: BenchTiming = {
  warmupMs: 100,
  measureMs: 200,
  bufferMeasureMs: 150,
  minBufferIterations: 2,
};

/** Rounds of a full and of a quick run. */
export const FULL_ROUNDS = 7;
export const QUICK_ROUNDS = 3;

/** Concurrency levels of the echo workload (closed loop: one call per slot). */
export const ECHO_CONCURRENCY = [1, 16, 256] as const;
