import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { gateway, RpcEndpoint, RpcException, type RpcGateway, RpcTimeoutException } from '../../src/index.js';
import type { ActorRpcService } from '../../src/rpc/actor/ActorRpcService.js';
import type { EndpointServer } from '../../src/rpc/actor/EndpointServer.js';
import { sleep, useLocalService } from '../fixtures/hello.js';

interface FetchGateway extends RpcGateway {
  fetch(id: string, signal?: AbortSignal): Promise<string>;
  fetchWithin(id: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<string>;
}
const FetchGateway = gateway<FetchGateway>('CancellableFetchGateway', {
  fetch: { signalArg: 1 },
  fetchWithin: { signalArg: 1, timeoutArg: 2 },
});

/** Answers when told to, or fails with the signal's reason when its signal is aborted (as a well-behaved method). */
class FetchEndpoint extends RpcEndpoint implements FetchGateway {
  static readonly gateways = [FetchGateway];
  readonly started: string[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];
  readonly answers = new Map<string, (value: string) => void>();
  honourSignal = true;

  fetch(id: string, signal?: AbortSignal): Promise<string> {
    this.started.push(id);
    this.signals.push(signal);
    return new Promise<string>((resolve, reject) => {
      this.answers.set(id, (value) => {
        this.answers.delete(id);
        resolve(value);
      });
      if (this.honourSignal) {
        signal?.addEventListener(
          'abort',
          () => {
            this.answers.delete(id);
            reject(signal.reason);
          },
          { once: true },
        );
      }
    });
  }

  fetchWithin(id: string, signal: AbortSignal | undefined): Promise<string> {
    return this.fetch(id, signal);
  }
}

const service = useLocalService({ askTimeout: 60_000 });

function serverOf(endpoint: RpcEndpoint): EndpointServer {
  return (endpoint as unknown as { rpcServer: EndpointServer }).rpcServer;
}

function started(): { endpoint: FetchEndpoint; gw: FetchGateway } {
  const endpoint = new FetchEndpoint(service);
  endpoint.start();
  return { endpoint, gw: endpoint.getSelfGateway(FetchGateway) };
}

describe('cancellation with AbortSignal (local)', () => {
  it("rejects the caller at once with the signal's reason and aborts the endpoint's own signal", async () => {
    const { endpoint, gw } = started();
    const controller = new AbortController();
    const call = gw.fetch('a', controller.signal);
    await sleep(1);
    expect(endpoint.started).toEqual(['a']);
    const received = endpoint.signals[0]!;
    expect(received).toBeInstanceOf(AbortSignal);
    expect(received).not.toBe(controller.signal);
    expect(received.aborted).toBe(false);
    controller.abort();
    // At once: in the same tick, before the endpoint had any chance to answer.
    expect(received.aborted).toBe(true);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe('AbortError');
    expect(received.reason).toBe(controller.signal.reason);
  });

  it('rejects with a custom reason', async () => {
    const { gw } = started();
    const controller = new AbortController();
    const call = gw.fetch('a', controller.signal);
    const reason = new Error('user navigated away');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
  });

  it('an already-aborted signal rejects without sending anything', async () => {
    const { endpoint, gw } = started();
    const reason = new Error('too late');
    await expect(gw.fetch('a', AbortSignal.abort(reason))).rejects.toBe(reason);
    await sleep(5);
    expect(endpoint.started).toEqual([]);
  });

  it('a call aborted while it waits in the mailbox never runs', async () => {
    const { endpoint, gw } = started();
    const controller = new AbortController();
    // Synchronously: both calls are queued, the second is aborted before the mailbox runs.
    const first = gw.fetch('first');
    const second = gw.fetch('second', controller.signal);
    controller.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    await sleep(5);
    expect(endpoint.started).toEqual(['first']);
    endpoint.answers.get('first')!('done');
    await expect(first).resolves.toBe('done');
  });

  it('drops a reply that comes after the abort', async () => {
    const { endpoint, gw } = started();
    endpoint.honourSignal = false;
    const controller = new AbortController();
    const call = gw.fetch('a', controller.signal);
    await sleep(1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    endpoint.answers.get('a')!('late answer');
    await sleep(1);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(serverOf(endpoint).pendingReplyCount).toBe(0);
  });

  it('gives the method a signal that is never aborted when the caller passed none', async () => {
    const { endpoint, gw } = started();
    const call = gw.fetch('a');
    await sleep(1);
    expect(endpoint.signals[0]).toBeInstanceOf(AbortSignal);
    expect(endpoint.signals[0]!.aborted).toBe(false);
    endpoint.answers.get('a')!('x');
    await expect(call).resolves.toBe('x');
  });

  it('refuses a value at the signal position that is not an AbortSignal', async () => {
    const { endpoint, gw } = started();
    await expect(gw.fetch('a', 'stop' as unknown as AbortSignal)).rejects.toThrow(RpcException);
    await expect(gw.fetch('a', 'stop' as unknown as AbortSignal)).rejects.toThrow(
      /signal argument 1 of CancellableFetchGateway\.fetch must be an AbortSignal/,
    );
    expect(endpoint.started).toEqual([]);
  });

  it('a timeout still applies, aborts nothing of the caller and lets go of the signal', async () => {
    const { gw } = started();
    const controller = new AbortController();
    await expect(gw.fetchWithin('a', controller.signal, 5)).rejects.toBeInstanceOf(RpcTimeoutException);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(controller.signal.aborted).toBe(false);
  });

  it('leaks nothing: 100 000 aborted calls leave no pending ask, owed reply or listener behind', async () => {
    const { endpoint, gw } = started();
    const server = serverOf(endpoint);
    const actor = service as unknown as ActorRpcService;
    const count = 100_000;
    // Ten calls per signal (Node warns beyond ten listeners on one signal): 100 000 calls, 10 000 signals.
    const controllers = Array.from({ length: count / 10 }, () => new AbortController());
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      calls.push(gw.fetch(String(i), controllers[i % controllers.length]!.signal).catch((e: unknown) => e));
    }
    // Half are running at the endpoint, half are still queued when aborted.
    while (endpoint.started.length < count / 2) await sleep(0);
    // One reason for all: a DOMException per abort would only cost time here.
    const reason = new DOMException('The user cancelled.', 'AbortError');
    for (const controller of controllers) controller.abort(reason);
    const outcomes = await Promise.all(calls);
    expect(outcomes.every((o) => o === reason)).toBe(true);
    // The calls aborted while queued are skipped when their turn comes.
    while (server.mailboxSize > 0) await sleep(1);
    expect(actor.pendingAskCount).toBe(0);
    expect(server.pendingReplyCount).toBe(0);
    expect(server.mailboxSize).toBe(0);
    expect(endpoint.answers.size).toBe(0);
    expect(controllers.every((c) => getEventListeners(c.signal, 'abort').length === 0)).toBe(true);
    expect(endpoint.signals.every((s) => s!.aborted && getEventListeners(s!, 'abort').length === 0)).toBe(true);
    expect(endpoint.started.length).toBeLessThan(count);

    // Calls that complete let go of a shared signal too.
    const shared = new AbortController();
    const done = Array.from({ length: 10 }, (_, i) => gw.fetch(`ok${i}`, shared.signal));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(10);
    await sleep(1);
    for (const answer of [...endpoint.answers.values()]) answer('ok');
    await Promise.all(done);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    expect(actor.pendingAskCount).toBe(0);
    expect(server.pendingReplyCount).toBe(0);
  }, 60_000);
});
