import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RestFixture, sampleJobGraph, startRestFixture } from './restFixture.js';

let fixture: RestFixture;

beforeEach(async () => {
  fixture = await startRestFixture({
    maxBodyBytes: 4 * 1024,
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    maxConnections: 8,
  });
  fixture.dispatcher.cluster.addTaskManager('tm-1', 2);
});

afterEach(async () => {
  await fixture.close();
});

async function send(
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<{ status: number; errors: string[]; headers: Headers }> {
  const response = await fetch(fixture.rest.url + path, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'Content-Type': contentType } }),
  });
  const json = (await response.json()) as { errors?: string[] };
  return { status: response.status, errors: json.errors ?? [], headers: response.headers };
}

/** Writes raw bytes on a fresh connection and resolves with everything the server sent until it closed. */
function raw(chunks: readonly (string | Buffer)[], options: { keepOpen?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(fixture.rest.port, '127.0.0.1');
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('utf8');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(received);
      else reject(error);
    });
    socket.on('close', () => resolve(received));
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.keepOpen !== true) socket.end();
    });
  });
}

function statusAndErrors(response: string): { status: number; errors: string[] } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  return { status, errors: (JSON.parse(body) as { errors: string[] }).errors };
}

/** The server still answers and no job was created. */
async function expectHealthyExceptSubmissions(): Promise<void> {
  expect((await fetch(`${fixture.rest.url}/overview`)).status).toBe(200);
  expect(fixture.dispatcher.cluster.jobs.size).toBe(0);
}

/** The cluster is untouched and the server still answers after each hostile request. */
async function expectHealthy(): Promise<void> {
  const response = await fetch(`${fixture.rest.url}/overview`);
  expect(response.status).toBe(200);
  expect(fixture.dispatcher.cluster.jobs.size).toBe(0);
  expect(fixture.dispatcher.cluster.calls).not.toContain('submitJob');
}

