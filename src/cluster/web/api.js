/** Talking to the REST API: JSON fetches, Flink's error shape, and a polling hook that keeps a view live. */

import { useEffect, useRef, useState } from 'preact/hooks';

/** A failed REST call, with the server's `errors` messages when it sent some. */
export class RestError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Fetches `path` as JSON; rejects with a {@link RestError} carrying the server's first error message.
 * @param {string} path
 * @param {RequestInit} [init]
 */
export async function fetchJson(path, init) {
  let response;
  try {
    response = await fetch(path, { cache: 'no-store', ...init });
  } catch {
    throw new RestError(0, 'Cannot reach the JobManager.');
  }
  const text = await response.text();
  let body;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    body = {};
  }
  if (!response.ok) {
    const message = Array.isArray(body.errors) && body.errors.length > 0 ? body.errors.join('; ') : response.statusText;
    throw new RestError(response.status, message);
  }
  return body;
}

/**
 * Polls `path` every `intervalMs` while the component is shown; keeps the last good data through a failed poll.
 * @param {string | null} path null pauses polling
 * @param {number} intervalMs
 * @returns {{ data: any, error: RestError | null, refresh: () => void }}
 */
export function usePoll(path, intervalMs) {
  const [state, setState] = useState({ data: null, error: null, path });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);

  useEffect(() => {
    if (path === null) return undefined;
    const mine = ++generation.current;
    let timer;
    const poll = async () => {
      // A hidden tab does not poll; it catches up as soon as it is shown again.
      if (document.hidden) {
        timer = setTimeout(poll, intervalMs);
        return;
      }
      try {
        const data = await fetchJson(path);
        if (mine === generation.current) setState({ data, error: null, path });
      } catch (error) {
        if (mine === generation.current)
          setState((previous) => ({ data: previous.path === path ? previous.data : null, error, path }));
      }
      if (mine === generation.current) timer = setTimeout(poll, intervalMs);
    };
    poll();
    const onVisible = () => {
      if (document.hidden || mine !== generation.current) return;
      clearTimeout(timer);
      poll();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      generation.current++;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [path, intervalMs, tick]);

  return {
    data: state.path === path ? state.data : null,
    error: state.path === path ? state.error : null,
    refresh: () => setTick((n) => n + 1),
  };
}
