/**
 * Compile-time specification of `gateway(...)`: `npm test` type-checks this file, and every `@ts-expect-error`
 * below must be an error (tsc fails on an unused one), so a descriptor that does not match its interface cannot
 * compile.
 */

import { type FencedRpcGateway, gateway, RpcEndpoint, type RpcGateway } from '../../src/index.js';

interface Sample extends RpcGateway {
  ask(name: string): Promise<string>;
  tell(event: string): void;
  timed(value: string, timeoutMs: number): Promise<string>;
}

// The correct table compiles.
export const Sample = gateway<Sample>('Sample', { ask: 'ask', tell: 'tell', timed: { timeoutArg: 1 } });

// A missing method is an error.
// @ts-expect-error timed is missing
gateway<Sample>('Missing', { ask: 'ask', tell: 'tell' });

// A method that is not in the interface is an error.
// @ts-expect-error extra is not a method of Sample
gateway<Sample>('Extra', { ask: 'ask', tell: 'tell', timed: 'ask', extra: 'ask' });

// A Promise-returning method cannot be a tell.
// @ts-expect-error ask returns a Promise
gateway<Sample>('AskAsTell', { ask: 'tell', tell: 'tell', timed: 'ask' });

// A void method cannot be an ask.
// @ts-expect-error tell returns void
gateway<Sample>('TellAsAsk', { ask: 'ask', tell: 'ask', timed: 'ask' });

// timeoutArg must point at a number argument.
// @ts-expect-error argument 0 of timed is a string
gateway<Sample>('BadTimeoutArg', { ask: 'ask', tell: 'tell', timed: { timeoutArg: 0 } });

// A synchronous non-void result cannot be an RPC in JavaScript.
interface Sync extends RpcGateway {
  compute(): number;
}
// @ts-expect-error compute returns a plain number
gateway<Sync>('Sync', { compute: 'ask' });

// getAddress / getHostname / getFencingToken belong to every gateway and are never listed.
interface Fenced extends FencedRpcGateway<string> {
  act(): Promise<void>;
}
gateway<Fenced>('Fenced', { act: 'ask' });
// @ts-expect-error getFencingToken is answered by the proxy
gateway<Fenced>('FencedWithBase', { act: 'ask', getFencingToken: 'ask' });

// A gateway extending another lists only its own methods and names the parent interface.
interface Child extends Sample {
  own(): Promise<number>;
}
gateway<Child, Sample>('Child', { own: 'ask' }, { extends: [Sample] });
// @ts-expect-error without naming the parent, the inherited methods would have to be listed
gateway<Child>('ChildWithoutParent', { own: 'ask' }, { extends: [Sample] });

// Local-only methods (Flink's @Local).
gateway<Sample>('LocalOnly', { ask: { local: true }, tell: { kind: 'tell', local: true }, timed: 'ask' });

// Lifecycle hooks may be synchronous (as Flink's onStart) or async.
export class SyncHooks extends RpcEndpoint {
  protected override onStart(): void {}
  protected override onStop(): void {}
}
export class AsyncHooks extends RpcEndpoint {
  protected override async onStart(): Promise<void> {}
  protected override async onStop(): Promise<void> {}
}

// signalArg must point at an AbortSignal argument (optional or not).
interface Fetching extends RpcGateway {
  fetch(id: string, signal?: AbortSignal): Promise<string>;
  fetchRequired(signal: AbortSignal, timeoutMs: number): Promise<string>;
  notify(event: string): void;
}
gateway<Fetching>('Fetching', {
  fetch: { signalArg: 1 },
  fetchRequired: { signalArg: 0, timeoutArg: 1 },
  notify: 'tell',
});
// @ts-expect-error argument 0 of fetch is a string
gateway<Fetching>('FetchingBadIndex', { fetch: { signalArg: 0 }, fetchRequired: 'ask', notify: 'tell' });
// @ts-expect-error fetch has no argument 2
gateway<Fetching>('FetchingOutOfRange', { fetch: { signalArg: 2 }, fetchRequired: 'ask', notify: 'tell' });
// @ts-expect-error argument 1 of fetchRequired is a number
gateway<Fetching>('FetchingNumber', { fetch: 'ask', fetchRequired: { signalArg: 1 }, notify: 'tell' });
// @ts-expect-error a tell cannot be cancelled
gateway<Fetching>('FetchingTell', { fetch: 'ask', fetchRequired: 'ask', notify: { kind: 'tell', signalArg: 0 } });
interface Untyped extends RpcGateway {
  loose(value: unknown): Promise<void>;
}
// @ts-expect-error an unknown argument is not known to be an AbortSignal
gateway<Untyped>('Untyped', { loose: { signalArg: 0 } });
