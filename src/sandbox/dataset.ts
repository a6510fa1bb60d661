import { conversationIdFor, encodeMetaId, messageIdFor } from './meta-id.js';
import { createPrng, deriveSeed, type Prng } from './prng.js';
import { REACTIONS, TEXT_POOL, USERNAME_POOL } from './text-pool.js';

export interface SandboxUser {
  id: string;
  /** Meta sometimes omits usernames (contract §6). */
  username?: string;
}

export interface SandboxMessage {
  id: string;
  /** Whole seconds since the epoch, in milliseconds (Graph timestamps have second precision). */
  createdMs: number;
  /** When it was sent, to the millisecond (what a "Download your information" archive says); set for bursts. */
  sentMs?: number;
  from: SandboxUser;
  to: SandboxUser;
  /** `""` when the message has no text (shares, media, story mentions). */
  text: string;
  attachments?: { data: Array<Record<string, unknown>> };
  shares?: { data: Array<{ link: string }> };
  story?: Record<string, { link: string; id: string }>;
  reactions?: { data: Array<{ reaction: string; users: SandboxUser[] }> };
  isUnsupported?: boolean;
  /** Unsent by its author: still listed, but its details answer "has been deleted". */
  unsent?: boolean;
  /** Served with details of the wrong shape (`from` is not an object): the client must not crash on it. */
  malformed?: boolean;
}

export interface SandboxConversation {
  id: string;
  thread: bigint;
  participant: SandboxUser;
  /** Newest first, as the API lists them. */
  messages: SandboxMessage[];
  /** Listed with `participants` of the wrong shape: the client must skip and record it, not crash. */
  malformed?: boolean;
}

export interface SandboxAccount {
  /** App-scoped id returned as `id` by /me. */
  appScopedId: string;
  /** The Instagram professional account id (`user_id` of /me), the id used in messages' from/to. */
  userId: string;
  username: string;
}

export interface Dataset {
  account: SandboxAccount;
  /** Newest `updated_time` first. */
  conversations: SandboxConversation[];
  /** Allocates ids and content for messages added while the sandbox runs. */
  newMessage(conversation: SandboxConversation, createdMs: number): SandboxMessage;
}

export interface DatasetOptions {
  seed: number;
  conversations: number;
  /** Explicit message counts, one per conversation; otherwise heavy-tailed sizes from the seed. */
  messageCounts?: readonly number[] | undefined;
  /** Cap for generated conversation sizes. */
  maxMessagesPerConversation: number;
  /** The newest message of the whole dataset is at most this instant. */
  endTimeMs: number;
  /** Share of messages that were unsent (listed, but their details say "deleted"). */
  unsentRate: number;
  /** The account's username (a multi-account sandbox gives each its own). */
  username: string;
  /**
   * For archive imports: one conversation gets a burst of 30 messages 300 ms apart beyond the 20-message window
   * (several in one Graph second). Off by default, so every other dataset stays as it was.
   */
  archiveFixtures?: boolean | undefined;
}

/** Messages of the burst, and how far apart they were sent. */
export const BURST = { first: 25, count: 30, gapMs: 300 };

/** Re-times messages BURST.first… of the first conversation long enough as a burst; older ones move back to follow. */
function addBurst(conversations: SandboxConversation[]): void {
  const c = conversations.find((x) => x.messages.length >= BURST.first + BURST.count + 5);
  if (!c) return;
  const before = c.messages[BURST.first - 1]!.createdMs;
  let sent = before - 1000 + 700;
  for (let k = BURST.first; k < BURST.first + BURST.count; k++) {
    const m = c.messages[k]!;
    m.sentMs = sent;
    m.createdMs = Math.floor(sent / 1000) * 1000;
    // Every message of the burst is in the archive: pairing it message by message is what the burst is for.
    delete m.unsent;
    sent -= BURST.gapMs;
  }
  const last = c.messages[BURST.first + BURST.count - 1]!.createdMs;
  const next = c.messages[BURST.first + BURST.count]!.createdMs;
  const shift = Math.max(0, next - (last - 60_000));
  for (let k = BURST.first + BURST.count; k < c.messages.length; k++) c.messages[k]!.createdMs -= shift;
}

const DAY_MS = 86_400_000;

function digits(prng: Prng, n: number): string {
  let s = String(prng.int(1, 9));
  for (let i = 1; i < n; i++) s += String(prng.int(0, 9));
  return s;
}

