import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-replies.js';
import type { SandboxState } from './sandbox-state.js';

/** `/__sandbox/…`: the test and demo controls (stats, adding messages). Not part of Meta's API. */
export async function controlRoute(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  t: number,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  state.log({
    t,
    method: req.method ?? 'GET',
    path: url.pathname,
    endpoint: 'control',
    status: 200,
    throttled: false,
    duringBlock: false,
  });
  if (url.pathname === '/__sandbox/stats' && req.method === 'GET') {
    return sendJson(res, 200, { ...state.stats, requests: state.stats.requests.length });
  }
  if (url.pathname === '/__sandbox/add-messages' && req.method === 'POST') {
    const body = (raw === '' ? {} : JSON.parse(raw)) as { conversation_id?: string; count?: number };
    const target = body.conversation_id ?? state.data.conversations[0]?.id;
    if (target === undefined) return sendJson(res, 400, { error: 'no conversations' });
    try {
      const added = state.addMessages(target, body.count ?? 1);
      return sendJson(res, 200, { conversation_id: target, added: added.map((m) => m.id) });
    } catch (e) {
      return sendJson(res, 404, { error: (e as Error).message });
    }
  }
  return sendJson(res, 404, { error: `unknown control endpoint ${req.method ?? ''} ${url.pathname}` });
}
