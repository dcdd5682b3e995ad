// What the controller's clients (the CLI, proxies) and the controller agree on besides the discovery messages:
// where the controller keeps its credentials, and how large a request body may be.
import path from 'node:path';

export type Role = 'admin' | 'proxy';

/** The controller's state folder inside the config directory: tokens, the last good record, the mesh CA. */
export const STATE_DIR = '.tollgate';
export const TOKEN_FILES: Readonly<Record<Role, string>> = { admin: 'admin-token', proxy: 'proxy-token' };

export function tokenPath(configDir: string, role: Role): string {
  return path.join(configDir, STATE_DIR, TOKEN_FILES[role]);
}

/** What a request body may hold, per endpoint: configuration uploads are large, protocol messages small. */
export const BODY_LIMITS = { admin: 16 * 1024 * 1024, protocol: 1024 * 1024 } as const;
