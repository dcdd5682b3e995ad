// The controller's HTTP server as `tollgate controller` runs it, for tests: with the tokens of its config dir.
import { startAdminServer, type AdminServer } from '../admin-server.js';
import type { Controller } from '../controller.js';
import { loadOrCreateTokens, type Role, TokenAuthenticator } from '../credentials.js';

export async function serve(
  controller: Controller,
  port = 0,
): Promise<{ admin: AdminServer; tokens: Record<Role, string> }> {
  const dir = controller.configDir;
  const tokens = loadOrCreateTokens(dir);
  const admin = await startAdminServer(controller, {
    listen: { host: '127.0.0.1', port },
    auth: new TokenAuthenticator(tokens, dir),
  });
  return { admin, tokens };
}
