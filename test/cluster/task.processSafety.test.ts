import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./task.fixtures/runStrayTask.ts', import.meta.url));

function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLINK_RPC_LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('operator errors that escape the task runtime', () => {
  it('an exception thrown from an operator timer fails its task, not the process', async () => {
    const { code, stdout } = await run('timerThrow');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      state: 'FAILED',
      error:
        "Uncaught error in operator 'timerThrow' of module '" +
        fileURLToPath(new URL('./task.fixtures/strayOperators.mjs', import.meta.url)) +
        "': stray timer error",
    });
  });

  it('an unhandled rejection in operator code fails its task, not the process', async () => {
    const { code, stdout } = await run('strayRejection');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).state).toBe('FAILED');
    expect(JSON.parse(stdout).error).toContain('stray rejection');
  });

  it('an error outside any task still ends the process as Node would', async () => {
    const { code, stdout, stderr } = await run('timerThrow', 'then-crash');
    expect(JSON.parse(stdout.split('\n')[0] as string).state).toBe('FAILED');
    expect(code).toBe(1);
    expect(stderr).toContain('an error outside any task');
  });
});
