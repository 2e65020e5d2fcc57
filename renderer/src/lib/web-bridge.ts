import type { MethodName } from '../../../shared/api.js';
import type { BridgeEvent, CallOptions, LifeboatBridge, Outcome } from '../../../shared/bridge.js';
import { contractMethods } from '../../../shared/bridge-methods.js';
import type { ErrorShape } from '../../../shared/errors.js';

/**
 * The renderer's bridge over the web host (`lifeboat serve`): the same `LifeboatBridge` the Electron
 * preload gives, on HTTP. It trades the one-time `#token=` of the printed address for a session
 * secret (kept in sessionStorage, so a reload keeps working), calls `/api/call/<method>`, and reads
 * `/api/events` with fetch streaming (EventSource cannot send the session header), reconnecting when
 * the stream drops. Calls never throw: every failure is an `Outcome` error with a hint.
 */

/** What the bridge needs from the page; the browser's by default, stand-ins in tests. */
export interface WebBridgePage {
  location: { origin: string; pathname: string; search: string; hash: string };
  history: { replaceState(data: unknown, unused: string, url?: string): void };
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };
  fetch: typeof fetch;
}

const SESSION_KEY = 'lifeboat.session';
const SESSION_HEADER = 'X-Lifeboat-Session';

/** The browser page this script runs in. */
export function browserPage(): WebBridgePage {
  const page = globalThis as unknown as { location: WebBridgePage['location']; history: WebBridgePage['history']; sessionStorage: WebBridgePage['storage'] };
  return { location: page.location, history: page.history, storage: page.sessionStorage, fetch: globalThis.fetch.bind(globalThis) };
}

const unreachable = (detail: string): ErrorShape => ({
  code: 'UNREACHABLE',
  message: `Lifeboat's web host did not answer (${detail}).`,
  hint: 'Is `lifeboat serve` still running? Start it again and open the new address it prints.',
});

const noSession = (why: string): ErrorShape => ({
  code: 'NO_SESSION',
  message: why,
  hint: 'Open the address that `lifeboat serve` printed (the one with #token=…); if it was already used, stop the web host and start it again for a new one.',
});

/** The codes by which a page learns it has no session: every call it makes will be refused alike. */
export const SESSION_CODES: readonly string[] = ['NO_SESSION', 'TOKEN_USED'];

const isOutcome = (body: unknown): body is Outcome<unknown> =>
  typeof body === 'object' && body !== null && typeof (body as { ok?: unknown }).ok === 'boolean' && ((body as { ok: boolean }).ok || typeof (body as { error?: unknown }).error === 'object');

/** Makes the bridge; starts the token exchange at once when the address carries one. */
export function createWebBridge(page: WebBridgePage = browserPage()): LifeboatBridge {
  const { location, storage } = page;
  let secret = storage.getItem(SESSION_KEY);
  /** Why there is no session, as every call will answer while there is none. */
  let sessionProblem: ErrorShape = noSession('This page has no Lifeboat session.');

  const token = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash)?.[1];
  // The token leaves the address bar (and so the history) at once, used or not.
  if (token) page.history.replaceState(null, '', `${location.pathname}${location.search}`);
  const ready: Promise<void> = token ? exchange(token) : Promise.resolve();

  async function exchange(oneTime: string): Promise<void> {
    try {
      const res = await page.fetch(`${location.origin}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: oneTime }) });
      const body = (await res.json()) as { secret?: unknown; error?: ErrorShape };
      if (res.ok && typeof body.secret === 'string') {
        secret = body.secret;
        storage.setItem(SESSION_KEY, secret);
      } else if (!secret) {
        // The host's own refusal, code and all: a used address (TOKEN_USED) is not a wrong one.
        sessionProblem = body.error && SESSION_CODES.includes(body.error.code) ? body.error : noSession(body.error?.message ?? 'The address was refused by the web host.');
      }
    } catch {
      if (!secret) sessionProblem = noSession('The web host could not be reached to open a session.');
    }
  }

  function forget(why: string): void {
    secret = null;
    sessionProblem = noSession(why);
    storage.removeItem(SESSION_KEY);
  }

  async function call(method: MethodName, args: unknown, options: CallOptions = {}): Promise<Outcome<unknown>> {
    await ready;
    if (!secret) return { ok: false, error: sessionProblem };
    const headers: Record<string, string> = { 'Content-Type': 'application/json', [SESSION_HEADER]: secret };
    if (options.job) headers['X-Lifeboat-Job'] = options.job;
    let res: Response;
    try {
      res = await page.fetch(`${location.origin}/api/call/${encodeURIComponent(method)}`, { method: 'POST', headers, body: JSON.stringify(args ?? {}) });
    } catch (err) {
      return { ok: false, error: unreachable(err instanceof Error ? err.message : 'network error') };
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      return { ok: false, error: unreachable(`an answer that is not JSON, HTTP ${res.status}`) };
    }
    if (res.status === 401) forget("The web host no longer knows this page's session (it was restarted).");
    return isOutcome(body) ? body : { ok: false, error: unreachable(`an answer of an unknown shape, HTTP ${res.status}`) };
  }

  // One function per contract method, named as in shared/api.ts: derived, so new methods appear here.
  const methods = contractMethods(call);

  const listeners = new Set<(event: BridgeEvent) => void>();
  let reading: AbortController | null = null;

  const emit = (event: BridgeEvent) => {
    for (const listener of listeners) listener(event);
  };

  /** Reads the event stream until no one listens, reconnecting with a growing pause when it drops. */
  async function readEvents(signal: AbortSignal): Promise<void> {
    let pause = 500;
    let connectedBefore = false;
    while (!signal.aborted) {
      await ready;
      if (!secret) return;
      try {
        const res = await page.fetch(`${location.origin}/api/events`, { headers: { [SESSION_HEADER]: secret }, signal });
        if (res.status === 401) return forget("The web host no longer knows this page's session (it was restarted).");
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        // Events may have been missed while the stream was down: screens reload what they show.
        if (connectedBefore) emit({ type: 'changed', env: null });
        connectedBefore = true;
        pause = 500;
        await readFrames(res.body, signal);
      } catch {
        // A dropped stream or an unreachable host: try again below.
      }
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 10_000);
    }
  }

  async function readFrames(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      while (!signal.aborted) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (!data) continue; // a heartbeat comment
          try {
            emit(JSON.parse(data) as BridgeEvent);
          } catch {
            // A frame that is not JSON is not ours: skip it.
          }
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  return {
    door: 'web',
    methods,
    onEvent(listener) {
      listeners.add(listener);
      if (!reading) {
        const controller = new AbortController();
        reading = controller;
        void readEvents(controller.signal).finally(() => {
          if (reading === controller) reading = null;
        });
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && reading) {
          reading.abort();
          reading = null;
        }
      };
    },
  };
}
