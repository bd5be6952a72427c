/**
 * The security headers every answer carries, through helmet (the maintained set of current best practice):
 * no framing by other sites (frame-ancestors and X-Frame-Options), no MIME sniffing, no referrer beyond this
 * origin, the opener isolated, HSTS when the server is reached over https. The package's and plugins' pages
 * also get a strict Content-Security-Policy: scripts and everything else only from this server, nothing inline
 * but styles, so that a value shown on a page can never become code. The home's own pages in the database's
 * static/ folder are the household's: they may run inline scripts, but are not framed either.
 */
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

const STRICT = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'self'"],
  // A home server is often reached over plain http on the home network: upgrading requests would break it.
  upgradeInsecureRequests: null,
};

/** For the household's own pages: only the framing rule. */
export const HOME_PAGES_CSP = "frame-ancestors 'self'";

export function securityHeaders(https: boolean): (req: IncomingMessage, res: ServerResponse) => void {
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: STRICT },
    strictTransportSecurity: https ? { maxAge: 180 * 24 * 3600 } : false,
    xFrameOptions: { action: 'sameorigin' },
    referrerPolicy: { policy: 'same-origin' },
  });
  return (req, res) => middleware(req, res, () => {});
}
