import type { FinalizeHandlerArguments, HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import { db } from '../../lib/db/client';

// biome-ignore lint/suspicious/noExplicitAny: the stack is generic over every command's input and output.
type AnyStack = MiddlewareStack<any, any>;
const stack = (): AnyStack => db().middlewareStack as AnyStack;
let counter = 0;

/** One request sent to DynamoDB: its command name and its input. */
export interface SentRequest {
  command: string;
  input: Record<string, unknown>;
}

/**
 * Runs `fn` and records every request it sends to DynamoDB, by command name (one entry per
 * command, counted outside the SDK's own retries), and each with its input.
 */
export const recordRequests = async <T>(
  fn: () => Promise<T>,
): Promise<{ result: T; commands: string[]; requests: SentRequest[] }> => {
  const requests: SentRequest[] = [];
  const name = `test-record-${counter++}`;
  stack().add(
    ((
      next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
      context: HandlerExecutionContext,
    ) =>
      async (args: { input: Record<string, unknown> }) => {
        requests.push({ command: String(context.commandName), input: args.input });
        return next(args);
      }) as never,
    { step: 'initialize', name },
  );
  try {
    const result = await fn();
    return { result, commands: requests.map((request) => request.command), requests };
  } finally {
    stack().remove(name);
  }
};

export interface Fault {
  /** Which requests to fail: the command name and its (marshalled) input. */
  when: (commandName: string, input: Record<string, unknown>) => boolean;
  /** `after`: the request reaches the database, then its response is lost. `before`: it never leaves. */
  at: 'before' | 'after';
  error: () => Error;
  /**
   * `outside-retries`: the caller sees the error (the SDK does not retry it).
   * `inside-retries`: the SDK sees it on one attempt and retries the same request.
   */
  layer: 'outside-retries' | 'inside-retries';
  /** Injects at most this many times (default: every matching request). */
  times?: number;
  /**
   * With `after`: runs once the request has reached the database and before its response is
   * lost (say, another user's write landing before the SDK's retry). Gets the request's input.
   */
  interlude?: (input: Record<string, unknown>) => Promise<unknown>;
}

/** Injects a fault into real requests to DynamoDB Local while `fn` runs. */
export const withFault = async <T>(
  fault: Fault,
  fn: () => Promise<T>,
): Promise<{ result: T; injected: number }> => {
  let injected = 0;
  const name = `test-fault-${counter++}`;
  stack().add(
    ((next: (args: FinalizeHandlerArguments<object>) => Promise<unknown>, context: HandlerExecutionContext) =>
      async (args: FinalizeHandlerArguments<object>) => {
        const hit =
          injected < (fault.times ?? Number.POSITIVE_INFINITY) &&
          fault.when(String(context.commandName), args.input as Record<string, unknown>);
        if (hit && fault.at === 'before') {
          injected++;
          throw fault.error();
        }
        // Counted before the interlude, whose own requests pass through here too.
        if (hit) injected++;
        const output = await next(args);
        if (hit && fault.at === 'after') {
          await fault.interlude?.(args.input as Record<string, unknown>);
          throw fault.error();
        }
        return output;
      }) as never,
    (fault.layer === 'outside-retries'
      ? { step: 'initialize', name }
      : { step: 'deserialize', name }) as never,
  );
  try {
    return { result: await fn(), injected };
  } finally {
    stack().remove(name);
  }
};

/** An error the SDK's retry strategy treats as transient (a timed-out socket). */
export const networkTimeout = (): Error =>
  Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });

/** DynamoDB throttling a request (retried by the SDK, unless injected outside its retries). */
export const throttled = (): Error =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ProvisionedThroughputExceededException',
    $retryable: undefined,
  });

/** An error inside DynamoDB (a 500 from the service), as the SDK hands it on. */
export const internalServerError = (): Error =>
  Object.assign(new Error('Internal server error'), {
    name: 'InternalServerError',
    $fault: 'server',
    $retryable: undefined,
  });

/**
 * The answer to the first `command` is lost after the database applied it, and the SDK
 * retries the same request: what a dropped connection does to a write.
 */
export const lostAnswerRetriedBySdk = (command: string): Fault => ({
  when: (name) => name === command,
  at: 'after',
  error: networkTimeout,
  layer: 'inside-retries',
  times: 1,
});

/**
 * Runs `interlude` (say, another user's write) just before the first `command` that `fn`
 * sends, then lets that command go on: a race placed exactly between a read and a write.
 */
