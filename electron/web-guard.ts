import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  const headers = Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`;
}

/** The host names a browser on this machine uses for us; anything else may be DNS rebinding. */
export function checkHostAndOrigin(req: IncomingMessage, port: number): Refusal | null {
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`];
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowed.includes(host)) {
    return new Refusal(421, 'WRONG_HOST', `This Lifeboat web host answers only to 127.0.0.1:${port} or localhost:${port}, not to "${host.slice(0, 100)}".`, `Open the address that \`lifeboat serve\` printed (http://127.0.0.1:${port}/…).`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowed.some((h) => origin.toLowerCase() === `http://${h}`)) {
    return new Refusal(403, 'FOREIGN_ORIGIN', `A request from the page ${origin.slice(0, 100)} was refused: only Lifeboat's own page may call it.`, 'Use Lifeboat from the address `lifeboat serve` printed; other sites cannot reach your backups.');
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

/** Reads a JSON body up to `BODY_LIMIT`; a larger or unparsable body is refused. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = new Refusal(413, 'TOO_LARGE', `The request is larger than ${BODY_LIMIT} bytes.`, 'Send a smaller request; arguments of Lifeboat calls are small.');
  if (declared > BODY_LIMIT) throw tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw tooLarge;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Refusal(400, 'BAD_REQUEST', `The request body is not valid JSON: ${(e as Error).message}.`, 'Send the arguments as one JSON object.');
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
