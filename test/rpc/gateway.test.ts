import { describe, expect, it } from 'vitest';
import { gateway, type RpcGateway } from '../../src/index.js';

interface Any extends RpcGateway {
  [method: string]: unknown;
}

describe('gateway descriptors at run time', () => {
  it('records each method with its kind, timeout argument and local flag, and inherits parents', () => {
    interface Parent extends RpcGateway {
      ping(): Promise<void>;
    }
    const Parent = gateway<Parent>('Parent', { ping: 'ask' });
    interface Child extends Parent {
      ask(t: number): Promise<void>;
      fire(): void;
      mine(): Promise<void>;
    }
    const Child = gateway<Child, Parent>(
      'Child',
      { ask: { timeoutArg: 0 }, fire: 'tell', mine: { local: true } },
      { extends: [Parent] },
    );
    expect(Child.name).toBe('Child');
    expect([...Child.methods.keys()].sort()).toEqual(['ask', 'fire', 'mine', 'ping']);
    expect(Child.methods.get('ask')).toMatchObject({ kind: 'ask', timeoutArg: 0, local: false });
    expect(Child.methods.get('fire')).toMatchObject({ kind: 'tell', local: false });
    expect(Child.methods.get('mine')).toMatchObject({ kind: 'ask', local: true });
    expect(Child.methods.get('ping')).toMatchObject({ gateway: 'Parent', qualifiedName: 'Parent.ping' });
    expect(Child.isSubtypeOf(Parent)).toBe(true);
    expect(Parent.isSubtypeOf(Child)).toBe(false);
  });

  it('refuses names that would expose framework internals or private members', () => {
    for (const name of ['closeAsync', 'onStop', 'constructor', '__proto__', 'then', '_secret', 'getFencingToken']) {
      expect(() => gateway<Any>('Bad', { [name]: 'ask' } as never)).toThrow(/cannot be an RPC method/);
    }
  });

  it('refuses malformed declarations with a message naming the gateway and method', () => {
    expect(() => gateway<Any>('G', { m: 'maybe' } as never)).toThrow(/G: method 'm'/);
    expect(() => gateway<Any>('G', { m: { kind: 'tell', timeoutArg: 0 } } as never)).toThrow(/timeoutArg/);
    expect(() => gateway<Any>('G', { m: { timeoutArg: -1 } } as never)).toThrow(/argument index/);
    expect(() => gateway<Any>('bad name', {} as never)).toThrow(/Invalid gateway name/);
    const P = gateway<Any>('P', { m: 'ask' } as never);
    expect(() => gateway<Any>('C', { m: 'ask' } as never, { extends: [P] })).toThrow(/already declared by P/);
  });

  it('records a signalArg and refuses one that cannot be an argument index, on a tell, or on the timeout', () => {
    interface Fetching extends RpcGateway {
      fetch(id: string, signal?: AbortSignal): Promise<string>;
    }
    const Fetching = gateway<Fetching>('Fetching', { fetch: { signalArg: 1 } });
    expect(Fetching.methods.get('fetch')).toMatchObject({ kind: 'ask', signalArg: 1, timeoutArg: undefined });
    expect(() => gateway<Any>('G', { m: { kind: 'tell', signalArg: 0 } } as never)).toThrow(
      /G: tell method 'm' cannot have a signalArg/,
    );
    for (const bad of [-1, 1.5, '1', 256, Number.NaN]) {
      expect(() => gateway<Any>('G', { m: { signalArg: bad } } as never)).toThrow(
        /G: signalArg of 'm' must be an argument index/,
      );
    }
    expect(() => gateway<Any>('G', { m: { signalArg: 1, timeoutArg: 1 } } as never)).toThrow(/name the same argument/);
  });
});
