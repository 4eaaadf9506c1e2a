import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

describe('flink-rpc demo', () => {
  it('runs a cluster of processes, kills a TaskManager half-way, and verifies exactly-once output (exit 0)', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(['demo', '--taskmanagers', '2', '--records', '6000', '--rest-port', '0'], {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
    });
    const out = stdout.text;
    expect(code, `${out}\n${stderr.text}`).toBe(0);
    expect(out).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/2 TaskManagers registered at the ResourceManager: 4 slots/);
    expect(out).toMatch(/RUNNING +tasks 2\/2 running \| committed +\d+\/6000 \| checkpoints \d+ \| restarts 0/);
    expect(out).toMatch(/Half-way \(\d+ records committed\): SIGKILL TaskManager \S+ \(pid \d+\)/);
    expect(out).toMatch(/restarts [1-9]/);
    expect(out).toMatch(/Job FINISHED after [1-9]\d* restart\(s\)/);
    expect(out).toMatch(
      /Failover after the kill: detected \d+ ms .*restarted \d+ ms, all tasks RUNNING again \d+ ms\./,
    );
    expect(out).toContain('Output check: exactly once: all 6000 records committed once');
    expect(out).toContain('Demo succeeded.');
  }, 90_000);
});
