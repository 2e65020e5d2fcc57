import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, type MethodName } from '../../shared/api.js';
import { ErrorShape } from '../../shared/errors.js';
import { startWebHost, type WebHost } from '../../electron/web.js';
import { fileSha, makeAppDb, makeLiveData, treeFingerprint } from '../support/data.js';
import { demoEnvironment } from '../support/engine.js';
import { useTempDirs } from '../support/tools.js';

const temp = useTempDirs();
const hosts: WebHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Every answer any test got, so that one check can say no response carried a CORS header. */
const answers: Answer[] = [];

/** One HTTP request with exactly the headers given (Host included), as a browser or an attacker could send. */
function send(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: { Host: `127.0.0.1:${port}`, ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const answer = { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
        answers.push(answer);
        resolve(answer);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The refusal's error, checked against the contract's error shape. */
function refusal(a: Answer): ErrorShape {
  const body = JSON.parse(a.text) as { ok: boolean; error: unknown };
  expect(body.ok).toBe(false);
  const parsed = ErrorShape.safeParse(body.error);
  expect(parsed.success, a.text).toBe(true);
  expect(parsed.data!.message.length).toBeGreaterThan(10);
  expect(parsed.data!.hint.length).toBeGreaterThan(10);
  return parsed.data!;
}

const json = { 'Content-Type': 'application/json' };

/**
 * A web host over a real environment with live data and one sealed set, and its session: the
 * state a refused request must leave exactly as it was.
 */
async function prepared() {
  const root = temp();
  makeLiveData(root, { rows: 300 });
  const rendererDir = path.join(root, 'renderer');
  mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeboat</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("lifeboat");');
  writeFileSync(path.join(rendererDir, 'assets', 'app.css'), 'body { margin: 0 }');
  writeFileSync(path.join(root, 'secret.txt'), 'TOP SECRET outside the renderer');
  symlinkSync(root, path.join(rendererDir, 'link-out'));

  const host = await startWebHost({ home: path.join(root, 'home'), rendererDir, heartbeatMs: 200 });
  hosts.push(host);
  const token = new URL(host.url).hash.replace('#token=', '');
  const session = await send(host.port, { method: 'POST', path: '/api/session', headers: json, body: JSON.stringify({ token }) });
  expect(session.status).toBe(200);
  const secret = (JSON.parse(session.text) as { secret: string }).secret;
  const call = async (method: string, args: unknown, headers: Record<string, string> = {}) => {
    const a = await send(host.port, { method: 'POST', path: `/api/call/${method}`, headers: { ...json, 'X-Lifeboat-Session': secret, ...headers }, body: JSON.stringify(args) });
    return { answer: a, body: JSON.parse(a.text) as { ok: boolean; result?: any; error?: ErrorShape } }; // eslint-disable-line @typescript-eslint/no-explicit-any -- results vary by method; tests read fields they know
  };
  expect((await call('env.save', { environment: demoEnvironment(root) })).body.ok).toBe(true);
  const backup = await call('backup.run', { env: 'prod' });
  expect(backup.body.ok, backup.answer.text).toBe(true);
  const setId = backup.body.result.id as string;

  /** What an operator would check: the sets on disk, the environments, the activity log, the live data. */
  const state = async () => ({
    sets: readdirSync(path.join(root, 'sets')).sort(),
    environments: (await call('env.list', {})).body.result.map((e: { key: string }) => e.key),
    activity: (await call('activity.list', { limit: 10000 })).body.result,
    db: fileSha(path.join(root, 'live', 'shop.db')),
    assets: treeFingerprint(path.join(root, 'live', 'assets')),
  });
  return { root, host, port: host.port, token, secret, call, setId, state };
}

/** Arguments that would change something if a refused request got through. */
function harmfulArgs(root: string, setId: string): Record<string, unknown> {
  return {
    'env.save': { environment: { ...demoEnvironment(root), name: 'evil' } },
    'backup.run': { env: 'prod' },
    'drill.run': { env: 'prod', set: setId },
    'restore.preview': { env: 'prod', set: setId },
    'restore.run': { env: 'prod', set: setId, confirm: 'prod' },
    'catalog.rebuild': { locations: [path.join(root, 'sets')] },
    'activity.list': {},
    'job.cancel': { job: 'anything' },
  };
}

const methods = Object.keys(api) as MethodName[];

describe('web host: every contract method refuses a request that is not from our page, and does nothing', () => {
  it('covers the whole contract', () => {
    expect(methods.length).toBeGreaterThanOrEqual(11);
  });

  it('refuses no session, a wrong session, a foreign Host, a foreign Origin and form posts for every method', async () => {
    const t = await prepared();
    const before = await t.state();
    const args = harmfulArgs(t.root, t.setId);
    const cases: { name: string; status: number; code: string; headers: Record<string, string> }[] = [
      { name: 'no session', status: 401, code: 'NO_SESSION', headers: { ...json } },
      { name: 'wrong session', status: 401, code: 'NO_SESSION', headers: { ...json, 'X-Lifeboat-Session': `${t.secret.slice(0, -4)}AAAA` } },
      { name: 'the token as session', status: 401, code: 'NO_SESSION', headers: { ...json, 'X-Lifeboat-Session': t.token } },
      { name: 'foreign Host', status: 421, code: 'WRONG_HOST', headers: { ...json, 'X-Lifeboat-Session': t.secret, Host: `evil.example:${t.port}` } },
      { name: 'foreign Origin', status: 403, code: 'FOREIGN_ORIGIN', headers: { ...json, 'X-Lifeboat-Session': t.secret, Origin: 'http://evil.example' } },
      { name: 'opaque Origin', status: 403, code: 'FOREIGN_ORIGIN', headers: { ...json, 'X-Lifeboat-Session': t.secret, Origin: 'null' } },
      { name: 'text/plain form post', status: 415, code: 'NOT_JSON', headers: { 'Content-Type': 'text/plain', 'X-Lifeboat-Session': t.secret } },
      { name: 'urlencoded form post', status: 415, code: 'NOT_JSON', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Lifeboat-Session': t.secret } },
      { name: 'foreign form post as a browser sends it', status: 403, code: 'FOREIGN_ORIGIN', headers: { 'Content-Type': 'text/plain', Origin: 'http://evil.example' } },
    ];
    for (const method of methods) {
      for (const c of cases) {
        const a = await send(t.port, { method: 'POST', path: `/api/call/${method}`, headers: c.headers, body: JSON.stringify(args[method] ?? { env: 'prod' }) });
        expect([method, c.name, a.status]).toEqual([method, c.name, c.status]);
        expect([method, c.name, refusal(a).code]).toEqual([method, c.name, c.code]);
      }
    }
    // Nothing was written: no set, no environment, not a line of activity, live data as it was.
    expect(await t.state()).toEqual(before);
    // And the host still works for its own page.
    expect((await t.call('sets.list', { env: 'prod' })).body.result.map((s: { id: string }) => s.id)).toEqual([t.setId]);
  });

  it('answers 404 with the error shape for a name outside the contract, even one on every object', async () => {
    const t = await prepared();
    for (const name of ['env.delete', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const { answer } = await t.call(name, {});
      expect([name, answer.status]).toEqual([name, 404]);
      expect(refusal(answer).code).toBe('UNKNOWN_METHOD');
    }
  });

  it('gives the token once, and never for a wrong guess', async () => {
    const root = temp();
    const host = await startWebHost({ home: path.join(root, 'home'), rendererDir: root });
    hosts.push(host);
    const token = new URL(host.url).hash.replace('#token=', '');
    const exchange = (body: unknown, headers: Record<string, string> = json) => send(host.port, { method: 'POST', path: '/api/session', headers, body: JSON.stringify(body) });
    expect(refusal(await exchange({ token: token.slice(1) })).code).toBe('NO_SESSION');
    expect(refusal(await exchange({ token: 42 })).code).toBe('NO_SESSION');
    expect((await exchange({ token }, { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await exchange({ token }, { ...json, Origin: 'http://evil.example' })).status).toBe(403);
    const first = await exchange({ token });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    // The same address again (a new tab, a restarted browser): told apart from a wrong token, so
    // the page can say the address was used rather than look like Lifeboat with no data.
    const second = await exchange({ token });
    expect(second.status).toBe(410);
    const used = refusal(second);
    expect(used.code).toBe('TOKEN_USED');
    expect(used.message).toContain('already used');
    expect(used.hint).toContain('start it again');
    expect(JSON.parse(second.text)).not.toHaveProperty('secret');
    // A wrong token stays a wrong token after the exchange.
    const wrong = await exchange({ token: `${token.slice(0, -2)}AA` });
    expect([wrong.status, refusal(wrong).code]).toEqual([401, 'NO_SESSION']);
  });

  it('answers a malformed request with 400 and keeps serving; oversized bodies get 413, odd job names 400', async () => {
    const t = await prepared();
    const before = await t.state();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(t.port, '127.0.0.1', () => socket.write(`POST /api/call/backup.run HTTP/1.1\r\nHost: 127.0.0.1:${t.port}\r\nBad Header: yes\r\nContent-Length: 2\r\n\r\n{}`));
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).not.toMatch(/access-control-/i);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code).toBe('BAD_REQUEST');

    const big = await send(t.port, {
      method: 'POST',
      path: '/api/call/env.save',
      headers: { ...json, 'X-Lifeboat-Session': t.secret },
      body: JSON.stringify({ environment: { name: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    expect(big.status).toBe(413);
    expect(refusal(big).code).toBe('TOO_LARGE');
    const badJob = await t.call('backup.run', { env: 'prod' }, { 'X-Lifeboat-Job': 'a b/../c' });
    expect(badJob.answer.status).toBe(400);
    expect(refusal(badJob.answer).code).toBe('BAD_REQUEST');
    const notJson = await send(t.port, { method: 'POST', path: '/api/call/backup.run', headers: { ...json, 'X-Lifeboat-Session': t.secret }, body: '{"env": ' });
    expect(notJson.status).toBe(400);
    expect(refusal(notJson).code).toBe('BAD_REQUEST');
    expect((await send(t.port, { method: 'GET', path: '/api/call/env.list', headers: { 'X-Lifeboat-Session': t.secret } })).status).toBe(405);

    expect(await t.state()).toEqual(before);
  });

  it('serves only the renderer folder, with content types and the security headers; a rebound name reads nothing', async () => {
    const t = await prepared();
    const index = await send(t.port, { path: '/' });
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.text).toContain('/assets/app.js');
    expect(index.headers['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect((await send(t.port, { path: '/assets/app.js' })).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await send(t.port, { path: '/assets/app.css?v=1' })).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await send(t.port, { path: '/index.html', headers: { Host: `localhost:${t.port}` } })).status).toBe(200);

    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets%2f..%2f..%2fsecret.txt',
      '/link-out/secret.txt',
      '/%00',
      '/..\\secret.txt',
      '/nothing-here.js',
    ]) {
      const a = await send(t.port, { path: p });
      expect([p, a.status === 400 || a.status === 404]).toEqual([p, true]);
      expect(a.text).not.toContain('TOP SECRET');
      refusal(a);
    }
    const rebound = await send(t.port, { path: '/', headers: { Host: `evil.example:${t.port}` } });
    expect(rebound.status).toBe(421);
    expect(rebound.text).not.toContain('app.js');
    expect((await send(t.port, { path: '/', headers: { Host: '127.0.0.1' } })).status).toBe(421);
    expect((await send(t.port, { method: 'POST', path: '/', headers: json, body: '{}' })).status).toBe(405);
  });

  it('refuses the event stream without the session or from a foreign name', async () => {
    const t = await prepared();
    expect(refusal(await send(t.port, { path: '/api/events' })).code).toBe('NO_SESSION');
    expect(refusal(await send(t.port, { path: '/api/events', headers: { 'X-Lifeboat-Session': 'guess' } })).code).toBe('NO_SESSION');
    expect(refusal(await send(t.port, { path: '/api/events', headers: { 'X-Lifeboat-Session': t.secret, Host: `evil.example:${t.port}` } })).code).toBe('WRONG_HOST');
    expect(refusal(await send(t.port, { path: '/api/events', headers: { 'X-Lifeboat-Session': t.secret, Origin: 'http://evil.example' } })).code).toBe('FOREIGN_ORIGIN');
  });

  it('answers a CORS preflight with a refusal and no Access-Control header', async () => {
    const t = await prepared();
    const pre = await send(t.port, {
      method: 'OPTIONS',
      path: '/api/call/backup.run',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-lifeboat-session' },
    });
    expect(pre.status).toBe(403);
    const own = await send(t.port, { method: 'OPTIONS', path: '/api/call/backup.run', headers: { Origin: `http://127.0.0.1:${t.port}`, 'Access-Control-Request-Method': 'POST' } });
    expect(own.status).toBe(405);
    // Every answer any test in this file got:
    expect(answers.length).toBeGreaterThan(5);
    expect(answers.filter((a) => Object.keys(a.headers).some((h) => h.startsWith('access-control-')))).toEqual([]);
  });
});

describe('web host: a real round trip', () => {
  it('session → env.save → backup.run with a job → progress on /api/events → result; and job.cancel stops a named backup', async () => {
    const t = await prepared();
    makeAppDb(path.join(t.root, 'live', 'big.db'), { rows: 100_000 });
    expect((await t.call('env.save', { environment: { ...demoEnvironment(t.root), name: 'big', sources: [{ kind: 'sqlite', name: 'db', path: path.join(t.root, 'live', 'big.db') }] } })).body.ok).toBe(
      true,
    );

    const stream = new AbortController();
    const res = await fetch(`http://127.0.0.1:${t.port}/api/events`, { headers: { 'X-Lifeboat-Session': t.secret }, signal: stream.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const frames: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const parts = buffer.split('\n\n');
        buffer = parts.pop()!;
        frames.push(...parts);
      }
    })().catch(() => undefined);
    const events = () =>
      frames.filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)) as { type: string; job?: string; env?: string | null; progress?: { operation: string; bytesDone: number } });

    const done = await t.call('backup.run', { env: 'shop/prod' }, { 'X-Lifeboat-Job': 'web-backup-1' });
    expect(done.body.ok, done.answer.text).toBe(true);
    expect(readdirSync(path.join(t.root, 'sets'))).toContain(done.body.result.id);
    await expect.poll(() => events().some((e) => e.type === 'changed' && e.env === 'shop/prod')).toBe(true);
    const progress = events().filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((e) => e.job === 'web-backup-1' && e.progress!.operation === 'backup')).toBe(true);
    // Heartbeats keep an idle stream visibly alive.
    await expect.poll(() => frames.some((f) => f.startsWith(': alive'))).toBe(true);

    // A named job is cancelled through job.cancel as soon as its first progress event arrives.
    const seen = events().length;
    const cancelledRun = t.call('backup.run', { env: 'big' }, { 'X-Lifeboat-Job': 'web-backup-2' });
    await expect
      .poll(
        () =>
          events()
            .slice(seen)
            .some((e) => e.type === 'progress' && e.job === 'web-backup-2'),
        { timeout: 30_000 },
      )
      .toBe(true);
    const cancel = await t.call('job.cancel', { job: 'web-backup-2' });
    const outcome = (await cancelledRun).body;
    expect(cancel.body.result).toEqual({ cancelled: true });
    expect(outcome.ok).toBe(false);
    expect(outcome.error!.code).toBe('CANCELLED');
    expect(readdirSync(path.join(t.root, 'sets')).filter((n) => n.startsWith('shop_big_'))).toEqual([]);
    const activity = (await t.call('activity.list', { limit: 5 })).body.result as { action: string; door: string }[];
    expect(activity.filter((a) => a.action === 'backup').every((a) => a.door === 'web')).toBe(true);
    stream.abort();
    await reading;
  });
});
