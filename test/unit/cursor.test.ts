import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { type CursorShape, decodeCursor, encodeCursor } from '../../lib/core/build/cursor';
import { translateSdkError } from '../../lib/core/send/translate';

const malformed = expect.objectContaining({ code: 'MALFORMED_REQUEST', status: 400 });

/** A cursor of any JSON at all, as a forger would make it. */
const forged = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

const entries: CursorShape = {
  attributes: ['pk', 'sk'],
  fixed: { pk: 'ACCOUNT#a' },
  prefixes: { sk: 'ENTRY#' },
};
const listing: CursorShape = {
  attributes: ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
  fixed: { gsi1pk: 'ANNOTATION' },
};
const listingKey = {
  pk: 'ANNOTATION#x',
  sk: 'RECORD',
  gsi1pk: 'ANNOTATION',
  gsi1sk: '2024-01-01T00:00:00.000Z#x',
};

describe('decodeCursor', () => {
  it('gives back the start key a cursor was made of', () => {
    const key = { pk: 'ACCOUNT#a', sk: 'ENTRY#2024-01-01T00:00:00.000Z#e1' };
    expect(decodeCursor(encodeCursor(key), entries)).toEqual(key);
    expect(decodeCursor(encodeCursor(listingKey), listing)).toEqual(listingKey);
  });

  it('reads no cursor as the first page', () => {
    expect(decodeCursor(undefined, entries)).toBeUndefined();
  });

  it('accepts a value of exactly 1024 UTF-8 bytes, multi-byte characters included', () => {
    const sk = `ENTRY#${'é'.repeat(509)}`;
    expect(Buffer.byteLength(sk)).toBe(1024);
    expect(decodeCursor(forged({ pk: 'ACCOUNT#a', sk }), entries)).toEqual({ pk: 'ACCOUNT#a', sk });
  });

  it.each([
    ['an empty pk', { ...listingKey, pk: '' }],
    ['an empty sk', { ...listingKey, sk: '' }],
    ['an empty index sort key', { ...listingKey, gsi1sk: '' }],
    ['an empty index partition key', { ...listingKey, gsi1pk: '' }],
  ])('refuses %s, which DynamoDB would refuse', (_name, key) => {
    expect(() => decodeCursor(forged(key), listing)).toThrow(malformed);
  });

  it.each([
    ['a number', 1],
    ['null', null],
    ['a boolean', true],
    ['an object', { S: 'x' }],
    ['an array', ['x']],
  ])('refuses %s as a key value', (_name, value) => {
    expect(() => decodeCursor(forged({ ...listingKey, gsi1sk: value }), listing)).toThrow(malformed);
  });

  it.each([
    ['1025 ASCII characters', 'x'.repeat(1025)],
    ['513 two-byte characters (1026 bytes)', 'é'.repeat(513)],
  ])('refuses a key value over 1024 bytes: %s', (_name, gsi1sk) => {
    expect(() => decodeCursor(forged({ ...listingKey, gsi1sk }), listing)).toThrow(malformed);
  });

  it('refuses a lone surrogate, which would reach DynamoDB as another key', () => {
    expect(() => decodeCursor(forged({ ...listingKey, gsi1sk: 'a\ud800' }), listing)).toThrow(malformed);
  });

  it.each([
    ['the record item', 'RECORD'],
    ['the prefix without its separator', 'ENTRY'],
    ['the prefix in another case', 'entry#x'],
  ])('refuses a sort key outside the prefix the query reads: %s', (_name, sk) => {
    expect(() => decodeCursor(forged({ pk: 'ACCOUNT#a', sk }), entries)).toThrow(malformed);
  });

  it('refuses a start key in another partition', () => {
    expect(() => decodeCursor(forged({ pk: 'ACCOUNT#b', sk: 'ENTRY#x' }), entries)).toThrow(malformed);
  });

  it.each([
    ['missing attributes', { pk: 'ACCOUNT#a' }],
    ['an extra attribute', { pk: 'ACCOUNT#a', sk: 'ENTRY#x', gsi1sk: 'x' }],
    ['a prototype key', JSON.parse('{"pk":"ACCOUNT#a","sk":"ENTRY#x","__proto__":"x"}')],
  ])('refuses %s', (_name, key) => {
    expect(() => decodeCursor(forged(key), entries)).toThrow(malformed);
  });

  it.each([
    ['an empty cursor', ''],
    ['characters outside base64url', '%%%'],
    ['standard base64 padding', `${forged({ pk: 'ACCOUNT#a', sk: 'ENTRY#x' })}=`],
    ['a cursor over 2048 characters', 'A'.repeat(2049)],
    ['base64url of no JSON', Buffer.from('not json').toString('base64url')],
    ['base64url of binary', Buffer.from([0xff, 0xfe, 0x00, 0x81]).toString('base64url')],
    ['JSON null', forged(null)],
    ['a JSON array', forged(['ACCOUNT#a', 'ENTRY#x'])],
    ['a JSON string', forged('ACCOUNT#a')],
    ['a JSON number', forged(7)],
  ])('refuses garbage: %s', (_name, cursor) => {
    expect(() => decodeCursor(cursor, entries)).toThrow(malformed);
  });
});

describe('a start key DynamoDB refuses', () => {
  const validation = (message: string) =>
    new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message });

  it.each([
    'The provided starting key does not match the range key predicate',
    'The provided starting key is outside query boundaries based on provided conditions',
    'The provided starting key is invalid: The provided key element does not match the schema',
    "Exclusive Start Key must have same size as table's key schema",
  ])('is a 400, not a 500: %s', (message) => {
    expect(() => translateSdkError(validation(message))).toThrow(malformed);
  });

  it('leaves every other ValidationException as it is', () => {
    const other = validation('One or more parameter values were invalid: Missing the key sk in the item');
    expect(() => translateSdkError(other)).toThrow(other);
  });
});
