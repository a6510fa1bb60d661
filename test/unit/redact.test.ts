import { describe, expect, it } from 'vitest';
import { redactText, secretLookingArgs, stripAccessToken } from '../../src/graph/redact.js';

describe('redaction', () => {
  it('strips access_token from a paging URL and keeps the cursor', () => {
    const url = stripAccessToken(
      new URL(
        'https://graph.instagram.com/v23.0/1/conversations?access_token=IGAAsecret&limit=100&after=QVFI',
      ),
    );
    expect(url.toString()).toBe('https://graph.instagram.com/v23.0/1/conversations?limit=100&after=QVFI');
  });
  it('removes known secrets and any access_token= value from text', () => {
    expect(redactText('GET /x?access_token=abc123&limit=5 failed; token IGAAsecret', ['IGAAsecret'])).toBe(
      'GET /x?access_token=[REDACTED]&limit=5 failed; token [REDACTED]',
    );
  });
  it('replaces whole secret values only, never words inside ordinary text, nor values under 8 characters', () => {
    expect(redactText('the redaction key is too short', ['short'])).toBe('the redaction key is too short');
    expect(redactText('Instagram rejected the access token', ['token'])).toBe(
      'Instagram rejected the access token',
    );
    expect(redactText('key sandbox-token-2 refused; sandbox-token is fine', ['sandbox-token'])).toBe(
      'key sandbox-token-2 refused; [REDACTED] is fine',
    );
    expect(redactText('unknown option --IGAAsecretvalue', ['IGAAsecretvalue'])).toBe(
      'unknown option --[REDACTED]',
    );
  });
  it('finds arguments that look like a pasted token, not paths, flags, dates or ids', () => {
    expect(
      secretLookingArgs([
        'export',
        '--token-file',
        'IGAAQx7hT9kLmN2pQrS5tUv',
        '--config=EAAB1234567890abc',
        './token-2026-01-01-file',
        '--since',
        '2026-01-01T00:00:00Z',
        '--user-id',
        '6521113831237472',
        '--conversation-concurrency',
        'ab12cd34ef56ab12cd34ef56ab12cd34',
      ]),
    ).toEqual(['IGAAQx7hT9kLmN2pQrS5tUv', 'EAAB1234567890abc', 'ab12cd34ef56ab12cd34ef56ab12cd34']);
  });
});
