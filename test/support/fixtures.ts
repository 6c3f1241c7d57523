import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, expect } from 'vitest';
import { keyOf } from '../../lib/core/build/keys';
import { db } from '../../lib/db/client';
import { tableName } from '../../lib/db/table-name';
import type { Role } from '../../lib/domain/roles';
import type { CallResult, TestApi } from './api';
import { sendForTest } from './table';

/**
 * The fixtures many test files share: tokens for a cast of users, an answer's body once its
 * status is the expected one, names no other test uses, and an item as stored.
 */

/** Tokens for `users` (name → [sub, ...roles]), made before the file's tests run. */
export const useTokens = <N extends string>(
  api: TestApi,
  users: Record<N, readonly [sub: string, ...roles: Role[]]>,
): Record<N, string> => {
  const tokens = {} as Record<N, string>;
  beforeAll(async () => {
    for (const [name, [sub, ...roles]] of Object.entries(users) as [N, [string, ...Role[]]][])
      tokens[name] = await api.tokenFor(sub, ...roles);
  });
  return tokens;
};

/** The answer's body, once its status is `status` (else the test fails, showing the body). */
export const ok = (answer: CallResult, status: number) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer.body;
};

let unique = 0;
/** A name no other test of this process uses. */
export const uniqueName = (prefix: string) => `${prefix}-${++unique}-${Date.now()}`;

/** A record's item as stored, bookkeeping included (`{}` when there is none). */
// biome-ignore lint/suspicious/noExplicitAny: tests read whatever is stored.
export const storedItem = async (type: string, id: string): Promise<Record<string, any>> =>
  (
    await sendForTest(() =>
      db().send(new GetCommand({ TableName: tableName(), Key: keyOf({ type }, id), ConsistentRead: true })),
    )
  ).Item ?? {};
