import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../../shared/api.js';
import { ErrorShape } from '../../shared/errors.js';
import { BODY_LIMIT, DRAIN_LIMIT } from '../../electron/web-guard.js';
import { chunk, head, LAST_CHUNK, rawConnection, rawExchange, type RawAnswer } from '../support/raw-http.js';
import { ROOT, useTempDirs } from '../support/tools.js';
import { useServedHosts, type ServedHost } from '../support/web-host.js';

/**
 * The web host's attack table: every route it has, and requests a hostile page or a local process
 * could send it, byte for byte over raw sockets. Each is refused in the error shape with its own
 * status, and the host goes on: a backup started before the attack finishes and seals its set, and a
 * plain call afterwards is answered.
 */

const temp = useTempDirs();
const serve = useServedHosts();

const MiB = 1024 * 1024;
/** Something that is not JSON even if it got through, so a refused call could never act on it. */
const PAD = Buffer.alloc(64 * 1024, 'x');

type Kind = 'call' | 'session' | 'events' | 'static' | 'unknown-api' | 'unknown-page';
interface Route {
  kind: Kind;
  path: string;
}

const builtAsset = readdirSync(path.join(ROOT, 'out', 'renderer', 'assets')).find((f) => f.endsWith('.js'));
const routes: Route[] = [
  ...Object.keys(api).map((m) => ({ kind: 'call' as const, path: `/api/call/${m}` })),
  { kind: 'session', path: '/api/session' },
  { kind: 'events', path: '/api/events' },
  { kind: 'static', path: '/' },
  { kind: 'static', path: '/index.html' },
  { kind: 'static', path: `/assets/${builtAsset}` },
  { kind: 'unknown-api', path: '/api/nothing' },
  { kind: 'unknown-api', path: '/api/call/' },
  { kind: 'unknown-api', path: '/api/call/env.delete' },
  { kind: 'unknown-page', path: '/nothing-here.js' },
];
const isPost = (r: Route) => r.kind === 'call' || r.kind === 'session' || r.kind === 'unknown-api';

interface Attack {
  name: string;
  /** The request's bytes, for a route, on a host, with a good session. */
  request(r: Route, port: number, secret: string): (Buffer | string)[];
  /** The status and code expected, per kind of route. */
  expect(r: Route): [number, string];
}

const hostHeader = (port: number): [string, string] => ['Host', `127.0.0.1:${port}`];
const jsonType: [string, string] = ['Content-Type', 'application/json'];
const session = (secret: string): [string, string] => ['X-Lifeboat-Session', secret];
/** The route's own method with a small JSON body (POST) or none (GET), and these headers. */
const plain = (r: Route, headers: [string, string][], body = '{}'): (Buffer | string)[] =>
  isPost(r) ? [head('POST', r.path, [...headers, ['Content-Length', String(Buffer.byteLength(body))]]), body] : [head('GET', r.path, headers)];
/** What a route answers a request that passed the gate but has no session. */
const unauthorised = (r: Route): [number, string] =>
  r.kind === 'call' || r.kind === 'events' ? [401, 'NO_SESSION'] : r.kind === 'unknown-api' ? (r.path === '/api/nothing' ? [404, 'NOT_FOUND'] : [401, 'NO_SESSION']) : [0, ''];

const attacks: Attack[] = [
  {
    name: 'no session',
    request: (r, port) => plain(r, [hostHeader(port), jsonType]),
    expect: unauthorised,
  },
  {
    name: 'a wrong session',
    request: (r, port, secret) => plain(r, [hostHeader(port), jsonType, session(`${secret.slice(0, -4)}AAAA`)]),
    expect: unauthorised,
  },
  {
    name: 'a foreign Host (DNS rebinding)',
    request: (r, port, secret) => plain(r, [['Host', `evil.example:${port}`], jsonType, session(secret)]),
    expect: () => [421, 'WRONG_HOST'],
  },
  {
    name: 'a Host without the port',
    request: (r, _port, secret) => plain(r, [['Host', '127.0.0.1'], jsonType, session(secret)]),
    expect: () => [421, 'WRONG_HOST'],
  },
  {
    name: 'a foreign Origin',
    request: (r, port, secret) => plain(r, [hostHeader(port), ['Origin', 'http://evil.example'], jsonType, session(secret)]),
    expect: () => [403, 'FOREIGN_ORIGIN'],
  },
  {
    name: 'an opaque Origin',
    request: (r, port, secret) => plain(r, [hostHeader(port), ['Origin', 'null'], jsonType, session(secret)]),
    expect: () => [403, 'FOREIGN_ORIGIN'],
  },
  ...['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain'].map((type): Attack => ({
    name: `a form post (${type})`,
    request: (r, port, secret) => [head('POST', r.path, [hostHeader(port), ['Content-Type', type], session(secret), ['Content-Length', '2']]), '{}'],
    expect: (r) => (isPost(r) ? [415, 'NOT_JSON'] : [405, 'BAD_REQUEST']),
  })),
  {
    name: 'no Host header',
    request: (r, _port, secret) => plain(r, [jsonType, session(secret)]),
    expect: () => [400, 'BAD_REQUEST'],
  },
  {
    name: 'HTTP/1.0 without a Host header',
    request: (r, _port, secret) => [head(isPost(r) ? 'POST' : 'GET', r.path, [jsonType, session(secret), ['Content-Length', '2']], 'HTTP/1.0'), '{}'],
    expect: () => [400, 'BAD_REQUEST'],
  },
  {
    name: 'a body of 2 MiB by Content-Length',
    request: (r, port, secret) => [head(isPost(r) ? 'POST' : 'GET', r.path, [hostHeader(port), jsonType, session(secret), ['Content-Length', String(2 * MiB)]]), PAD],
    expect: () => [413, 'TOO_LARGE'],
  },
  {
    name: 'a chunked body of 2 MiB without Content-Length',
    request: (r, port, secret) => [
      head(isPost(r) ? 'POST' : 'GET', r.path, [hostHeader(port), jsonType, session(secret), ['Transfer-Encoding', 'chunked']]),
      ...Array.from({ length: (2 * MiB) / PAD.length }, () => chunk(PAD)),
      LAST_CHUNK,
    ],
    // Read (and refused) only where a body is taken; elsewhere it is refused before a byte is read.
    expect: (r) =>
      r.kind === 'call' || r.kind === 'session' ? [413, 'TOO_LARGE'] : r.kind === 'unknown-api' ? (r.path === '/api/nothing' ? [404, 'NOT_FOUND'] : [404, 'UNKNOWN_METHOD']) : [400, 'BAD_REQUEST'],
  },
];

