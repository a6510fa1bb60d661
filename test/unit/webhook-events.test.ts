import { describe, expect, it } from 'vitest';
import { eventsOfDelivery } from '../../src/listener/webhook-events.js';
import { validSignature, signatureOf } from '../../src/listener/webhook-signature.js';

const ACCOUNT = '17841400000000001';
const item = (body: Record<string, unknown>): Record<string, unknown> => ({
  sender: { id: '6521' },
  recipient: { id: ACCOUNT },
  timestamp: 1_795_000_000_000,
  ...body,
});

describe('webhook deliveries as events', () => {
  it('reads messages, echoes, unsends, edits, reactions and reads, and keeps anything else raw', () => {
    const events =
      eventsOfDelivery({
        object: 'instagram',
        entry: [
          {
            id: ACCOUNT,
            time: 1,
            messaging: [
              item({
                message: {
                  mid: 'm1',
                  text: 'hi',
                  attachments: [{ type: 'image', payload: { url: 'u' } }],
                  reply_to: { mid: 'm0' },
                },
              }),
              item({ message: { mid: 'm2', text: 'echo', is_echo: true } }),
              item({ message: { mid: 'm3', is_deleted: true } }),
              item({ message_edit: { mid: 'm1', text: 'hi!', num_edit: 2 } }),
              item({ reaction: { mid: 'm1', action: 'react', reaction: 'love', emoji: '❤' } }),
              item({ read: { mid: 'm2' } }),
              item({ postback: { title: 'x' } }),
            ],
          },
        ],
      }).get(ACCOUNT) ?? [];
    expect(events.map((e) => [e.type, e.key])).toEqual([
      ['message', 'message:m1'],
      ['message', 'message:m2'],
      ['unsend', 'unsend:m3'],
      ['edit', 'edit:m1:2'],
      ['reaction', `reaction:m1:6521:react:1795000000000`],
      ['read', 'read:m2:1795000000000'],
      ['unknown', expect.stringMatching(/^unknown:[0-9a-f]{32}$/)],
    ]);
    expect(events[0]).toMatchObject({ text: 'hi', replyTo: 'm0', senderId: '6521', recipientId: ACCOUNT });
    expect(JSON.parse(events[0]?.attachments ?? '[]')).toEqual([{ type: 'image', payload: { url: 'u' } }]);
    expect(events[1]?.isEcho).toBe(true);
    expect(events[3]?.text).toBe('hi!');
    expect(events[4]?.text).toBe('❤');
    expect(JSON.parse(events[0]?.raw ?? '{}')).toMatchObject({ entry_id: ACCOUNT, message: { mid: 'm1' } });
  });

  it('files a delivery whose account id is not digits under "unknown" (the id names a file)', () => {
    const byAccount = eventsOfDelivery({
      object: 'instagram',
      entry: [{ id: '../../etc/passwd', messaging: [item({ message: { mid: 'x', text: 't' } })] }],
    });
    expect([...byAccount.keys()]).toEqual(['unknown']);
    expect([...eventsOfDelivery({ object: 'page', entry: [] }).keys()]).toEqual(['unknown']);
  });

  it('checks signatures in any hex case and refuses malformed ones', () => {
    const body = Buffer.from('{"a":1}');
    const good = signatureOf(body, 'secret-123456');
    expect(validSignature(body, good, 'secret-123456')).toBe(true);
    expect(
      validSignature(
        body,
        good.replace(/[a-f]/g, (c) => c.toUpperCase()),
        'secret-123456',
      ),
    ).toBe(true);
    expect(validSignature(body, good, 'other-secret')).toBe(false);
    expect(validSignature(body, 'sha1=abc', 'secret-123456')).toBe(false);
    expect(validSignature(body, undefined, 'secret-123456')).toBe(false);
  });
});
