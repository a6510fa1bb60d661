import { AbortError } from 'p-retry';
import { classifyFailure } from '../classify.js';
import { GraphConfigError, GraphRequestError } from '../errors.js';
import { stripAccessToken } from '../redact.js';
import type { ClientMetrics } from './call-metrics.js';
import type { Send, Wire } from './send-chain.js';

/** A URL as messages show it: path and query, never the token. */
export function describeUrl(url: URL): string {
  const clean = stripAccessToken(url);
  return `${clean.pathname}${clean.search}`;
}

/**
 * The innermost step: one attempt on the wire, its reply turned into the body or a classified GraphRequestError
 * (classified by the JSON `error.code`/`error_subcode`/`is_transient`, not by the HTTP status alone).
 */
export function graphReply(
  wire: Wire,
  origin: string,
  metrics: ClientMetrics,
  throttleCodesSeen: Set<number>,
): Send {
  return async (call) => {
    const url = call.build(call.page?.limit ?? 0);
    const result = await wire(call.endpoint, url, call.method).catch((e: unknown) => {
      throw e instanceof GraphConfigError ? new AbortError(e) : e;
    });
    if (result.ok) return result.body;
    const classification = classifyFailure(result.facts);
    metrics.failures[classification.reason] = (metrics.failures[classification.reason] ?? 0) + 1;
    if (classification.kind === 'throttled') {
      metrics.throttles++;
      throttleCodesSeen.add(result.facts.error?.code ?? result.facts.status ?? 0);
    }
    throw new GraphRequestError(
      classification,
      call.method,
      describeUrl(url),
      result.facts.status,
      result.facts.error,
      {
        cause: result.cause,
        origin,
        networkCode: result.facts.networkCode ?? result.facts.network,
        facts: result.facts,
      },
    );
  };
}
