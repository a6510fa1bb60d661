import { describe, expect, it } from 'vitest';
import { GraphAuthError, GraphRequestError } from '../../src/graph/errors.js';
import {
  noSnapshotReason,
  personNotFound,
  publishes,
  runOutcome,
  stopReasonOf,
  type RunFacts,
} from '../../src/pipeline/run-outcome.js';

const base: RunFacts = {
  stopReason: undefined,
  listingComplete: true,
  onePerson: false,
  timeWindowed: false,
  malformed: 0,
  unfinishedUpdatedMs: [],
  newestListedMs: 5_000,
  nothingWritten: false,
};

describe('the end of a run', () => {
  it.each([
    ['a clean full listing', {}, 0, 'complete', { watermarkMs: 5_000 }],
    ['nothing listed at all', { newestListedMs: undefined }, 0, 'complete', { watermarkMs: undefined }],
    [
      'an unfinished conversation holds the watermark below it',
      { unfinishedUpdatedMs: [3_000, 2_000] },
      0,
      'partial',
      { watermarkMs: 1_999 },
    ],
    ['rows still failed after retries', {}, 2, 'partial', { watermarkMs: 5_000 }],
    ['a malformed conversation keeps the old watermark', { malformed: 1 }, 0, 'partial', undefined],
    [
      'a cancelled run keeps the old watermark',
      { stopReason: 'cancelled' as const },
      0,
      'partial',
      undefined,
    ],
    ['a listing cut short keeps the old watermark', { listingComplete: false }, 0, 'complete', undefined],
    ['one person says nothing of the others', { onePerson: true }, 0, 'complete', undefined],
    ['a time window says nothing of the rest', { timeWindowed: true }, 0, 'complete', undefined],
  ] as const)('%s', (_name, facts, failedRows, status, finish) => {
    expect(runOutcome({ ...base, ...facts }, failedRows)).toEqual({ status, finish });
  });

  it.each([
    [{}, true],
    [{ nothingWritten: true }, false],
    [{ nothingWritten: true, stopReason: 'auth' as const }, true],
  ])('publishes %o → %s', (facts, expected) => {
    expect(publishes({ ...base, ...facts })).toBe(expected);
  });

  it.each([
    [{ nothingWritten: true }, 'unchanged'],
    [{ nothingWritten: true, newestListedMs: undefined }, 'no_conversations'],
    [{ nothingWritten: true, timeWindowed: true }, 'empty_window'],
    [{ nothingWritten: true, timeWindowed: true, newestListedMs: undefined }, 'empty_window'],
  ] as const)('no snapshot %o → %s', (facts, expected) => {
    expect(noSnapshotReason({ ...base, ...facts })).toBe(expected);
  });

  it.each([
    [{ onePerson: true, newestListedMs: undefined }, true],
    [{ onePerson: true }, false],
    [{ onePerson: true, newestListedMs: undefined, listingComplete: false }, false],
    [{ onePerson: true, newestListedMs: undefined, stopReason: 'cancelled' as const }, false],
    [{ newestListedMs: undefined }, false],
  ])('a person not found %o → %s', (facts, expected) => {
    expect(personNotFound({ ...base, ...facts })).toBe(expected);
  });

  it('says why an error stopped the run, and nothing for a bug', () => {
    const request = new GraphRequestError({ kind: 'transient' } as never, 'GET', '/me', 500, undefined);
    const auth = new GraphAuthError(request, 'the token expired');
    expect(stopReasonOf(auth, false)).toBe('auth');
    expect(stopReasonOf(request, false)).toBe('extract_failed');
    expect(stopReasonOf(new TypeError('bug'), false)).toBeUndefined();
    expect(stopReasonOf(new TypeError('aborted'), true)).toBe('cancelled');
  });
});
