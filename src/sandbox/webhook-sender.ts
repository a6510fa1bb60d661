import { createHmac } from 'node:crypto';
import { createPrng, deriveSeed } from './prng.js';

/**
 * The sandbox's side of Meta's webhooks: for every message it adds, a signed `messages` notification is POSTed to
 * the subscribed URL (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the app secret>`), retried while
 * the receiver fails (Meta retries for hours; here `retries` times, `retryDelayMs` apart, doubling), and sometimes
 * delivered twice (`duplicateRate`), as Meta may.
 */
export interface WebhookSenderOptions {
  url: string;
  appSecret: string;
  retries: number;
  retryDelayMs: number;
  duplicateRate: number;
  /** What `mid` the notification carries: the Graph message id (GUESS) or another id (tests the fallback match). */
  mid: 'graph-id' | 'other';
}

export interface WebhookDelivery {
  body: string;
  attempts: number;
  status: number | 'error';
  delivered: boolean;
}

export interface WebhookMessage {
  id: string;
  createdMs: number;
  from: { id: string };
  to: { id: string };
  text: string;
  isEcho: boolean;
}

export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly prng;

  constructor(
    private readonly options: WebhookSenderOptions,
    seed: number,
    /** Waits between attempts (tests pass one that does not wait). */
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.prng = createPrng(deriveSeed(seed, 'webhooks'));
  }

  /** Queues the notification of new messages of an account (one delivery per message, as Meta sends them). */
  messagesAdded(accountId: string, messages: readonly WebhookMessage[]): void {
    for (const m of messages) {
      const mid = this.options.mid === 'graph-id' ? m.id : `mid.${Buffer.from(m.id).toString('base64url')}`;
      const body = JSON.stringify({
        object: 'instagram',
        entry: [
          {
            id: accountId,
            time: m.createdMs,
            messaging: [
              {
                sender: { id: m.from.id },
                recipient: { id: m.to.id },
                timestamp: m.createdMs,
                message: { mid, text: m.text, ...(m.isEcho ? { is_echo: true } : {}) },
              },
            ],
          },
        ],
      });
      this.track(this.deliver(body));
      if (this.prng.next() < this.options.duplicateRate) this.track(this.deliver(body));
    }
  }

  /** Resolves once every queued delivery has succeeded or run out of retries. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(body: string): Promise<void> {
    const record: WebhookDelivery = { body, attempts: 0, status: 'error', delivered: false };
    this.deliveries.push(record);
    const signature = `sha256=${createHmac('sha256', this.options.appSecret).update(body).digest('hex')}`;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await this.sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
      record.attempts++;
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          body,
        });
        await res.arrayBuffer();
        record.status = res.status;
        if (res.status === 200) {
          record.delivered = true;
          return;
        }
      } catch {
        record.status = 'error';
      }
    }
  }
}
