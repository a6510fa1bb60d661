import type { MessageDetail } from '../../src/graph/conversations-api.js';
import { describe, expect, it } from 'vitest';
import { ContractError } from '../../src/graph/wire-shapes.js';
import { toListedConversation, toListedMessage, toMessageRow } from '../../src/pipeline/transform.js';

const ctx = { accountId: '17841400000000001', snapshotId: 'S1' };
const listed = {
  id: 'm1',
  createdMs: Date.UTC(2023, 0, 27, 23, 38, 6),
  position: 3,
  raw: { id: 'm1', created_time: '2023-01-27T23:38:06+0000' },
};

/** The row of `listed` when its details were read. */
const hydratedRow = (detail: MessageDetail) =>
  toMessageRow(ctx, 'c1', listed, { status: 'hydrated', detail }, 42);

describe('transform', () => {
  it('flattens a hydrated message; "" stays "" and is_unsupported defaults to false', () => {
    const row = hydratedRow({
      id: 'm1',
      from: { id: '6521113831237472' },
      to: { data: [{ id: '17841400000000001', username: 'acme' }] },
      message: '',
      shares: { data: [{ link: 'https://lookaside.fbsbx.com/x' }] },
      reactions: { data: [{ reaction: '❤️', users: [] }] },
    });
    expect(row).toMatchObject({
      from_id: '6521113831237472',
      from_username: null,
      to_id: '17841400000000001',
      to_username: 'acme',
      message: '',
      attachments: '{"shares":{"data":[{"link":"https://lookaside.fbsbx.com/x"}]}}',
      reactions: '{"data":[{"reaction":"❤️","users":[]}]}',
      is_unsupported: false,
      hydration_status: 'hydrated',
      position: 3,
      extracted_at: 42,
      attachment_types: [],
      attachment_urls: [],
      share_links: ['https://lookaside.fbsbx.com/x'],
      story_type: null,
      reaction_emojis: ['❤️'],
      reaction_user_ids: [null],
    });
    // raw is the object the API returned, as it returned it.
    expect(row.raw).toEqual({
      id: 'm1',
      from: { id: '6521113831237472' },
      to: { data: [{ id: '17841400000000001', username: 'acme' }] },
      message: '',
      shares: { data: [{ link: 'https://lookaside.fbsbx.com/x' }] },
      reactions: { data: [{ reaction: '❤️', users: [] }] },
    });
  });

  it('parses attachments, stories and reactions into filterable columns', () => {
    const row = hydratedRow({
      id: 'm1',
      message: '',
      attachments: {
        data: [
          { image_data: { url: 'https://cdn/i.jpg', preview_url: 'https://cdn/p.jpg' } },
          { video_data: { url: 'https://cdn/v.mp4' } },
          { audio_data: { url: 'https://cdn/a.mp4' } },
          { file_url: 'https://cdn/f.pdf' },
          { image_data: { url: 'https://cdn/s.png', render_as_sticker: true } },
          { generic_template: { title: 't' } },
          { something_new: 1 },
        ],
      },
      story: { reply_to: { id: '1799', link: 'https://cdn/story' } },
      reactions: {
        data: [
          { reaction: '❤️', users: [{ id: 'u1' }, { id: 'u2', username: 'b' }] },
          { reaction: '😂', users: [{ id: 'u3' }] },
        ],
      },
    });
    expect(row).toMatchObject({
      attachment_types: ['image', 'video', 'audio', 'file', 'sticker', 'template', 'unknown'],
      attachment_urls: [
        'https://cdn/i.jpg',
        'https://cdn/v.mp4',
        'https://cdn/a.mp4',
        'https://cdn/f.pdf',
        'https://cdn/s.png',
        null,
        null,
      ],
      story_type: 'reply_to',
      story_id: '1799',
      story_link: 'https://cdn/story',
      reaction_emojis: ['❤️', '❤️', '😂'],
      reaction_user_ids: ['u1', 'u2', 'u3'],
    });
  });

  it('leaves every detail null when a message was not hydrated', () => {
    const row = toMessageRow(ctx, 'c1', listed, { status: 'outside_window' }, 42);
    expect([row.message, row.from_id, row.to_id, row.attachments, row.reactions, row.is_unsupported]).toEqual(
      [null, null, null, null, null, null],
    );
    expect(row.hydration_status).toBe('outside_window');
    expect([row.attachment_types, row.share_links, row.story_id, row.reaction_emojis]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    // Its raw value is its listing entry.
    expect(row.raw).toEqual({ id: 'm1', created_time: '2023-01-27T23:38:06+0000' });
  });

  it('picks the participant that is not the account', () => {
    const c = toListedConversation(
      {
        id: 'c1',
        updated_time: '2023-01-27T23:38:06+0000',
        participants: {
          data: [
            { id: ctx.accountId, username: 'acme' },
            { id: '65', username: 'ann' },
          ],
        },
      },
      ctx.accountId,
    );
    expect(c.participant).toEqual({ id: '65', username: 'ann' });
  });

  it('refuses rows the contract cannot explain rather than inventing values', () => {
    expect(() => toListedConversation({ updated_time: 'x' }, ctx.accountId)).toThrow(ContractError);
    expect(() => toListedMessage({ id: 'm', created_time: 'not a time' }, 0, 'c')).toThrow(/created_time/);
  });
});
