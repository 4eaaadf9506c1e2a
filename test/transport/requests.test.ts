/** The request table of a client connection. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestTable } from '../../src/transport/RequestTable.js';

describe('RequestTable', () => {
  it('finds each pending request by its id exactly once, whatever the order of answers', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 5000 }), fc.nat(), (ops, seed) => {
        const table = new RequestTable<{ requestId: number; n: number }>();
        const pending = new Map<number, { requestId: number; n: number }>();
        let n = 0;
        let rnd = seed;
        for (const add of ops) {
          if (add || pending.size === 0) {
            const request = { requestId: 0, n: n++ };
            const id = table.add(request);
            expect(id).not.toBe(0);
            expect(pending.has(id)).toBe(false);
            pending.set(id, request);
          } else {
            rnd = (rnd * 1103515245 + 12345) >>> 0;
            const ids = [...pending.keys()];
            const id = ids[rnd % ids.length]!;
            expect(table.take(id)).toBe(pending.get(id));
            expect(table.take(id)).toBeUndefined();
            pending.delete(id);
          }
          expect(table.size).toBe(pending.size);
        }
        expect(new Set(table.drain())).toEqual(new Set(pending.values()));
        expect(table.size).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it('skips the slot of a long-pending request, never hands out 0, and drops answers for reused slots', () => {
    const table = new RequestTable<{ requestId: number }>();
    const old = { requestId: 0 };
    const oldId = table.add(old);
    const ids = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const r = { requestId: 0 };
      const id = table.add(r);
      ids.add(id);
      expect(table.take(id)).toBe(r);
      // An answer for this id arriving again (late) finds nothing.
      expect(table.take(id)).toBeUndefined();
    }
    expect(ids.has(oldId)).toBe(false);
    expect(ids.has(0)).toBe(false);
    expect(table.take(oldId)).toBe(old);
  });

  it('grows past half full without losing requests', () => {
    const table = new RequestTable<{ requestId: number }>();
    const all = Array.from({ length: 10_000 }, () => ({ requestId: 0 }));
    for (const r of all) table.add(r);
    for (const r of all) expect(table.take(r.requestId)).toBe(r);
    expect(table.size).toBe(0);
  });
});