/** Heavy-tailed: most conversations are small, a few run into the thousands. */
function drawSize(prng: Prng, cap: number): number {
  const r = prng.next();
  let n: number;
  if (r < 0.8) n = prng.int(1, 25);
  else if (r < 0.95) n = prng.int(26, 200);
  else n = prng.int(201, 3000);
  return Math.min(n, cap);
}

function drawContent(prng: Prng, m: SandboxMessage): void {
  const kind = prng.next();
  if (kind < 0.07) {
    m.text = '';
    m.shares = {
      data: [
        {
          link: `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${digits(prng, 17)}&signature=${encodeMetaId(digits(prng, 12))}`,
        },
      ],
    };
  } else if (kind < 0.12) {
    m.text = '';
    const video = prng.chance(0.3);
    const url = `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${digits(prng, 17)}&signature=${encodeMetaId(digits(prng, 12))}`;
    m.attachments = {
      data: [
        video
          ? { video_data: { url, preview_url: url } }
          : {
              image_data: {
                url,
                preview_url: url,
                width: 1080,
                height: 1350,
                max_width: 1080,
                max_height: 1350,
              },
            },
      ],
    };
  } else if (kind < 0.15) {
    m.text = '';
    const wrapper = prng.chance(0.5) ? 'mention' : 'reply_to';
    m.story = {
      [wrapper]: {
        link: `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${digits(prng, 17)}`,
        id: digits(prng, 17),
      },
    };
  } else if (kind < 0.16) {
    m.text = '';
    m.isUnsupported = true;
  } else {
    m.text = prng.pick(TEXT_POOL);
  }
}

export function createDataset(options: DatasetOptions): Dataset {
  const prng = createPrng(deriveSeed(options.seed, 'dataset'));
  const account: SandboxAccount = {
    appScopedId: digits(prng, 17),
    userId: `17841${digits(prng, 12)}`,
    username: options.username,
  };
  const business: SandboxUser = { id: account.userId, username: account.username };
  let nextThread = 340282366841710300n + BigInt(prng.int(0, 1_000_000)) * 1000n;
  let nextItem = 31_000_000_000_000_000n + BigInt(prng.int(0, 1_000_000)) * 1000n;

  const newMessage = (c: SandboxConversation, createdMs: number): SandboxMessage => {
    nextItem += BigInt(prng.int(1, 5000));
    const inbound = prng.chance(0.55);
    const m: SandboxMessage = {
      id: messageIdFor(account.userId, c.thread, nextItem),
      createdMs,
      from: inbound ? c.participant : business,
      to: inbound ? business : c.participant,
      text: '',
    };
    drawContent(prng, m);
    if (prng.chance(0.1)) {
      m.reactions = {
        data: [{ reaction: prng.pick(REACTIONS), users: [inbound ? business : c.participant] }],
      };
    }
    if (prng.chance(options.unsentRate)) m.unsent = true;
    return m;
  };

  const conversations: SandboxConversation[] = [];
  for (let i = 0; i < options.conversations; i++) {
    nextThread += BigInt(prng.int(1, 1_000_000));
    const participant: SandboxUser = { id: digits(prng, 16) };
    if (!prng.chance(0.05)) participant.username = `${prng.pick(USERNAME_POOL)}${prng.int(1, 999)}`;
    const c: SandboxConversation = {
      id: conversationIdFor(account.userId, nextThread),
      thread: nextThread,
      participant,
      messages: [],
    };
    const count = options.messageCounts?.[i] ?? drawSize(prng, options.maxMessagesPerConversation);
    // Walk backwards in time from the conversation's newest message.
    let t = Math.floor((options.endTimeMs - prng.next() * 90 * DAY_MS) / 1000) * 1000;
    for (let k = 0; k < count; k++) {
      c.messages.push(newMessage(c, t));
      const gap = prng.chance(0.7) ? prng.int(1, 600) : prng.int(600, 3 * 86_400);
      t -= gap * 1000;
    }
    conversations.push(c);
  }
  if (options.archiveFixtures) addBurst(conversations);
  sortConversations(conversations);
  return { account, conversations, newMessage };
}

export function updatedMs(c: SandboxConversation): number {
  return c.messages[0]?.createdMs ?? 0;
}

/** Newest `updated_time` first; ties by id so the order is total and stable. */
export function sortConversations(conversations: SandboxConversation[]): void {
  conversations.sort((a, b) => updatedMs(b) - updatedMs(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
