import { describe, expect, it } from 'vitest';
import { JobSubmissionException } from '../../src/cluster/errors.js';
import { validateJobGraph } from '../../src/cluster/graph/validateJobGraph.js';

const builtins = new Set(['generator', 'fail', 'stall']);
const known = (name: string) => builtins.has(name);

const vertex = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  parallelism: 2,
  operator: 'generator',
  ...extra,
});
const graph = (extra: Record<string, unknown> = {}) => ({ name: 'job', vertices: [vertex('source')], ...extra });

/** The message a graph is refused with (fails the test if it is accepted or refused with another error type). */
function refusal(input: unknown): string {
  try {
    validateJobGraph(input, known);
  } catch (error) {
    expect(error).toBeInstanceOf(JobSubmissionException);
    expect((error as Error).name).toBe('JobSubmissionException');
    return (error as Error).message;
  }
  throw new Error('the graph was accepted');
}

describe('validateJobGraph', () => {
  it('accepts a valid graph, keeps a given job id and returns a normalized copy', () => {
    const input = {
      jobId: 'my-job.1',
      name: 'pipeline',
      vertices: [
        vertex('source', { name: 'Source', config: { records: 10, nested: { a: [1, 2] } } }),
        vertex('sink', { parallelism: 1, operator: { module: './my-op.js', export: 'sink' }, inputs: ['source'] }),
      ],
      checkpointing: { interval: 100, timeout: 1_000 },
      restartStrategy: { type: 'fixed-delay', attempts: 3, delay: 10 },
    };
    const validated = validateJobGraph(input, known);
    expect(validated).toEqual(input);
    (input.vertices[0] as unknown as { config: { records: number } }).config.records = 99;
    expect(validated.vertices[0]!.config).toEqual({ records: 10, nested: { a: [1, 2] } });
  });

  it('gives a job without an id a random id in Flink format', () => {
    const first = validateJobGraph(graph(), known).jobId;
    const second = validateJobGraph(graph(), known).jobId;
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(second).not.toBe(first);
  });

  it('refuses what is not a JSON object', () => {
    expect(refusal(null)).toBe('Invalid job graph: it must be a JSON object.');
    expect(refusal([graph()])).toBe('Invalid job graph: it must be a JSON object.');
    expect(refusal('{"name":"x"}')).toBe('Invalid job graph: it must be a JSON object.');
  });

  it('refuses a graph without vertices', () => {
    expect(refusal(graph({ vertices: [] }))).toBe('Invalid job graph: the job graph has no vertices.');
    expect(refusal({ name: 'job' })).toBe('Invalid job graph: vertices must be an array, got nothing.');
  });

  it('refuses an unknown operator, naming it and the vertex', () => {
    expect(refusal(graph({ vertices: [vertex('v', { operator: 'flatMapz' })] }))).toBe(
      'Invalid job graph: vertex "v" uses the unknown operator "flatMapz".',
    );
    expect(refusal(graph({ vertices: [vertex('v', { operator: { export: 'x' } })] }))).toBe(
      'Invalid job graph: vertex "v" has an operator reference without a "module" string.',
    );
    expect(refusal(graph({ vertices: [vertex('v', { operator: 42 })] }))).toMatch(
      /vertex "v" has operator 42; it must/,
    );
  });

  it.each([0, -1, 1.5, '2', null, 40_000])('refuses parallelism %s', (parallelism) => {
    expect(refusal(graph({ vertices: [vertex('v', { parallelism })] }))).toMatch(
      /^Invalid job graph: vertex "v" has parallelism .+; it must be an integer from 1 to 32768\.$/,
    );
  });

  it('refuses duplicate vertex ids', () => {
    expect(refusal(graph({ vertices: [vertex('a'), vertex('a')] }))).toBe(
      'Invalid job graph: duplicate vertex id "a".',
    );
  });

  it('refuses unknown inputs', () => {
    expect(refusal(graph({ vertices: [vertex('a', { inputs: ['ghost'] })] }))).toBe(
      'Invalid job graph: vertex "a" reads from the unknown vertex "ghost".',
    );
  });

  it('refuses cycles through inputs, naming the cycle in data-flow order', () => {
    const cyclic = [vertex('a', { inputs: ['c'] }), vertex('b', { inputs: ['a'] }), vertex('c', { inputs: ['b'] })];
    expect(refusal(graph({ vertices: cyclic }))).toBe('Invalid job graph: the inputs form a cycle: a → b → c → a.');
    expect(refusal(graph({ vertices: [vertex('self', { inputs: ['self'] })] }))).toBe(
      'Invalid job graph: the inputs form a cycle: self → self.',
    );
  });

  it('refuses malformed shapes, each with its own message', () => {
    expect(refusal(graph({ name: '' }))).toBe('Invalid job graph: name must be a non-empty string, got "".');
    expect(refusal(graph({ jobId: '../etc' }))).toMatch(/jobId must be 1 to 128 letters/);
    expect(refusal(graph({ parallelism: 3 }))).toBe('Invalid job graph: unknown field "parallelism".');
    expect(refusal(graph({ vertices: ['source'] }))).toBe(
      'Invalid job graph: vertex #0 must be an object, got "source".',
    );
    expect(refusal(graph({ vertices: [vertex('a', { config: [1] })] }))).toBe(
      'Invalid job graph: vertex "a" has a config that is not a JSON object.',
    );
    expect(refusal(graph({ vertices: [vertex('a', { inputs: 'b' })] }))).toBe(
      'Invalid job graph: vertex "a" has inputs that are not an array of vertex ids.',
    );
    expect(refusal(graph({ vertices: [vertex('a', { paralelism: 2 })] }))).toBe(
      'Invalid job graph: vertex "a" has an unknown field "paralelism".',
    );
    expect(refusal(graph({ checkpointing: { interval: 5 } }))).toBe(
      'Invalid job graph: checkpointing.interval must be a whole number of milliseconds >= 10, got 5.',
    );
    expect(refusal(graph({ restartStrategy: { type: 'fixed-delay', attempts: -2 } }))).toBe(
      'Invalid job graph: restartStrategy.attempts must be an integer >= 0, got -2.',
    );
  });

  it('reports every problem of a graph at once', () => {
    const message = refusal({
      name: 'x',
      vertices: [vertex('a', { parallelism: 0 }), vertex('a', { operator: 'nope' })],
    });
    expect(message).toBe(
      'Invalid job graph: vertex "a" has parallelism 0; it must be an integer from 1 to 32768; duplicate vertex id "a"; ' +
        'vertex "a" uses the unknown operator "nope".',
    );
  });
});
