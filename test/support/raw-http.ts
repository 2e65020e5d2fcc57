import { connect, type Socket } from 'node:net';

/**
 * HTTP/1.1 over a plain socket, byte for byte as written: no client library to add a Host header,
 * normalise `..` out of a path, fix up percent-encoding or pick the body framing. The attacker's view.
 */

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** A request head: the request line and exactly these header lines, in this order. */
export function head(method: string, target: string, headers: [string, string][], version = 'HTTP/1.1'): string {
  return `${method} ${target} ${version}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** One chunk of a chunked body, framed. */
export function chunk(data: Buffer | string): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}

/** The last chunk of a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';

/** The first response in `got`, once whole (by its Content-Length, or up to the close when it has none). */
function parseAnswer(got: Buffer, closed: boolean): RawAnswer | null {
  const end = got.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = got.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = got.subarray(end + 4);
  const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
  if (length === null ? !closed : rest.length < length) return null;
  return { status, headers, body: rest.subarray(0, length ?? rest.length).toString('utf8') };
}

/** How a connection went: the first response, and how much of the request got out before the server cut it. */
export interface RawOutcome {
  answer: RawAnswer;
  bytesSent: number;
  /** Every piece was written before the connection ended. */
  sentAll: boolean;
}

/**
 * Sends the pieces in order (honouring the socket's back-pressure) and reads the first response.
 * By default it resolves as soon as that response is whole; with `untilClosed`, it goes on sending
 * after the answer, as a client that ignores it would, and resolves when the connection ends.
 * The server may stop reading or reset the connection while the pieces are still going out: what it
 * answered counts. Rejects only when the connection ends without a whole response.
 */
export function rawConnection(port: number, pieces: Iterable<Buffer | string>, opts: { untilClosed?: boolean } = {}): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    let settled = false;
    let bytesSent = 0;
    let sentAll = false;
    const finish = (answer: RawAnswer | null, why?: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (answer) resolve({ answer, bytesSent, sentAll });
      else reject(new Error(`${why}; received: ${JSON.stringify(got.toString('latin1').slice(0, 400))}`));
    };
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const answer = parseAnswer(got, false);
      if (answer && !opts.untilClosed) finish(answer);
    });
    socket.on('close', () => finish(parseAnswer(got, true), 'the connection closed before a whole response'));
    // A write refused because the server closed its side is expected; the read side decides.
    socket.on('error', () => undefined);
    socket.once('connect', async () => {
      for (const piece of pieces) {
        // Between pieces the loop lets the answer in: a socket written in one synchronous run (the
        // kernel takes every write at once on loopback) would never read what came back meanwhile.
        await new Promise((r) => setImmediate(r));
        if (settled || socket.destroyed) return;
        const ok = socket.write(piece);
        bytesSent += Buffer.byteLength(piece);
        if (!ok) {
          await new Promise<void>((r) => {
            socket.once('drain', r);
            socket.once('close', r);
          });
        }
      }
      if (!socket.destroyed) sentAll = true;
    });
  });
}

/** `rawConnection`'s first response, for the common case. */
export async function rawExchange(port: number, pieces: Iterable<Buffer | string>): Promise<RawAnswer> {
  return (await rawConnection(port, pieces)).answer;
}
