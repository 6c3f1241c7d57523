import type * as z from 'zod/mini';

/** What a value is, as a message names it: `Infinity` and `NaN` by name, as they are not numbers to JSON. */
const kindOf = (value: unknown): string => {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
};

const units: Record<string, string> = { string: 'character', array: 'item' };

/** A bound as a message says it: `2 characters`, `1 item`, or the bare number. */
const bound = (value: unknown, origin: string | undefined): string => {
  const unit = units[origin ?? ''];
  return unit ? `${String(value)} ${unit}${Number(value) === 1 ? '' : 's'}` : String(value);
};

/**
 * The `detail` of a body field's error. zod/mini (a fraction of the classic API's bundle)
 * loads no locale, and its English one is 2.6 KB of formats this API never checks: these
 * are the messages, one per kind of issue the request schemas can raise. Every parse of a
 * request's values passes it (`safeParse(value, { error: issueDetail })`) rather than setting
 * it with `z.config`, so that classic zod's English, which the contract and the local server
 * load and which installs itself globally, cannot replace it.
 */
export const issueDetail = (issue: z.core.$ZodRawIssue): string => {
  const json = (value: unknown) => JSON.stringify(value);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'integer' : issue.expected;
      return issue.input === undefined
        ? `Required: ${expected}.`
        : `Expected ${expected}, received ${kindOf(issue.input)}.`;
    }
    case 'invalid_value':
      return `Expected ${issue.values.map(json).join(' or ')}.`;
    case 'too_small':
      return `Must be ${issue.inclusive === false ? 'more than' : 'at least'} ${bound(issue.minimum, issue.origin)}.`;
    case 'too_big':
      return `Must be ${issue.inclusive === false ? 'less than' : 'at most'} ${bound(issue.maximum, issue.origin)}.`;
    case 'invalid_format':
      return issue.format === 'regex'
        ? `Must match ${String(issue.pattern)}.`
        : `Must be a valid ${issue.format}.`;
    case 'not_multiple_of':
      return `Must be a multiple of ${String(issue.divisor)}.`;
    default:
      return 'Invalid value.';
  }
};
