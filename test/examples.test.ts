import { describe, expect, it } from 'vitest';
import { main as fencing } from '../examples/fencing.js';
import { main as helloHi } from '../examples/hello-hi.js';
import { main as myService } from '../examples/my-service.js';

const quiet = () => {};

describe('the examples (they are the demo, so they must keep working)', () => {
  it('HelloGateway / HiGateway answer through a self gateway and a connected gateway', async () => {
    await expect(helloHi(quiet)).resolves.toEqual(['hello', 'hi']);
  });

  it('MyService stores through putData and reads back through getData', async () => {
    await expect(myService(quiet)).resolves.toBe('value1');
  });

  it('the fencing example refuses the stale token and accepts the current one', async () => {
    const result = await fencing(quiet);
    expect(result.fenced).toBe(true);
    expect(result.accepted).toMatch(/^job job-1 cancelled by leader session /);
  });
});