function refusal(label: string, a: RawAnswer): ErrorShape {
  expect(a.headers['content-type'], label).toBe('application/json; charset=utf-8');
  const body = JSON.parse(a.body) as { ok: unknown; error: unknown };
  expect(body.ok, label).toBe(false);
  const parsed = ErrorShape.safeParse(body.error);
  expect(parsed.success, `${label}: ${a.body}`).toBe(true);
  expect(parsed.data!.message.length, label).toBeGreaterThan(10);
  expect(parsed.data!.hint.length, label).toBeGreaterThan(10);
  expect(
    Object.keys(a.headers).filter((h) => h.startsWith('access-control-')),
    label,
  ).toEqual([]);
  return parsed.data!;
}

/** A served host with a session, and a backup that waits for the test's word before it can finish. */
async function prepared(): Promise<{
  host: ServedHost;
  secret: string;
  root: string;
  call: (method: string, args: unknown, job?: string) => Promise<{ ok: boolean; result?: unknown; error?: ErrorShape }>;
}> {
  const root = temp();
  const host = await serve({ args: ['--no-schedule'] });
  const res = await fetch(`${host.origin}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: host.token }) });
  const { secret } = (await res.json()) as { secret: string };
  const call = async (method: string, args: unknown, job?: string) => {
    const r = await fetch(`${host.origin}/api/call/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Lifeboat-Session': secret, ...(job ? { 'X-Lifeboat-Job': job } : {}) },
      body: JSON.stringify(args),
    });
    return (await r.json()) as { ok: boolean; result?: unknown; error?: ErrorShape };
  };
  mkdirSync(path.join(root, 'live'));
  // The dump command says it started, then waits until the gate file exists: a backup that is
  // provably running for as long as the attack takes, whatever the machine's speed.
  const dump = ['sh', '-c', 'touch "$1"; while [ ! -e "$2" ]; do sleep 0.05; done; echo "the gated output"', 'sh', path.join(root, 'started'), path.join(root, 'gate')];
  const environment = {
    name: 'prod',
    app: 'gated',
    protection: 'normal',
    location: path.join(root, 'sets'),
    sources: [{ kind: 'command', name: 'dump', dump: { argv: dump }, restore: { argv: ['sh', '-c', 'cat > /dev/null'] } }],
  };
  const saved = await call('env.save', { environment });
  expect(saved.ok, JSON.stringify(saved)).toBe(true);
  return { host, secret, root, call };
}

