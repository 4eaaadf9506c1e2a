/** Gateways and endpoints shared by the core specifications. */

import {
  FencedRpcEndpoint,
  type FencedRpcGateway,
  gateway,
  RpcEndpoint,
  type RpcGateway,
  type RpcService,
  RpcSystem,
} from '../../src/index.js';

export interface HelloGateway extends RpcGateway {
  hello(name: string): Promise<string>;
  notify(event: string): void;
  slowEcho(value: string, timeoutMs: number): Promise<string>;
}
export const HelloGateway = gateway<HelloGateway>('HelloGateway', {
  hello: 'ask',
  notify: 'tell',
  slowEcho: { timeoutArg: 1 },
});

export interface OtherGateway extends RpcGateway {
  other(): Promise<number>;
}
export const OtherGateway = gateway<OtherGateway>('OtherGateway', { other: 'ask' });

/** Records everything it is asked, and lets a test control the pace of `slowEcho`. */
export class HelloEndpoint extends RpcEndpoint implements HelloGateway {
  static readonly gateways = [HelloGateway];
  readonly events: string[] = [];
  readonly log: string[] = [];
  inMainThread: boolean[] = [];
  release: (() => void) | undefined;

  async hello(name: string): Promise<string> {
    this.inMainThread.push(this.isMainThreadNow());
    this.log.push(`hello ${name}`);
    return `hello ${name}`;
  }

  notify(event: string): void {
    this.inMainThread.push(this.isMainThreadNow());
    this.events.push(event);
  }

  slowEcho(value: string): Promise<string> {
    return new Promise((resolve) => {
      this.release = () => resolve(value);
    });
  }

  isMainThreadNow(): boolean {
    try {
      this.validateRunsInMainThread();
      return true;
    } catch {
      return false;
    }
  }
}

export interface TokenGateway extends FencedRpcGateway<string> {
  whoAmI(): Promise<string>;
  poke(tag: string): void;
}
export const TokenGateway = gateway<TokenGateway>('TokenGateway', { whoAmI: 'ask', poke: 'tell' });

export class TokenEndpoint extends FencedRpcEndpoint<string> implements TokenGateway {
  static readonly gateways = [TokenGateway];
  readonly pokes: string[] = [];
  async whoAmI(): Promise<string> {
    return `leader ${this.getFencingToken()}`;
  }
  poke(tag: string): void {
    this.pokes.push(tag);
  }
}

/** A started local service, closed by the returned function. */
export async function localService(config = {}): Promise<RpcService> {
  return RpcSystem.load().localServiceBuilder(config).createAndStart();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition` holds, polling; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(2);
  }
}

export type { RpcService };
