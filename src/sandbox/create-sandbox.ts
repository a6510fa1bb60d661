import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiRoute } from './api-route.js';
import { controlRoute } from './control-routes.js';
import type { Dataset, SandboxMessage } from './dataset.js';
import { sendJson } from './http-replies.js';
import { CDN_PATH } from './media-cdn.js';
import {
  resolveSandboxOptions,
  type SandboxOptions,
  type SandboxOverrides,
  type SandboxStats,
} from './sandbox-options.js';
import { SandboxState } from './sandbox-state.js';
import { refreshRoute } from './token-routes.js';
import type { WebhookSender } from './webhook-sender.js';

export {
  DEFAULT_SANDBOX_OPTIONS,
  resolveSandboxOptions,
  type RequestLogEntry,
  type SandboxOptions,
  type SandboxOverrides,
  type SandboxStats,
} from './sandbox-options.js';

/**
 * The Graph API sandbox: an HTTP server that behaves like graph.instagram.com's Conversations API as
 * src/graph/meta-api-facts.md describes it. It shares no code with the client on purpose. The options and their
 * defaults are in sandbox-options.ts, one account's world in sandbox-state.ts, and the routes in api-route.ts
 * (the Graph API), token-routes.ts (auth and refresh) and control-routes.ts (the test controls).
 */
export interface Sandbox {
  url: string;
  data: Dataset;
  options: SandboxOptions;
  stats: SandboxStats;
  /** Every token the sandbox accepts, with when it was issued (the first one, then each refreshed one). */
  tokens: Map<string, number>;
  /** The webhook deliveries made (when `webhook` is set); `flush()` waits for those in flight. */
  webhooks: WebhookSender | undefined;
  /** Adds `count` new messages at the top of a conversation ("time travel"); returns them newest first. */
  addMessages(conversationId: string, count: number): SandboxMessage[];
  resetStats(): void;
  close(): Promise<void>;
}
export async function createSandbox(overrides: SandboxOverrides = {}): Promise<Sandbox> {
  const options = resolveSandboxOptions(overrides);
  const state = new SandboxState(options);
  const server = createServer((req, res) => {
    route(state, req, res).catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    // A port in use is an error the caller reports, not an unhandled 'error' event.
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  state.listening(`http://${options.host}:${(server.address() as AddressInfo).port}`);
  return {
    url: state.url,
    data: state.data,
    options,
    get stats() {
      return state.stats;
    },
    tokens: state.tokens,
    webhooks: state.webhooks,
    addMessages: (conversationId, count) => state.addMessages(conversationId, count),
    resetStats: () => state.resetStats(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

async function route(state: SandboxState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const t = state.options.now();
  if (url.pathname === '/health') return sendJson(res, 200, { ok: true });
  if (url.pathname === '/refresh_access_token') return refreshRoute(state, req, res, url, t);
  if (url.pathname.startsWith(CDN_PATH)) {
    state.cdn.serve(req, res, url);
    state.stats.media = state.cdn.requests;
    return;
  }
  if (url.pathname.startsWith('/__sandbox/')) return controlRoute(state, req, res, url, t);
  return apiRoute(state, req, res, url, t);
}
