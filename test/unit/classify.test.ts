import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/graph/classify.js';

const graph = (status: number, error: Record<string, unknown>, regainMinutes?: number) =>
  classifyFailure({ status, error, ...(regainMinutes === undefined ? {} : { regainMinutes }) });

describe('classifyFailure, rule by rule', () => {
  it('network failures and timeouts are transient', () => {
    expect(classifyFailure({ network: 'connection' })).toMatchObject({
      kind: 'transient',
      reason: 'connection',
    });
    expect(classifyFailure({ network: 'timeout' })).toMatchObject({ kind: 'transient', reason: 'timeout' });
  });

  it.each([4, 17, 32, 341, 368, 613, 80000, 80002, 80006, 80014])(
    'code %i at HTTP 400 is a throttle',
    (code) => {
      expect(graph(400, { code }).kind).toBe('throttled');
    },
  );

  it('a throttle carries estimated_time_to_regain_access as its wait, never invented', () => {
    expect(graph(400, { code: 80002 }, 3)).toEqual({
      kind: 'throttled',
      reason: 'code_80002',
      waitMs: 180_000,
    });
    expect(graph(400, { code: 80002 }, 0)).toEqual({ kind: 'throttled', reason: 'code_80002' });
  });

  it('code 1 asking for less data shrinks the page; other code 1/2 are transient', () => {
    expect(
      graph(500, {
        code: 1,
        message: "Please reduce the amount of data you're asking for, then retry your request",
      }).kind,
    ).toBe('shrink');
    expect(graph(500, { code: 1, message: 'An unknown error occurred', error_subcode: 99 }).kind).toBe(
      'transient',
    );
    expect(
      graph(500, { code: 2, message: 'An unexpected error has occurred.', is_transient: true }).kind,
    ).toBe('transient');
  });

  it('is_transient: true makes an otherwise unknown code transient', () => {
    expect(graph(400, { code: 9999, is_transient: true }).kind).toBe('transient');
    expect(graph(400, { code: 9999 }).kind).toBe('fatal');
  });

  it('100/33 is "not found or throttled"; a deleted message is gone', () => {
    expect(graph(400, { code: 100, error_subcode: 33, message: 'Unsupported get request.' }).kind).toBe(
      'not_found_or_throttled',
    );
    expect(graph(400, { code: 100, message: 'The message has been deleted.' }).kind).toBe('gone');
    expect(graph(400, { code: 100, message: '(#100) Invalid parameter' }).kind).toBe('fatal');
  });

  it('token and permission errors are auth, with a hint naming the fix', () => {
    const expired = graph(400, {
      code: 190,
      error_subcode: 463,
      message:
        'Error validating access token: Session has expired on Tuesday, 01-Dec-25 06:00:00 PST. The current time is …',
    });
    expect(expired.kind).toBe('auth');
    expect(expired.hint).toContain('expired on Tuesday, 01-Dec-25 06:00:00 PST');
    expect(graph(400, { code: 190, error_subcode: 460 }).hint).toContain('password');
    expect(graph(400, { code: 190 }).hint).toContain('IG_ACCESS_TOKEN');
    for (const code of [102, 10, 200, 230, 299]) expect(graph(403, { code }).kind).toBe('auth');
  });

  it('the JSON code wins over the HTTP status', () => {
    expect(graph(500, { code: 190 }).kind).toBe('auth');
    expect(graph(403, { code: 4 }).kind).toBe('throttled');
  });

  it('without a Graph error body: 5xx and unparseable bodies are transient, 429 throttles, other 4xx fatal', () => {
    expect(classifyFailure({ status: 502, unparseableBody: true })).toMatchObject({
      kind: 'transient',
      reason: 'http_502',
    });
    expect(classifyFailure({ status: 200, unparseableBody: true })).toMatchObject({
      kind: 'transient',
      reason: 'truncated_body',
    });
    expect(classifyFailure({ status: 429 }).kind).toBe('throttled');
    expect(classifyFailure({ status: 404 }).kind).toBe('fatal');
    expect(classifyFailure({ status: 500, error: { code: 12345 } }).kind).toBe('transient');
  });

  it('a permission code that says the message has been deleted is the window, not a dead token', () => {
    expect(
      graph(400, { code: 10, error_subcode: 2534022, message: 'The message has been deleted.' }),
    ).toEqual({
      kind: 'gone',
      reason: 'code_10_deleted',
    });
    expect(
      graph(400, { code: 10, message: 'Application does not have permission for this action' }).kind,
    ).toBe('auth');
    expect(
      graph(400, { code: 190, message: 'Error validating access token: the user has been deleted' }).kind,
    ).toBe('auth');
  });
});
