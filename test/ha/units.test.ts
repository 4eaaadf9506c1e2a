import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeLeaderInformation,
  encodeLeaderInformation,
  sameLeaderInformation,
} from '../../src/ha/LeaderInformation.js';
import { SerialExecutor } from '../../src/ha/SerialExecutor.js';
import { latchPrefix, latchSequence, sortLatches } from '../../src/ha/zookeeper/paths.js';

describe('leader information encoding', () => {
  it('round-trips any address and session id', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (address, sessionId) => {
        const info = { address, sessionId };
        expect(decodeLeaderInformation(encodeLeaderInformation(info))).toEqual(info);
      }),
    );
  });

  it('treats empty data as no leader and rejects anything else', () => {
    expect(decodeLeaderInformation(Buffer.alloc(0))).toBeNull();
    expect(decodeLeaderInformation(null)).toBeNull();
    for (const bad of [
      'garbage',
      '[]',
      '{"v":2,"address":"a","sessionId":"s"}',
      '{"v":1,"address":1,"sessionId":"s"}',
    ]) {
      expect(() => decodeLeaderInformation(Buffer.from(bad))).toThrow(TypeError);
    }
  });

  it('compares by value', () => {
    expect(sameLeaderInformation(null, null)).toBe(true);
    expect(sameLeaderInformation({ address: 'a', sessionId: 's' }, null)).toBe(false);
    expect(sameLeaderInformation({ address: 'a', sessionId: 's' }, { address: 'a', sessionId: 's' })).toBe(true);
  });
});

describe('latch names', () => {
  it('orders by the sequence suffix, not by the contender id', () => {
    const names = [`${latchPrefix('b')}0000000002`, `${latchPrefix('a')}0000000010`, `${latchPrefix('c')}0000000001`];
    expect(sortLatches([...names, 'other'])).toEqual([names[2], names[0], names[1]]);
    expect(latchSequence('other')).toBe(-1);
  });
});

describe('SerialExecutor', () => {
  it('runs tasks one at a time in order, even async ones, and survives failures', async () => {
    const executor = new SerialExecutor();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ms: number) => async () => {
      running += 1;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running -= 1;
      return name;
    };
    const a = executor.submit(task('a', 20));
    const failing = executor.submit(() => {
      throw new Error('x');
    });
    const b = executor.submit(task('b', 1));
    await expect(a).resolves.toBe('a');
    await expect(failing).rejects.toThrow('x');
    await expect(b).resolves.toBe('b');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    await executor.drain();
    expect(executor.size).toBe(0);
  });
});
