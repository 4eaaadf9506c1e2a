/** User classes across services: registered ones arrive as instances of the same class; others fail at the caller. */

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RpcException, registerClass } from '../../src/index.js';
import { ValueEndpoint, ValueGateway } from './gateways.js';
import { assertNoLeaks, cleanup, remoteService } from './support.js';

afterEach(cleanup);
afterAll(assertNoLeaks);

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  length(): number {
    return Math.hypot(this.x, this.y);
  }
}
registerClass(Point);

class Money {
  readonly #cents: bigint;
  constructor(cents: bigint) {
    this.#cents = cents;
  }
  get cents(): bigint {
    return this.#cents;
  }
}
registerClass(Money, { name: 'Money', toData: (m) => m.cents, fromData: (cents) => new Money(cents as bigint) });

class NotRegistered {
  readonly field = 1;
}

describe('user classes over the network', () => {
  it('rebuilds registered classes on the other side, with their prototype and private state', async () => {
    const server = await remoteService();
    const client = await remoteService();
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const point = (await gw.echo(new Point(3, 4))) as Point;
    expect(point).toBeInstanceOf(Point);
    expect(point).not.toBe(endpoint);
    expect(point.length()).toBe(5);
    const money = (await gw.echo(new Money(1234n))) as Money;
    expect(money).toBeInstanceOf(Money);
    expect(money.cents).toBe(1234n);
  });

  it('fails the call at the caller, naming method and argument, for an unregistered class instance', async () => {
    const server = await remoteService();
    const client = await remoteService();
    const endpoint = new ValueEndpoint(server);
    endpoint.start();
    const gw = await client.connect(endpoint.getAddress(), ValueGateway);
    const error = await gw.echo({ nested: new NotRegistered() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcException);
    expect((error as Error).message).toMatch(/ValueGateway\.echo/);
    expect((error as Error).message).toMatch(/NotRegistered/);
    await expect(gw.echo('still usable')).resolves.toBe('still usable');
  });
});
