import type { CallBudget } from '../call-budget.js';
import type { Policy, Send } from './send-chain.js';

/**
 * Every attempt waits for the account's next call slot (CallBudget: even spacing under `--max-rps`, slower as Meta's
 * usage nears 100 %, nothing at all while the account is throttled). `ready` runs once the slot is taken: a request
 * whose token died meanwhile goes no further.
 */
export function pacing(budget: CallBudget, signal: AbortSignal | undefined, ready: () => void): Policy<Send> {
  return (next) => async (call) => {
    const answered = await budget.acquire(signal);
    try {
      ready();
      return await next(call);
    } finally {
      answered();
    }
  };
}
