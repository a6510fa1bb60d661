import type { Clock } from '../../clock.js';
import type { CallBudget } from '../call-budget.js';
import { classifyFailure } from '../classify.js';
import type { Policy, Wire } from './send-chain.js';

/** What the host has shown so far (`ig-export probe` reports it; usage headers on Instagram are a GUESS). */
export interface HostSignals {
  /** The host has answered at least once (any HTTP response): network retries are quiet from then on. */
  answered: boolean;
  /** Usage headers the host has sent. */
  readonly usageHeadersSeen: Set<string>;
  /** Throttle episodes in a row with no successful call between them. */
  consecutiveThrottles: number;
}

/**
 * Reads what every reply says beyond its body: Meta's usage percentage (the pace slows as it nears 100 %), a block
 * it announces (`estimated_time_to_regain_access`, on any reply, errors included: Airbyte's reading it only on
 * successes made its syncs fail, airbytehq/airbyte#86316), and that the host answers at all.
 */
export function readHostSignals(budget: CallBudget, clock: Clock, signals: HostSignals): Policy<Wire> {
  return (next) => async (endpoint, url, method) => {
    const result = await next(endpoint, url, method);
    if (result.usage) budget.observeUsage(result.usage.maxPercent);
    if (result.ok || result.facts.status !== undefined) signals.answered = true;
    for (const name of result.usageHeaders ?? []) signals.usageHeadersSeen.add(name);
    if (result.ok) signals.consecutiveThrottles = 0;
    // A throttle reply's own wait is applied by the retry rules.
    const regain = result.usage?.regainMinutes;
    if (
      regain !== undefined &&
      regain > 0 &&
      (result.ok || classifyFailure(result.facts).kind !== 'throttled')
    )
      budget.pauseUntil(clock.now() + regain * 60_000, `usage headers: regain access in ${regain} min`);
    return result;
  };
}
