/** Gateways and endpoints of the remote specifications (used in-process and by the peer fixture process). */

import { gateway, RpcEndpoint, type RpcGateway, type RpcService } from '../../src/index.js';

export interface ValueGateway extends RpcGateway {
  /** Returns its argument as received. */
  echo(value: unknown): Promise<unknown>;
  /** Returns all its arguments as received. */
  echoAll(...values: unknown[]): Promise<unknown[]>;
  /** Returns `undefined` (no value). */
  nothing(): Promise<undefined>;
  /** Returns `null`. */
  nullValue(): Promise<null>;
  /** Throws (synchronously) an error with a cause chain. */
  fail(message: string): Promise<never>;
  /** Rejects later with a custom error. */
  failLater(message: string): Promise<never>;
  /** Throws an error the codec cannot carry as is: `'field'` (a function field) or `'getter'` (a throwing getter). */
  failWeird(kind: string): Promise<never>;
  /** A buffer of `size` bytes. */
  bytes(size: number): Promise<Buffer>;
  /** Returns a value that cannot be serialized (a function). */
  unserializable(): Promise<unknown>;
  /** Waits until released (or `ms`), then answers. */
  wait(ms: number): Promise<string>;
  /** Releases every pending `wait`; returns how many there were. */
  releaseAll(): Promise<number>;
  /** Waits like `wait`, or until `signal` aborts (then rejects with its reason). */
  cancellable(ms: number, signal?: AbortSignal): Promise<string>;
  /** Fire-and-forget: remembered in order. */
  record(tag: string): void;
  /** The tags recorded so far. */
  recorded(): Promise<string[]>;
}
export const ValueGateway = gateway<ValueGateway>('ValueGateway', {
  echo: 'ask',
  echoAll: 'ask',
  nothing: 'ask',
  nullValue: 'ask',
  fail: 'ask',
  failLater: 'ask',
  failWeird: 'ask',
  bytes: 'ask',
  unserializable: 'ask',
  wait: 'ask',
  releaseAll: 'ask',
  cancellable: { signalArg: 1 },
  record: 'tell',
  recorded: 'ask',
});

/** Declared by no endpoint. */
export interface UnservedGateway extends RpcGateway {
  secret(): Promise<string>;
}
export const UnservedGateway = gateway<UnservedGateway>('UnservedGateway', { secret: 'ask' });

/** A parent gateway: remote calls of inherited methods work. */
export interface BaseGateway extends RpcGateway {
  ping(): Promise<string>;
}
export const BaseGateway = gateway<BaseGateway>('BaseGateway', { ping: 'ask' });
export interface DerivedGateway extends BaseGateway {
  derived(): Promise<string>;
  localOnly(): Promise<string>;
}
export const DerivedGateway = gateway<DerivedGateway, BaseGateway>(
  'DerivedGateway',
  { derived: 'ask', localOnly: { local: true } },
  { extends: [BaseGateway] },
);

export class CustomError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export class ValueEndpoint extends RpcEndpoint implements ValueGateway, DerivedGateway {
  static readonly gateways = [ValueGateway, DerivedGateway];
  readonly tags: string[] = [];
  private readonly waiting = new Set<() => void>();
  /** Public but undeclared: must never be callable remotely. */
  secretCalls = 0;

  constructor(service: RpcService, id = 'values') {
    super(service, id);
  }

  async echo(value: unknown): Promise<unknown> {
    return value;
  }
  async echoAll(...values: unknown[]): Promise<unknown[]> {
    return values;
  }
  async nothing(): Promise<undefined> {
    return undefined;
  }
  async nullValue(): Promise<null> {
    return null;
  }
  fail(message: string): Promise<never> {
    throw new RangeError(message, { cause: new TypeError('the root cause', { cause: 'a string cause' }) });
  }
  async failLater(message: string): Promise<never> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const error = new CustomError(message, 42);
    throw error;
  }
  async failWeird(kind: string): Promise<never> {
    const error = new TypeError('weird failure', { cause: new Error('inner') }) as TypeError & Record<string, unknown>;
    if (kind === 'field') error.callback = () => 1;
    else
      Object.defineProperty(error, 'message', {
        enumerable: true,
        get() {
          throw new Error('no message for you');
        },
      });
    throw error;
  }
  async bytes(size: number): Promise<Buffer> {
    return Buffer.alloc(size, 7);
  }
  async unserializable(): Promise<unknown> {
    return { fn: () => 1 };
  }
  wait(ms: number): Promise<string> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiting.delete(done);
        resolve('done');
      };
      this.waiting.add(done);
      if (ms > 0) setTimeout(done, ms);
    });
  }
  /** Set by onStop (which a remote peer must never reach). */
  stopped = false;
  protected override async onStop(): Promise<void> {
    this.stopped = true;
  }
  release(): void {
    for (const done of [...this.waiting]) done();
  }
  /** Calls of `cancellable` whose signal was aborted, and those still listening to their signal. */
  aborts = 0;
  signalListeners = 0;
  /** The reason of the last abort seen by `cancellable`. */
  lastAbortReason: unknown;
  cancellable(ms: number, signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.aborts++;
        this.lastAbortReason = signal!.reason;
        finish();
        reject(signal!.reason);
      };
      const finish = (): void => {
        this.waiting.delete(done);
        if (signal !== undefined) {
          signal.removeEventListener('abort', onAbort);
          this.signalListeners--;
        }
      };
      const done = (): void => {
        finish();
        resolve('done');
      };
      if (signal?.aborted) {
        this.aborts++;
        reject(signal.reason);
        return;
      }
      if (signal !== undefined) {
        signal.addEventListener('abort', onAbort);
        this.signalListeners++;
      }
      this.waiting.add(done);
      if (ms > 0) setTimeout(done, ms);
    });
  }
  /** Asks waiting in `wait`. */
  get waitingCount(): number {
    return this.waiting.size;
  }
  async releaseAll(): Promise<number> {
    const count = this.waiting.size;
    this.release();
    return count;
  }
  record(tag: string): void {
    this.tags.push(tag);
  }
  async recorded(): Promise<string[]> {
    return [...this.tags];
  }
  async ping(): Promise<string> {
    return 'pong';
  }
  async derived(): Promise<string> {
    return 'derived';
  }
  async localOnly(): Promise<string> {
    return 'local';
  }
  async secret(): Promise<string> {
    this.secretCalls++;
    return 'secret';
  }
}
