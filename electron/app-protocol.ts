import { protocol } from 'electron';
import { rendererResponse } from './web-static.js';
import { APP_SCHEME, mayNavigate } from './window-options.js';

/**
 * Lifeboat's own scheme for the renderer: a standard, secure origin (so the CSP header, fetch and
 * storage behave as on the web) instead of file://, which would open the whole disk to the page.
 */
export function registerAppScheme(): void {
  // Must run before the app is ready.
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);
}

/** Serves the built renderer at `lifeboat://app/…`; any other host of the scheme is not found. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    if (!mayNavigate(request.url) || request.method !== 'GET') return new Response(null, { status: 404 });
    return rendererResponse(rendererDir, url.pathname);
  });
}