export const interleave = async <T>(
  command: string,
  interlude: () => Promise<unknown>,
  fn: () => Promise<T>,
): Promise<{ result: T; interleaved: number }> => {
  let interleaved = 0;
  const name = `test-interleave-${counter++}`;
  stack().add(
    ((next: (args: unknown) => Promise<unknown>, context: HandlerExecutionContext) =>
      async (args: unknown) => {
        if (interleaved === 0 && context.commandName === command) {
          interleaved++;
          await interlude();
        }
        return next(args);
      }) as never,
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), interleaved };
  } finally {
    stack().remove(name);
  }
};

/**
 * The answers to the first `times` `command`s that `fn` sends are rewritten before the core
 * sees them (as the DocumentClient gives them: plain values): what DynamoDB may answer and
 * DynamoDB Local never does, say a Query that sees a transaction half applied.
 */
export const withRewrittenAnswer = async <T>(
  command: string,
  rewrite: (output: Record<string, unknown>) => Record<string, unknown>,
  fn: () => Promise<T>,
  times = 1,
): Promise<{ result: T; rewritten: number }> => {
  let rewritten = 0;
  const name = `test-rewrite-${counter++}`;
  stack().add(
    ((
      next: (args: unknown) => Promise<{ output: Record<string, unknown> }>,
      context: HandlerExecutionContext,
    ) =>
      async (args: unknown) => {
        const answer = await next(args);
        if (rewritten >= times || context.commandName !== command) return answer;
        rewritten++;
        return { ...answer, output: rewrite(answer.output) };
      }) as never,
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), rewritten };
  } finally {
    stack().remove(name);
  }
};

/**
 * DynamoDB saying a transaction under this ClientRequestToken is still being processed: the
 * request's own earlier attempt may yet commit.
 */
export const transactionInProgress = (): Error =>
  Object.assign(new Error('Transaction is in progress'), {
    name: 'TransactionInProgressException',
    $retryable: undefined,
  });

/**
 * The first `command` that `fn` sends reaches the database and is answered with `error`;
 * from then on every request is refused with `error` before it leaves, outside the SDK's
 * retries: a write applied, and every way of confirming it failing too.
 */
export const withAppliedThenRefused = async <T>(
  command: string,
  error: () => Error,
  fn: () => Promise<T>,
): Promise<{ result: T; applied: number; refused: number }> => {
  let applied = 0;
  let refused = 0;
  let armed = false;
  const name = `test-applied-then-refused-${counter++}`;
  stack().add(
    ((next: (args: unknown) => Promise<unknown>, context: HandlerExecutionContext) =>
      async (args: unknown) => {
        if (armed) {
          refused++;
          throw error();
        }
        if (context.commandName !== command) return next(args);
        // Whatever is sent from now on is refused, even while this one is on its way.
        armed = true;
        await next(args);
        applied++;
        throw error();
      }) as never,
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), applied, refused };
  } finally {
    stack().remove(name);
  }
};

/** What happens to one attempt: it goes through, or fails before it leaves or after it landed. */
export type AttemptFate = 'pass' | { at: 'before' | 'after'; error: () => Error };

/**
 * Decides, attempt by attempt (inside the retries, as a dropped connection or DynamoDB would),
 * what happens to each request `fn` sends: `choose` sees the command, its input and how many
 * attempts of the same request it has seen before (by ClientRequestToken, or by the request
 * itself), so a history can lose some answers and stall some transactions, each its own way.
 */
export const withAttemptFates = async <T>(
  choose: (command: string, input: Record<string, unknown>, earlier: number) => AttemptFate,
  fn: () => Promise<T>,
): Promise<{ result: T; fates: Record<string, number> }> => {
  const seen = new Map<string, number>();
  const fates: Record<string, number> = {};
  const name = `test-fates-${counter++}`;
  stack().add(
    ((next: (args: FinalizeHandlerArguments<object>) => Promise<unknown>, context: HandlerExecutionContext) =>
      async (args: FinalizeHandlerArguments<object>) => {
        const input = args.input as Record<string, unknown>;
        const identity = String(input.ClientRequestToken ?? JSON.stringify(input));
        const earlier = seen.get(identity) ?? 0;
        seen.set(identity, earlier + 1);
        const fate = choose(String(context.commandName), input, earlier);
        if (fate === 'pass') return next(args);
        const label = `${context.commandName} ${fate.at} ${fate.error().name}`;
        fates[label] = (fates[label] ?? 0) + 1;
        if (fate.at === 'before') throw fate.error();
        await next(args);
        throw fate.error();
      }) as never,
    { step: 'deserialize', name },
  );
  try {
    return { result: await fn(), fates };
  } finally {
    stack().remove(name);
  }
};
