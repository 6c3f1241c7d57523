import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../lib/core/build/cursor';
import { allOf, ExpressionBuilder, updateExpression } from '../../lib/core/build/expression';
import { canonicalJson } from '../../lib/core/build/key-record';
import { fullJitterDelay, mapWithConcurrency, retryWithBackoff } from '../../lib/core/send/backoff';
import { StaleDataError } from '../../lib/errors';
import { problemResult } from '../../lib/http/problem';

describe('expression builder', () => {
  it('gives each attribute one placeholder and each value its own', () => {
    const x = new ExpressionBuilder();
    const clause = `${x.name('version')} = ${x.value(3)} AND ${x.name('idem.k')} <> ${x.value('k')} AND ${x.name('version')} > ${x.value(0)}`;
    expect(clause).toBe('#n0 = :v0 AND #n1.#n2 <> :v1 AND #n0 > :v2');
    expect(x.attributes()).toEqual({
      ExpressionAttributeNames: { '#n0': 'version', '#n1': 'idem', '#n2': 'k' },
      ExpressionAttributeValues: { ':v0': 3, ':v1': 'k', ':v2': 0 },
    });
  });

  it('joins clauses and update parts', () => {
    expect(allOf(['a', 'b OR c'])).toBe('(a) AND (b OR c)');
    expect(updateExpression(['a = :a'], ['b'])).toBe('SET a = :a REMOVE b');
    expect(updateExpression(['a = :a'])).toBe('SET a = :a');
  });
});

describe('cursor', () => {
  const expected = { attributes: ['pk', 'sk'], fixed: { pk: 'A' } };

  it('round-trips a start key', () => {
    expect(decodeCursor(encodeCursor({ pk: 'A', sk: 'x' }), expected)).toEqual({ pk: 'A', sk: 'x' });
  });

  it('refuses garbage, other attributes, non-strings and other partitions with 400', () => {
    for (const cursor of [
      '%%%',
      Buffer.from('not json').toString('base64url'),
      encodeCursor({ pk: 'A' }),
      encodeCursor({ pk: 'A', sk: 1 }),
      encodeCursor({ pk: 'B', sk: 'x' }),
    ]) {
      expect(() => decodeCursor(cursor, expected)).toThrow(
        expect.objectContaining({ code: 'MALFORMED_REQUEST' }),
      );
    }
  });
});

describe('retry', () => {
  it('draws full-jitter delays below min(cap, base·2^attempt)', () => {
    const options = { attempts: 5, baseMs: 10, capMs: 50 };
    expect(fullJitterDelay(0, { ...options, random: () => 0.999 })).toBe(9);
    expect(fullJitterDelay(3, { ...options, random: () => 0.999 })).toBe(49);
    expect(fullJitterDelay(3, { ...options, random: () => 0 })).toBe(0);
  });

  it('retries only what shouldRetry accepts, at most `attempts` times', async () => {
    let calls = 0;
    const failing = retryWithBackoff(
      async () => {
        calls++;
        throw new Error('again');
      },
      () => true,
      { attempts: 3, baseMs: 0, capMs: 0 },
    );
    await expect(failing).rejects.toThrow('again');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls++;
          throw new Error('fatal');
        },
        () => false,
        { attempts: 3, baseMs: 0, capMs: 0 },
      ),
    ).rejects.toThrow('fatal');
    expect(calls).toBe(1);
  });

  it('keeps the order and the bound when mapping concurrently', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      inFlight--;
      return n * 2;
    });
    expect(results).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(most).toBe(3);
  });
});

describe('problem+json', () => {
  it('turns an unknown error into a 500 that shows nothing of it', () => {
    const error = Object.assign(new Error('ValidationException: One or more parameter values were invalid'), {
      name: 'ValidationException',
    });
    const result = problemResult(error, 'req-1');
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body ?? '')).toEqual({
      type: 'https://no-lost-updates.dev/problems/internal',
      title: 'Internal error',
      status: 500,
      detail: 'Something went wrong on our side.',
      code: 'INTERNAL',
      requestId: 'req-1',
    });
  });

  it('answers STALE_DATA with 412 for a header precondition, with current and ETag', () => {
    const result = problemResult(new StaleDataError({ id: 'a', version: 4 }, { status: 412 }), 'r');
    expect(result.statusCode).toBe(412);
    expect(result.headers.ETag).toBe('"4"');
    expect(JSON.parse(result.body ?? '')).toMatchObject({
      status: 412,
      code: 'STALE_DATA',
      current: { version: 4 },
    });
  });
});

describe('canonical JSON', () => {
  it('hashes equal objects equally whatever their key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: 2 } })).toBe(
      canonicalJson({ a: { c: 2, d: [1, { e: 2, f: 1 }] }, b: 1 }),
    );
  });
});
