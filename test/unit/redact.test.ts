import { describe, expect, it } from 'vitest';
import { redactText, stripAccessToken } from '../../src/graph/redact.js';

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
});
