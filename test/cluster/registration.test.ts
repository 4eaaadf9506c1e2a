import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourceManagerGateway } from '../../src/cluster/gateways.js';
import {
  RegistrationCancelledException,
  RegistrationRejectedException,
  RetryingRegistration,
  type RetryingRegistrationOptions,
} from '../../src/cluster/registration/RetryingRegistration.js';
import type { RegistrationResponse } from '../../src/cluster/types.js';
import { RpcTimeoutException } from '../../src/index.js';
import { createTestingGateway, TestingRpcService } from '../../src/testing/index.js';

const ADDRESS = 'rpc://testing/rm';
const options: RetryingRegistrationOptions = {
  initialRegistrationTimeout: 10,
  maxRegistrationTimeout: 40,
  errorDelay: 30,
  refusedRegistrationDelay: 60,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RetryingRegistration', () => {
  let service: TestingRpcService;
  beforeEach(async () => {
    service = await TestingRpcService.create();
    service.registerGateway(ADDRESS, createTestingGateway(ResourceManagerGateway));
  });
  afterEach(async () => {
    await service.closeAsync();
  });

  function registration(invoke: (timeoutMs: number) => Promise<RegistrationResponse<string>>) {
    return new RetryingRegistration<ResourceManagerGateway, string, string>({
      rpcService: service,
      targetName: 'ResourceManager',
      targetAddress: ADDRESS,
      fencingToken: 'leader-1',
      gateway: ResourceManagerGateway,
      options,
      invoke: (_gateway, timeoutMs) => invoke(timeoutMs),
    });
  }

  it('resolves with the gateway and the success of the first accepted attempt', async () => {
    const reg = registration(async () => ({ kind: 'success', value: 'instance-1' }));
    reg.startRegistration();
    const { gateway, success } = await reg.result;
    expect(success).toBe('instance-1');
    expect(gateway.getAddress()).toBe('rpc://testing/ResourceManagerGateway');
    expect(service.getConnectHistory()).toEqual([ADDRESS]);
  });

  it('retries timed-out attempts at once with the timeout doubled up to the maximum', async () => {
    const timeouts: number[] = [];
    const reg = registration(async (timeoutMs) => {
      timeouts.push(timeoutMs);
      if (timeouts.length < 5) throw new RpcTimeoutException('registerTaskExecutor timed out');
      return { kind: 'success', value: 'ok' };
    });
    reg.startRegistration();
    await expect(reg.result).resolves.toMatchObject({ success: 'ok' });
    expect(timeouts).toEqual([10, 20, 40, 40, 40]);
    // timeouts never reconnect
    expect(service.getConnectHistory()).toHaveLength(1);
  });

  it('waits refusedRegistrationDelay after a Failure and starts again with the initial timeout', async () => {
    const calls: { at: number; timeoutMs: number }[] = [];
    const start = Date.now();
    const reg = registration(async (timeoutMs) => {
      calls.push({ at: Date.now() - start, timeoutMs });
      if (calls.length === 1) throw new RpcTimeoutException('timed out');
      if (calls.length === 2) return { kind: 'failure', reason: 'not now' };
      return { kind: 'success', value: 'ok' };
    });
    reg.startRegistration();
    await reg.result;
    expect(calls.map((c) => c.timeoutMs)).toEqual([10, 20, 10]);
    expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(options.refusedRegistrationDelay - 5);
  });

  it('waits errorDelay after another error and starts over from the connect', async () => {
    const calls: number[] = [];
    const start = Date.now();
    const reg = registration(async () => {
      calls.push(Date.now() - start);
      if (calls.length === 1) throw new Error('boom');
      return { kind: 'success', value: 'ok' };
    });
    reg.startRegistration();
    await reg.result;
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(options.errorDelay - 5);
    expect(service.getConnectHistory()).toEqual([ADDRESS, ADDRESS]);
  });

  it('retries a failed connect after errorDelay', async () => {
    service.unregisterGateway(ADDRESS);
    let calls = 0;
    const reg = registration(async () => {
      calls += 1;
      return { kind: 'success', value: 'ok' };
    });
    reg.startRegistration();
    await sleep(options.errorDelay + 20);
    expect(calls).toBe(0);
    expect(service.getConnectHistory().length).toBeGreaterThanOrEqual(2);
    service.registerGateway(ADDRESS, createTestingGateway(ResourceManagerGateway));
    await expect(reg.result).resolves.toMatchObject({ success: 'ok' });
    expect(calls).toBe(1);
  });

  it('ends with a RegistrationRejectedException on a Rejection, without retrying', async () => {
    let calls = 0;
    const reg = registration(async () => {
      calls += 1;
      return { kind: 'rejection', reason: 'wrong cluster' };
    });
    reg.startRegistration();
    const error = await reg.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistrationRejectedException);
    expect((error as RegistrationRejectedException).reason).toBe('wrong cluster');
    await sleep(options.refusedRegistrationDelay + 10);
    expect(calls).toBe(1);
  });

  it('cancel stops every retry and rejects the result', async () => {
    let calls = 0;
    const reg = registration(async () => {
      calls += 1;
      return { kind: 'failure', reason: 'busy' };
    });
    reg.startRegistration();
    await sleep(5);
    expect(calls).toBe(1);
    reg.cancel();
    expect(reg.isCanceled()).toBe(true);
    await expect(reg.result).rejects.toBeInstanceOf(RegistrationCancelledException);
    await sleep(options.refusedRegistrationDelay + 20);
    expect(calls).toBe(1);
  });

  it('ignores the answer of an attempt that arrives after cancel', async () => {
    let answer!: (r: RegistrationResponse<string>) => void;
    const reg = registration(() => new Promise((resolve) => (answer = resolve)));
    reg.startRegistration();
    await sleep(5);
    reg.cancel();
    answer({ kind: 'success', value: 'late' });
    await expect(reg.result).rejects.toBeInstanceOf(RegistrationCancelledException);
  });

  it('refuses nonsensical options', () => {
    expect(
      () =>
        new RetryingRegistration<ResourceManagerGateway, string, string>({
          rpcService: service,
          targetName: 'ResourceManager',
          targetAddress: ADDRESS,
          fencingToken: 'x',
          gateway: ResourceManagerGateway,
          options: { ...options, maxRegistrationTimeout: 1 },
          invoke: async () => ({ kind: 'success', value: '' }),
        }),
    ).toThrow(RangeError);
  });
});
