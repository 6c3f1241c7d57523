/**
 * Exact sums of money. A child's amount (an order line's quantity × unit price) is at most
 * 10^15, an integer a double holds exactly; their sum over 500 children reaches 5 × 10^17,
 * past 2^53. So sums are taken in BigInt and, past 2^53, given to JSON as their exact digits.
 * No stored number is ever past 2^53: an aggregate's header keeps its children's amounts one
 * by one (children.ts), never their sum.
 */

// Node 22 (the Lambda runtime) has JSON.rawJSON; TypeScript's ES2023 lib does not declare it.
export const rawJson = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

/** An integer as JSON writes it exactly: a number up to 2^53, its digits past it. */
export const exactInteger = (value: bigint): unknown =>
  (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) || !rawJson
    ? Number(value)
    : rawJson(value.toString());

/** The exact sum of integer amounts. */
export const sumOf = (amounts: Iterable<number>): bigint => {
  let sum = 0n;
  for (const amount of amounts) sum += BigInt(amount);
  return sum;
};
