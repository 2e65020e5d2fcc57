import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode, ErrorShape } from '../shared/errors.js';

/**
 * The web host's gate: every request passes these checks before any work, and every refusal is
 * answered in the contract's error shape. A page of another site can reach 127.0.0.1 from the
 * operator's browser, so the host trusts nothing it did not hand out itself.
 */

/** Sent on every response, refusals included: no sniffing, no framing, no referrer, no CORS. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** A refusal: the HTTP status and the error shape the body carries. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly message: string,
    readonly hint: string,
  ) {}

  get shape(): ErrorShape {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

/** Writes a JSON answer with the security headers; `no-store` so no answer is ever cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

/** Answers a refusal in the bridge's `Outcome` shape. */
export function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  sendJson(res, refusal.status, { ok: false, error: refusal.shape });
}

/** The answer to a request Node could not even parse (bad header bytes, oversized headers), for a raw socket. */
export function rawRefusal(status: 400 | 431, message: string): string {
  const body = JSON.stringify({ ok: false, error: { code: 'BAD_REQUEST', message, hint: 'Reload the page from the address `lifeboat serve` printed.' } });
  const reason = status === 400 ? 'Bad Request' : 'Request Header Fields Too Large';
  const headers = Object.entries(SECURITY_HEADERS)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`;
}

/** The host names a browser on this machine uses for us; anything else may be DNS rebinding. */
export function checkHostAndOrigin(req: IncomingMessage, port: number): Refusal | null {
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!req.headers.host) {
    return new Refusal(
      400,
      'BAD_REQUEST',
      'The request names no host (it has no Host header), so the web host cannot tell who it is for.',
      `Open the address that \`lifeboat serve\` printed (http://127.0.0.1:${port}/…) in a browser, which sends the Host header.`,
    );
  }
  const host = req.headers.host.toLowerCase();
  if (!allowed.includes(host)) {
    return new Refusal(
      421,
      'WRONG_HOST',
      `This Lifeboat web host answers only to 127.0.0.1:${port} or localhost:${port}, not to "${host.slice(0, 100)}".`,
      `Open the address that \`lifeboat serve\` printed (http://127.0.0.1:${port}/…).`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowed.some((h) => origin.toLowerCase() === `http://${h}`)) {
    return new Refusal(
      403,
      'FOREIGN_ORIGIN',
      `A request from the page ${origin.slice(0, 100)} was refused: only Lifeboat's own page may call it.`,
      'Use Lifeboat from the address `lifeboat serve` printed; other sites cannot reach your backups.',
    );
  }
  return null;
}

/** Form posts (urlencoded, multipart, text/plain) need no preflight from a foreign page: only JSON is taken. */
export function checkJsonBody(req: IncomingMessage): Refusal | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return null;
  return new Refusal(415, 'NOT_JSON', `Requests must be JSON (Content-Type: application/json), not "${type.slice(0, 100) || 'none'}".`, "Call the web host through Lifeboat's page, which sends JSON.");
}

/** The most a request body may hold; environments and arguments are small. */
export const BODY_LIMIT = 1024 * 1024;

const tooLarge = () => new Refusal(413, 'TOO_LARGE', `The request is larger than ${BODY_LIMIT} bytes.`, 'Send a smaller request; arguments of Lifeboat calls are small.');

/**
 * Checked on every request before any route: a declared body over the limit is refused at once, and
 * a page or stream request (GET, HEAD) carries no body at all, so none is ever read for it.
 */
export function checkBody(req: IncomingMessage): Refusal | null {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > BODY_LIMIT) return tooLarge();
  const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && (req.method === 'GET' || req.method === 'HEAD')) {
    return new Refusal(
      400,
      'BAD_REQUEST',
      `A ${req.method} request carries no body, and this one has one.`,
      "Open Lifeboat's pages from the address `lifeboat serve` printed; calls go to /api/call/<method> as POST.",
    );
  }
  return null;
}

/**
 * Reads a JSON body up to `BODY_LIMIT`, counting what arrives (a chunked body declares no length).
 * Over the limit it stops reading without tearing the connection down, so the refusal can still be
 * answered; `drainThenClose` deals with the rest.
 */
export function readJson(req: IncomingMessage): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        stop();
        req.pause();
        return reject(tooLarge());
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new Refusal(400, 'BAD_REQUEST', `The request body is not valid JSON: ${(e as Error).message}.`, 'Send the arguments as one JSON object.'));
      }
    };
    // The client left (or its framing was broken) before the body ended.
    const onClose = () => {
      stop();
      reject(new Refusal(400, 'BAD_REQUEST', 'The request body ended before it was complete.', 'Send the request again.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/** How much more of a refused body is read and thrown away, and for how long, before the connection is cut. */
export const DRAIN_LIMIT = 8 * BODY_LIMIT;
export const DRAIN_MS = 10_000;

/**
 * After an answer to a request whose body was not (all) read: reads on and discards what the client
 * still sends, up to `DRAIN_LIMIT` bytes or `DRAIN_MS`, then cuts the connection. Cutting it at once
 * would reset it while the client is still sending, and the client might never see the answer;
 * reading on without a bound would let one request occupy the host forever.
 * `socket` is the request's, taken when it arrived: by the time the answer is sent, Node has let go of it.
 */
export function drainThenClose(req: IncomingMessage, socket: Socket): void {
  if (req.complete || socket.destroyed) return;
  let drained = 0;
  const cut = () => {
    clearTimeout(timer);
    req.off('data', onData);
    socket.destroy();
  };
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT) cut();
  };
  req.on('data', onData);
  req.once('end', () => {
    clearTimeout(timer);
    req.off('data', onData);
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** A part of the address decoded, or a refusal when its percent-encoding is broken. */
export function decodePart(part: string): string | Refusal {
  try {
    return decodeURIComponent(part);
  } catch {
    return new Refusal(
      400,
      'BAD_REQUEST',
      'The address is not validly encoded (a stray or broken % sequence).',
      'Open the address `lifeboat serve` printed, or call /api/call/<method> with the method name as written in the contract.',
    );
  }
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A secret held only as its hash, compared in constant time whatever the length of the guess. */
export class Secret {
  private readonly hash: Buffer;
  constructor(readonly value: string = randomBytes(32).toString('base64url')) {
    this.hash = digest(value);
  }

  matches(guess: unknown): boolean {
    return typeof guess === 'string' && timingSafeEqual(this.hash, digest(guess));
  }
}

/** A job name as the engine will see it: short and plain, so it can be shown and logged safely. */
export function jobHeader(req: IncomingMessage): string | undefined | Refusal {
  const raw = req.headers['x-lifeboat-job'];
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(raw)) return raw;
  return new Refusal(400, 'BAD_REQUEST', 'The X-Lifeboat-Job header must be 1 to 100 letters, digits, dots, dashes, colons or underscores.', 'Give each call a plain job name such as backup-1.');
}
