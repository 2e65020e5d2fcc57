import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { Refusal, SECURITY_HEADERS, sendRefusal } from './web-guard.js';

/** Content types of what a Vite build writes; anything else is sent as opaque bytes. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Shown at `/` when the renderer has not been built, so the operator knows the one step missing. */
const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lifeboat</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1>Lifeboat's screens are not built yet</h1>
<p>The web host is running, but the folder of the built renderer has no <code>index.html</code>.</p>
<p>Run <code>npm run build</code> in Lifeboat's folder, then start <code>lifeboat serve</code> again and open the address it prints.</p>
</body></html>
`;

const notFound = (what: string) => new Refusal(404, 'NOT_FOUND', `There is no ${what} here.`, 'Open the address `lifeboat serve` printed.');

/**
 * The file under `root` a URL path names, or a refusal: decoded once, and refused when any segment
 * is `..`, holds a separator or a NUL, or when the file (after links) lies outside `root`.
 */
export async function resolveStatic(root: string, urlPath: string): Promise<string | Refusal> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return new Refusal(400, 'BAD_REQUEST', 'The address is not validly encoded.', 'Open the address `lifeboat serve` printed.');
  }
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0') || s.includes(':'))) {
    return new Refusal(400, 'BAD_REQUEST', "The address names a file outside Lifeboat's screens.", 'Open the address `lifeboat serve` printed.');
  }
  if (segments.length === 0) segments.push('index.html');
  let realRoot: string;
  let real: string;
  try {
    realRoot = await fs.realpath(root);
    real = await fs.realpath(path.join(root, ...segments));
  } catch {
    return notFound(`file ${segments.join('/')}`);
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return notFound(`file ${segments.join('/')}`);
  const st = await fs.stat(real);
  if (!st.isFile()) return notFound(`file ${segments.join('/')}`);
  return real;
}

/** Serves a GET or HEAD of the renderer's files, or the "not built" page at `/`. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, urlPath: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendRefusal(res, new Refusal(405, 'BAD_REQUEST', `${req.method} is not used for Lifeboat's pages.`, 'Calls go to /api/call/<method> as POST.'));
  }
  const file = await resolveStatic(root, urlPath);
  if (file instanceof Refusal) {
    if (file.status === 404 && (urlPath === '/' || urlPath === '/index.html')) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
      return;
    }
    return sendRefusal(res, file);
  }
  const st = await fs.stat(file);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': st.size,
    'Cache-Control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * The same files as a fetch `Response`, for the desktop app's `lifeboat://app/` scheme: same
 * traversal rules, content types, "not built" page and security headers (CSP included) as the web host.
 */
export async function rendererResponse(root: string, urlPath: string): Promise<Response> {
  const file = await resolveStatic(root, urlPath);
  if (file instanceof Refusal) {
    if (file.status === 404 && (urlPath === '/' || urlPath === '/index.html')) {
      return new Response(NOT_BUILT, { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' } });
    }
    return new Response(JSON.stringify({ ok: false, error: file.shape }), { status: file.status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' } });
  }
  return new Response(await fs.readFile(file), { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' } });
}
