// Who may talk to the controller. Two bearer tokens, created at first start in <config-dir>/.tollgate/ with 0600
// permissions: the admin token (the CLI: apply, delete, get, status...) and the proxy join token (the discovery
// stream and its ACKs). A proxy token cannot change the configuration; an admin token cannot join as a proxy.
//
// Every request is checked in one place, `Authenticator.authenticate`, so that mesh mTLS can later replace the
// bootstrap token (a peer certificate's identity instead of a bearer token) without touching the routes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

import { type Role, STATE_DIR, tokenPath } from '../distribution/admin-api.js';

export { type Role, STATE_DIR, tokenPath } from '../distribution/admin-api.js';
const PREFIX: Readonly<Record<Role, string>> = { admin: 'tgadm_', proxy: 'tgprx_' };

export type AuthResult =
  | { readonly ok: true; readonly role: Role }
  /** 401: no credential or an unknown one; 403: a credential for the other role. */
  | { readonly ok: false; readonly status: 401 | 403; readonly error: string };

export interface Authenticator {
  /** Whether the request's credential grants `role`, and if not, a message that says where the right one is. */
  authenticate(req: http.IncomingMessage, role: Role): AuthResult;
}

/** Reads the tokens in `configDir`, creating those that are missing (0600, in a 0700 directory). */
export function loadOrCreateTokens(configDir: string): Record<Role, string> {
  const dir = path.join(configDir, STATE_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const read = (role: Role): string => {
    const file = tokenPath(configDir, role);
    try {
      fs.writeFileSync(file, `${PREFIX[role]}${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    fs.chmodSync(file, 0o600); // a copy made readable by others is closed again
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw new Error(`${file} holds no usable token; remove it and a new one is made at start`);
    return token;
  };
  return { admin: read('admin'), proxy: read('proxy') };
}

/** Bearer tokens compared in constant time (through their digests, so lengths leak nothing either). */
export class TokenAuthenticator implements Authenticator {
  private readonly digests: Record<Role, Buffer>;

  constructor(
    tokens: Record<Role, string>,
    private readonly configDir: string,
  ) {
    this.digests = { admin: digest(tokens.admin), proxy: digest(tokens.proxy) };
  }

  authenticate(req: http.IncomingMessage, role: Role): AuthResult {
    const where = `the ${role === 'admin' ? 'admin token' : 'proxy join token'} is in ${tokenPath(this.configDir, role)} on the controller's host`;
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!match)
      return { ok: false, status: 401, error: `missing credential: send "Authorization: Bearer <token>"; ${where}` };
    const presented = digest(match[1]!);
    if (timingSafeEqual(presented, this.digests[role])) return { ok: true, role };
    const other: Role = role === 'admin' ? 'proxy' : 'admin';
    if (timingSafeEqual(presented, this.digests[other]))
      return { ok: false, status: 403, error: `the ${other} token cannot be used here; ${where}` };
    return { ok: false, status: 401, error: `invalid credential; ${where}` };
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