async function until(what: string, test: () => boolean): Promise<void> {
  const end = Date.now() + 60_000;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('web host attack table', () => {
  it('refuses every attack on every route in the error shape, and a backup running meanwhile still seals its set', async () => {
    const { host, secret, root, call } = await prepared();
    const running = call('backup.run', { env: 'gated/prod' }, 'backup-before-the-attack');
    await until('the backup to start its dump', () => existsSync(path.join(root, 'started')));

    /** One raw exchange, named in any failure. */
    const ask = async (label: string, pieces: Iterable<Buffer | string>) => {
      try {
        return await rawExchange(host.port, pieces);
      } catch (e) {
        throw new Error(`${label}: ${(e as Error).message}`, { cause: e });
      }
    };
    let count = 0;
    for (const r of routes) {
      for (const attack of attacks) {
        const [status, code] = attack.expect(r);
        if (status === 0) continue; // no session is needed there
        const label = `${attack.name} → ${r.path}`;
        const answer = await ask(label, attack.request(r, host.port, secret));
        expect([label, answer.status]).toEqual([label, status]);
        expect([label, refusal(label, answer).code]).toEqual([label, code]);
        count++;
      }
    }

    // The session exchange itself: a wrong token, a non-string token, and the used one again.
    const exchange = (body: string) => ask(body, [head('POST', '/api/session', [hostHeader(host.port), jsonType, ['Content-Length', String(Buffer.byteLength(body))]]), body]);
    for (const [body, status, code] of [
      [JSON.stringify({ token: 'guess' }), 401, 'NO_SESSION'],
      [JSON.stringify({ token: 42 }), 401, 'NO_SESSION'],
      [JSON.stringify({ token: host.token }), 410, 'TOKEN_USED'],
      ['{"token": ', 400, 'BAD_REQUEST'],
    ] as const) {
      const answer = await exchange(body);
      expect([body, answer.status]).toEqual([body, status]);
      expect([body, refusal(body, answer).code]).toEqual([body, code]);
    }

    // Bad percent-encoding in the address, with a good session.
    for (const p of ['/api/call/%E0%A4%A', '/api/call/env.list%zz', '/api/%zz', '/%zz', '/assets/%E0%A4%A.js', '/api/events%']) {
      const answer = await ask(
        p,
        p.startsWith('/api/') && !p.startsWith('/api/events')
          ? plain({ kind: 'call', path: p }, [hostHeader(host.port), jsonType, session(secret)])
          : [head('GET', p, [hostHeader(host.port), session(secret)])],
      );
      expect([p, answer.status]).toEqual([p, 400]);
      expect([p, refusal(p, answer).code]).toEqual([p, 'BAD_REQUEST']);
    }

    // Paths out of the built renderer: its neighbour out/cli.mjs, and the system's files.
    for (const p of [
      '/../cli.mjs',
      '/assets/../../cli.mjs',
      '/%2e%2e/cli.mjs',
      '/..%2fcli.mjs',
      '/assets%2f..%2f..%2fcli.mjs',
      '/..\\cli.mjs',
      '/%2e%2e%5ccli.mjs',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/%00',
      '/index.html%00.js',
      '/.',
      '/assets/.',
      `http://127.0.0.1:${host.port}/../cli.mjs`,
    ]) {
      const answer = await ask(p, [head('GET', p, [hostHeader(host.port)])]);
      expect([p, [400, 404].includes(answer.status)]).toEqual([p, true]);
      refusal(p, answer);
      expect(answer.body).not.toMatch(/import |root:/);
    }

    // A body on a page request, and a GET with a body to the event stream.
    for (const p of ['/', '/api/events']) {
      const answer = await ask(`body on ${p}`, [head('GET', p, [hostHeader(host.port), session(secret), ['Content-Length', '2']]), '{}']);
      expect([p, answer.status]).toEqual([p, 400]);
      expect(refusal(p, answer).code).toBe('BAD_REQUEST');
    }

    // A body that never ends, from a client that ignores the answer: refused at the limit, and the
    // connection cut once the host has thrown away DRAIN_LIMIT more, long before the client is done.
    const floodSize = 8 * (BODY_LIMIT + DRAIN_LIMIT);
    const flood = function* () {
      yield head('POST', '/api/session', [hostHeader(host.port), jsonType, ['Transfer-Encoding', 'chunked']]);
      for (let sent = 0; sent < floodSize; sent += PAD.length) yield chunk(PAD);
    };
    const flooded = await rawConnection(host.port, flood(), { untilClosed: true });
    expect(flooded.answer.status).toBe(413);
    expect(refusal('flood', flooded.answer).code).toBe('TOO_LARGE');
    expect(flooded.sentAll).toBe(false);
    expect(flooded.bytesSent).toBeLessThan(floodSize / 2);

    // Broken chunk framing, and a client that leaves half-way through its body.
    const broken = await ask('broken chunks', [head('POST', '/api/session', [hostHeader(host.port), jsonType, ['Transfer-Encoding', 'chunked']]), '5\r\n{"tok\r\nzz\r\n']);
    expect(broken.status).toBe(400);
    expect(refusal('broken chunks', broken).code).toBe('BAD_REQUEST');
    await new Promise<void>((resolve, reject) => {
      const socket = connect(host.port, '127.0.0.1', () => socket.end(`${head('POST', '/api/session', [hostHeader(host.port), jsonType, ['Content-Length', '100']])}{"token"`));
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });

    expect(count).toBeGreaterThan(Object.keys(api).length * attacks.length * 0.8);

    // Still up: the host process is alive, a plain call is answered, and the backup seals its set.
    const alive = await Promise.race([host.exited.then(() => false), call('env.list', {}).then((r) => r.ok)]);
    expect(alive, host.logs()).toBe(true);
    writeFileSync(path.join(root, 'gate'), '');
    const backup = await running;
    expect(backup.ok, JSON.stringify(backup)).toBe(true);
    const setId = (backup.result as { id: string }).id;
    expect(readdirSync(path.join(root, 'sets')).filter((n) => !n.startsWith('.'))).toEqual([setId]);
    expect(existsSync(path.join(root, 'sets', setId, 'manifest.json'))).toBe(true);
    expect(host.logs()).not.toMatch(/TypeError|Uncaught|at .*\.js:\d+/);
  });
});
