import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, type MethodName } from '../shared/api.js';
import type { BridgeEvent } from '../shared/bridge.js';
import { Engine } from './engine/engine.js';
import { Scheduler } from './engine/scheduler.js';
import { toErrorShape } from './engine/errors.js';
import { checkBody, checkHostAndOrigin, checkJsonBody, decodePart, drainThenClose, jobHeader, rawRefusal, readJson, Refusal, Secret, SECURITY_HEADERS, sendJson, sendRefusal } from './web-guard.js';
import { serveStatic } from './web-static.js';

/**
 * The web door: Lifeboat's screens and exactly the contract's methods over HTTP on 127.0.0.1, for
 * headless machines and for testing the renderer in a real browser. The page trades the one-time
 * token in its address for a session secret, sent in `X-Lifeboat-Session` on every call. No logic
 * lives here: the engine parses every argument and decides.
 */

export interface WebHostOptions {
  /** Lifeboat's data folder (`LIFEBOAT_HOME`). */
  home: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** The built renderer; by default `out/renderer` of the package. */
  rendererDir?: string;
  /** How often an idle event stream gets a comment, so proxies and clients see it is alive. */
  heartbeatMs?: number;
  /** Run due scheduled jobs while open (default true). */
  schedule?: boolean;
}

export interface WebHost {
  /** The address to open, with the one-time token: `http://127.0.0.1:PORT/#token=…`. */
  url: string;
  port: number;
  /** Cancels running calls, ends event streams, stops listening and closes the engine. */
  close(): Promise<void>;
}

/** `out/renderer` beside this file's folder: the same from `electron/web.ts` and from `out/cli.mjs`. */
export function defaultRendererDir(): string {
  return path.join(fileURLToPath(new URL('..', import.meta.url)), 'out', 'renderer');
}

const isMethod = (name: string): name is MethodName => Object.hasOwn(api, name);

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const rendererDir = options.rendererDir ?? defaultRendererDir();
  const engine = new Engine(options.home, 'web');
  let token: Secret | null = new Secret();
  const firstToken = token.value;
  /** The token once exchanged: kept (as its hash) only to tell a reused address from a wrong one. */
  const usedToken = new Secret(firstToken);
  let session: Secret | null = null;
  const streams = new Set<ServerResponse>();
  const stopping = new AbortController();
  const running = new Set<Promise<unknown>>();
  let port = 0;

  const push = (event: BridgeEvent) => {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const res of streams) res.write(frame);
  };
  const unsubscribe = engine.onChange((env) => push({ type: 'changed', env }));
  // Due jobs run while the web host is open, as in the app; the page hears of them as changes.
  const scheduler = options.schedule === false ? null : new Scheduler(engine, { onError: (e) => process.stderr.write(`lifeboat: the schedule could not run: ${e.message} ${e.hint}\n`) });
  scheduler?.start();

  const authorised = (req: IncomingMessage) => session !== null && session.matches(req.headers['x-lifeboat-session']);
  const noSession = () =>
    new Refusal(
      401,
      'NO_SESSION',
      'This request has no valid Lifeboat session.',
      'Open the address (with its #token=…) that `lifeboat serve` printed; if it was already used, stop the web host and start it again for a new one.',
    );

  async function exchange(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJson(req)) as { token?: unknown } | null;
    if (!token && usedToken.matches(body?.token)) {
      throw new Refusal(
        410,
        'TOKEN_USED',
        'This address was already used: each address that `lifeboat serve` prints opens Lifeboat in one browser tab, once. Your environments and backups are not affected.',
        'Stop the web host (Ctrl-C where `lifeboat serve` runs) and start it again, then open the new address it prints. The tab that opened this address first keeps working while the host runs.',
      );
    }
    if (!token || !token.matches(body?.token)) {
      throw new Refusal(
        401,
        'NO_SESSION',
        'That token is not the one this web host printed (the address may be incomplete or from an earlier run).',
        'Open the whole address that `lifeboat serve` printed, #token=… included; if it is lost, stop the web host (Ctrl-C) and start it again for a new one.',
      );
    }
    token = null;
    session = new Secret();
    sendJson(res, 200, { secret: session.value });
  }

  async function call(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!authorised(req)) throw noSession();
    const job = jobHeader(req);
    if (job instanceof Refusal) throw job;
    if (!isMethod(name)) {
      throw new Refusal(404, 'UNKNOWN_METHOD', `There is no method "${name.slice(0, 100)}".`, `The methods are: ${Object.keys(api).join(', ')}.`);
    }
    const args = await readJson(req);
    const work = engine.call(name, args, {
      job,
      signal: stopping.signal,
      onProgress: job ? (progress) => push({ type: 'progress', job, progress }) : undefined,
    });
    running.add(work);
    try {
      sendJson(res, 200, { ok: true, result: await work });
    } catch (err) {
      sendJson(res, 200, { ok: false, error: toErrorShape(err) });
    } finally {
      running.delete(work);
    }
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    if (!authorised(req)) throw noSession();
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Host and Origin first, for every path: a rebound DNS name must not even read the pages.
    const foreign = checkHostAndOrigin(req, port);
    if (foreign) throw foreign;
    // Then the body: bounded before anything reads it, whatever the route.
    const badBody = checkBody(req);
    if (badBody) throw badBody;
    const urlPath = (req.url ?? '/').split(/[?#]/)[0]!;
    const decoded = decodePart(urlPath);
    if (decoded instanceof Refusal) throw decoded;
    if (!urlPath.startsWith('/api/')) return serveStatic(req, res, rendererDir, urlPath);
    if (urlPath === '/api/events') {
      if (req.method !== 'GET') throw new Refusal(405, 'BAD_REQUEST', 'The event stream is read with GET.', 'Read /api/events with GET and the session header.');
      return events(req, res);
    }
    if (req.method !== 'POST') throw new Refusal(405, 'BAD_REQUEST', `${req.method} is not used here: calls are POST.`, 'Call /api/call/<method> with POST and a JSON body.');
    const notJson = checkJsonBody(req);
    if (notJson) throw notJson;
    if (urlPath === '/api/session') return exchange(req, res);
    if (urlPath.startsWith('/api/call/')) return call(req, res, decoded.slice('/api/call/'.length));
    throw new Refusal(404, 'NOT_FOUND', `There is nothing at ${urlPath.slice(0, 100)}.`, 'Calls go to /api/call/<method>.');
  }

  // Host headers are checked by `checkHostAndOrigin`, which answers a missing one in the error shape.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    // Whatever the answer, a body left unread is drained within bounds, then the connection cut.
    const socket = req.socket;
    res.once('finish', () => drainThenClose(req, socket));
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof Refusal) sendRefusal(res, err);
      else sendJson(res, 500, { ok: false, error: toErrorShape(err) });
    });
  });
  // A request Node cannot parse (a malformed header, say) gets a 400 and the server goes on.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end(rawRefusal(err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, 'The request could not be read (a malformed header or line).'));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': alive\n\n');
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  return {
    url: `http://127.0.0.1:${port}/#token=${firstToken}`,
    port,
    async close() {
      clearInterval(heartbeat);
      stopping.abort();
      await scheduler?.stop();
      await Promise.allSettled([...running]);
      unsubscribe();
      for (const res of streams) res.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      engine.close();
    },
  };
}
