import { AbortError } from 'p-retry';
import { TOKEN_SOURCE } from '../classify.js';
import { GraphAuthError, GraphRequestError } from '../errors.js';
import type { Policy, Send } from './send-chain.js';

/**
 * The first auth failure latches: the token is dead, so every later request of the client fails at once with the
 * same error and spends no call. The advice names where the token came from (`IG_TOKEN_SHOP3`, `--token-file …`).
 */
export class AuthLatch {
  private failure: GraphAuthError | undefined;

  constructor(private readonly tokenSource: string | undefined) {}

  /** Throws the latched failure, if any: before a request, and again once its pacing wait is over. */
  check(): void {
    if (this.failure) throw new AbortError(this.failure);
  }

  readonly policy: Policy<Send> = (next) => async (call) => {
    this.check();
    try {
      return await next(call);
    } catch (e) {
      if (e instanceof GraphRequestError && e.kind === 'auth') {
        this.failure ??= new GraphAuthError(
          e,
          (e.classification.hint ?? 'check the token').replace(
            TOKEN_SOURCE,
            this.tokenSource ?? TOKEN_SOURCE,
          ),
        );
        throw new AbortError(this.failure);
      }
      throw e;
    }
  };
}
