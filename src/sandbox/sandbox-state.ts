import { createDataset, sortConversations, type Dataset, type SandboxMessage } from './dataset.js';
import { FaultPlan } from './faults.js';
import { GraphRoutes } from './graph-routes.js';
import { localiseMedia, MediaCdn } from './media-cdn.js';
import { createPrng, deriveSeed, type Prng } from './prng.js';
import { RateMeter } from './rate-meter.js';
import {
  emptyStats,
  type RequestLogEntry,
  type SandboxOptions,
  type SandboxStats,
} from './sandbox-options.js';
import { WebhookSender } from './webhook-sender.js';

/** One sandbox account's world: its data, tokens, rate meter, planned faults, and the log of what it was asked. */
export class SandboxState {
  readonly data: Dataset;
  readonly meter: RateMeter;
  readonly faults: FaultPlan;
  /** Every token accepted, with when it was issued (the first one, then each refreshed one). */
  readonly tokens: Map<string, number>;
  readonly webhooks: WebhookSender | undefined;
  stats: SandboxStats = emptyStats();
  cdn: MediaCdn;
  /** API requests so far (token, control and CDN requests are not counted). */
  apiRequests = 0;
  /** The webhook fields the app is subscribed to (`/me/subscribed_apps`). */
  subscribedFields: string[] = [];
  /** The address the server listens at, once it does. */
  url = '';
  private routes: GraphRoutes | undefined;
  private readonly autoAddPrng: Prng;

  constructor(readonly options: SandboxOptions) {
    this.data = createDataset(options);
    const malformedPrng = createPrng(deriveSeed(options.seed, 'malformed'));
    for (const c of this.data.conversations) {
      if (malformedPrng.next() < options.malformed.conversationRate) c.malformed = true;
      for (const m of c.messages) if (malformedPrng.next() < options.malformed.detailRate) m.malformed = true;
    }
    this.meter = new RateMeter(options.rateLimit);
    this.faults = new FaultPlan(options.seed, options.faults);
    this.autoAddPrng = createPrng(deriveSeed(options.seed, 'auto-add'));
    this.cdn = new MediaCdn(options.seed, options.media);
    this.tokens = new Map([[options.token, options.tokenIssuedMs]]);
    this.webhooks = options.webhook ? new WebhookSender(options.webhook, options.seed) : undefined;
  }

  /** Called once the server listens: media links point at it. */
  listening(url: string): void {
    this.url = url;
    for (const c of this.data.conversations) for (const m of c.messages) localiseMedia(m, url);
  }

  log(entry: Omit<RequestLogEntry, 'seq'>): void {
    const logged = { seq: this.stats.requests.length, ...entry };
    this.stats.requests.push(logged);
    this.options.onRequest?.(logged);
    this.stats.byEndpoint[entry.endpoint] = (this.stats.byEndpoint[entry.endpoint] ?? 0) + 1;
    if (entry.fault) this.stats.faults[entry.fault] = (this.stats.faults[entry.fault] ?? 0) + 1;
  }

  resetStats(): void {
    this.stats = emptyStats();
    this.cdn = new MediaCdn(this.options.seed, this.options.media);
  }

  /** Counts an API request; with `autoAdd`, new messages arrive every so many requests. */
  countApiRequest(): void {
    this.apiRequests++;
    const autoAdd = this.options.autoAdd;
    if (autoAdd && this.apiRequests % autoAdd.everyRequests === 0)
      this.addMessages(this.autoAddPrng.pick(this.data.conversations).id, autoAdd.count);
  }

  /** Adds `count` new messages at the top of a conversation ("time travel"); returns them newest first. */
  addMessages(conversationId: string, count: number): SandboxMessage[] {
    const c = this.data.conversations.find((x) => x.id === conversationId);
    if (!c) throw new Error(`no conversation ${conversationId}`);
    const added: SandboxMessage[] = [];
    for (let i = 0; i < count; i++) {
      const newest = c.messages[0]?.createdMs ?? 0;
      const t = Math.max(Math.floor(this.options.now() / 1000) * 1000, newest + 1000);
      const m = this.data.newMessage(c, t);
      localiseMedia(m, this.url);
      c.messages.unshift(m);
      added.unshift(m);
    }
    sortConversations(this.data.conversations);
    this.routes?.reindex();
    // Oldest first, as they happened.
    this.webhooks?.messagesAdded(
      this.data.account.userId,
      [...added].reverse().map((m) => ({
        id: m.id,
        createdMs: m.createdMs,
        from: { id: m.from.id },
        to: { id: m.to.id },
        text: m.text,
        isEcho: m.from.id === this.data.account.userId,
      })),
    );
    return added;
  }

  /** The Graph routes over the data, built at the first routed request (the public URL is known by then). */
  graphRoutes(): GraphRoutes {
    const o = this.options;
    this.routes ??= new GraphRoutes(this.data, {
      publicUrl: o.publicUrl ?? this.url,
      defaultLimit: o.defaultLimit,
      maxLimit: o.maxLimit,
      windowSize: o.windowSize,
      deletedErrorCode: o.deletedErrorCode,
      deletedErrorSubcode: o.deletedErrorSubcode,
      expansion: o.expansion,
      expansionMaxDetailed: o.expansionMaxDetailed,
      pagingLinks: o.pagingLinks,
      messagesEdge: o.messagesEdge,
      userIdFilter: o.userIdFilter,
    });
    return this.routes;
  }

  /** Meta's usage headers, from this account's meter. */
  usageHeaders(now: number): Record<string, string> {
    if (!this.options.usageHeaders) return {};
    const pct = this.meter.usagePercent();
    return {
      'x-app-usage': JSON.stringify({ call_count: pct, total_time: pct, total_cputime: pct }),
      'x-business-use-case-usage': JSON.stringify({
        [this.data.account.userId]: [
          {
            type: 'instagram',
            call_count: pct,
            total_cputime: pct,
            total_time: pct,
            estimated_time_to_regain_access: this.meter.regainMinutes(now),
          },
        ],
      }),
    };
  }
}
