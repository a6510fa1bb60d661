import { createPrng, deriveSeed, type Prng } from './prng.js';

/**
 * Deterministic fault injection: each kind has its own rate and its own PRNG stream derived from the seed, drawn
 * once per API request, so the number of faults of a kind depends only on the seed and the number of requests.
 */
export const FAULT_KINDS = [
  'transient_500',
  'html_502',
  'truncated_200',
  'socket_destroyed',
  'slow',
  'throttle',
  'not_found_throttle',
  'empty_page_with_next',
  /** Headers and half the body are sent, then the connection is destroyed (fetch: `TypeError: terminated`). */
  'cut_mid_body',
  /** The connection is reset (RST) before any byte of the response. */
  'reset_before_headers',
  /** Headers are sent, then the body is held back for `slowMs` (a client with a shorter timeout gives up mid-body). */
  'stall_after_headers',
] as const;
/** Kinds that hold a response for `slowMs`: a CLI sandbox leaves them out of `--fault-rate` (they only cost time). */
export const SLOW_FAULT_KINDS: readonly FaultKind[] = ['slow', 'stall_after_headers'];
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultOptions {
  /** Probability per request, per kind. */
  rates: Partial<Record<FaultKind, number>>;
  /** How long a `slow` response (or the body of a `stall_after_headers` one) is held before it is sent. */
  slowMs: number;
  /** Graph code of injected throttles: 80002 (default), 4, 17, 613. */
  throttleCode: number;
  /** No fault is injected into the first this-many API requests (e.g. 2: let /me and the first list page through). */
  startAfterRequests?: number | undefined;
  /** The token expires (190/463) after this many API requests; undefined = never. */
  tokenExpiresAfter?: number | undefined;
  /** List requests asking for more than this many items fail with code 1 "reduce the amount of data". */
  reduceDataAboveLimit?: number | undefined;
}

export class FaultPlan {
  private readonly streams: Map<FaultKind, Prng>;

  constructor(
    seed: number,
    private readonly options: FaultOptions,
  ) {
    this.streams = new Map(FAULT_KINDS.map((k) => [k, createPrng(deriveSeed(seed, `fault:${k}`))]));
  }

  get settings(): FaultOptions {
    return this.options;
  }

  /** Draws every kind's stream once and returns the first kind that fires, in FAULT_KINDS order. */
  draw(): FaultKind | undefined {
    let hit: FaultKind | undefined;
    for (const kind of FAULT_KINDS) {
      const rate = this.options.rates[kind] ?? 0;
      const fired = (this.streams.get(kind)?.next() ?? 1) < rate;
      if (fired && hit === undefined) hit = kind;
    }
    return hit;
  }
}