describe('REST API under hostile input: always a 4xx with { errors }, never a crash', () => {
  it('malformed JSON → 400 naming the problem, the Dispatcher never called', async () => {
    const answer = await send('POST', '/jobs', '{"name": "x", "vertices": [');
    expect(answer.status).toBe(400);
    expect(answer.errors[0]).toMatch(/not valid JSON/);
    await expectHealthy();
  });

  it('an empty body, or JSON that is not an object → 400', async () => {
    expect((await send('POST', '/jobs', '')).status).toBe(400);
    for (const body of ['[1,2]', '42', 'null', '"job"']) {
      const answer = await send('POST', '/jobs', body);
      expect(answer.status, body).toBe(400);
      expect(answer.errors[0]).toMatch(/must be a job graph/);
    }
    await expectHealthy();
  });

  it('JSON nested deeper than 64 levels → 400 (it would overflow recursive code further on)', async () => {
    const deep = `{"name":"deep","vertices":[],"x":${'['.repeat(2_000)}${']'.repeat(2_000)}}`;
    const answer = await send('POST', '/jobs', deep);
    expect(answer.status).toBe(400);
    expect(answer.errors[0]).toMatch(/nested deeper than 64 levels/);
    // Brackets inside strings do not count.
    const quoted = await send('POST', '/jobs', JSON.stringify({ name: '[[[['.repeat(100), vertices: [] }));
    expect(quoted.errors[0]).toBe('The job graph has no vertices.');
    await expectHealthyExceptSubmissions();
  });

  it('a body that is not application/json → 415 (also keeps HTML forms from other sites out)', async () => {
    const answer = await send('POST', '/jobs', JSON.stringify(sampleJobGraph()), 'text/plain');
    expect(answer.status).toBe(415);
    expect(answer.errors[0]).toMatch(/application\/json/);
    await expectHealthy();
  });

  it('a body past the size limit → 413, declared or streamed without a length', async () => {
    const big = JSON.stringify(sampleJobGraph({ padding: 'x'.repeat(10_000) }));
    const declared = await send('POST', '/jobs', big);
    expect(declared.status).toBe(413);
    expect(declared.errors[0]).toMatch(/exceeds the limit of 4096 bytes/);

    const chunked = statusAndErrors(
      await raw([
        'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        ...Array.from({ length: 6 }, () => `400\r\n${'y'.repeat(0x400)}\r\n`),
        '0\r\n\r\n',
      ]),
    );
    expect(chunked.status).toBe(413);
    await expectHealthy();
  });

  it('unknown ids → 404 with the Dispatcher message; malformed ids → 400', async () => {
    const job = await send('GET', '/jobs/no-such-job');
    expect(job).toMatchObject({ status: 404, errors: ['Could not find Flink job (no-such-job)'] });
    expect((await send('GET', '/jobs/no-such-job/checkpoints')).status).toBe(404);
    expect((await send('GET', '/jobs/no-such-job/exceptions')).status).toBe(404);
    expect((await send('PATCH', '/jobs/no-such-job?mode=cancel')).status).toBe(404);
    expect((await send('GET', '/taskmanagers/tm-9')).status).toBe(404);
    const malformed = await send('GET', `/jobs/${encodeURIComponent('../../etc/passwd')}`);
    expect(malformed.status).toBe(400);
    expect(malformed.errors[0]).toMatch(/Invalid job id/);
    await expectHealthy();
  });

  it('wrong methods → 405 with Allow; unknown paths → 404', async () => {
    const wrong = await send('DELETE', '/jobs/job-1');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
    expect((await send('POST', '/overview', '{}')).status).toBe(405);
    expect((await send('PUT', '/', '{}')).status).toBe(405);
    const unknown = await send('GET', '/jobs/a/b/c/d');
    expect(unknown).toMatchObject({ status: 404, errors: ['Not found: /jobs/a/b/c/d'] });
    expect((await send('GET', '/web/../../package.json')).status).toBe(404);
    expect((await send('GET', '/vendor/anything.mjs')).status).toBe(404);
    await expectHealthy();
  });

  it('PATCH without mode=cancel → 400', async () => {
    expect((await send('PATCH', '/jobs/job-1')).errors[0]).toMatch(/Missing query parameter 'mode'/);
    expect((await send('PATCH', '/jobs/job-1?mode=stop')).errors[0]).toMatch(/Unsupported mode 'stop'/);
  });

  it('a malformed path escape, oversized headers and bytes that are not HTTP → 400 / 431', async () => {
    const badEscape = statusAndErrors(
      await raw(['GET /jobs/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']),
    );
    expect(badEscape.status).toBe(400);
    const headers = statusAndErrors(
      await raw([`GET /overview HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]),
    );
    expect(headers.status).toBe(431);
    const garbage = statusAndErrors(await raw([Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x0d, 0x0a])]));
    expect(garbage.status).toBe(400);
    await expectHealthy();
  });

  it('slow clients: headers or a body that never finish → 408 and the connection closed', async () => {
    const started = Date.now();
    const headers = statusAndErrors(await raw(['GET /overview HTTP/1.1\r\nHost: x\r\n'], { keepOpen: true }));
    expect(headers.status).toBe(408);
    expect(headers.errors[0]).toMatch(/not received in time/);
    const body = statusAndErrors(
      await raw(
        ['POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na'],
        {
          keepOpen: true,
        },
      ),
    );
    expect(body.status).toBe(408);
    // Both are answered by the configured timeouts (300 ms / 600 ms), not left hanging.
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectHealthy();
  });

  it('connections past the limit are closed at once; the server answers again when they go', async () => {
    const idle = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<Socket>((resolve) => {
            const socket = connect(fixture.rest.port, '127.0.0.1', () => resolve(socket));
          }),
      ),
    );
    try {
      const refused = await raw(['GET /overview HTTP/1.1\r\nHost: x\r\n\r\n'], { keepOpen: true });
      expect(refused).toBe('');
    } finally {
      for (const socket of idle) socket.destroy();
    }
    await expect.poll(async () => (await fetch(`${fixture.rest.url}/overview`)).status).toBe(200);
  });

  it('Dispatcher refusals map to 4xx with their messages: JobSubmissionException → 400, duplicate → 409', async () => {
    const invalid = await send('POST', '/jobs', JSON.stringify({ name: 'empty', vertices: [] }));
    expect(invalid).toMatchObject({ status: 400, errors: ['The job graph has no vertices.'] });
    expect((await send('POST', '/jobs', JSON.stringify(sampleJobGraph({ jobId: 'dup' })))).status).toBe(202);
    const duplicate = await send('POST', '/jobs', JSON.stringify(sampleJobGraph({ jobId: 'dup' })));
    expect(duplicate).toMatchObject({ status: 409, errors: ['Job has already been submitted: dup'] });
  });
});
