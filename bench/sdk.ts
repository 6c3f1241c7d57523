import type { HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import { db } from '../lib/db/client';

// biome-ignore lint/suspicious/noExplicitAny: the stack is generic over every command's input and output.
type AnyStack = MiddlewareStack<any, any>;
type Next = (args: { input: Record<string, unknown>; request?: unknown }) => Promise<{
  output?: Record<string, unknown>;
}>;
let counter = 0;

/** Runs `fn` with one middleware added to the DocumentClient's stack, which every contender sends through. */
const withMiddleware = async <T>(
  middleware: (next: Next, context: HandlerExecutionContext) => Next,
  position: { step: 'initialize' | 'deserialize'; priority?: 'low' },
  fn: () => Promise<T>,
): Promise<T> => {
  const stack = db().middlewareStack as AnyStack;
  const name = `bench-${counter++}`;
  stack.add(middleware as never, { ...position, name } as never);
  try {
    return await fn();
  } finally {
    stack.remove(name);
  }
};

/**
 * Runs `fn` with the network stubbed: every request is signed, serialised and its answer
 * parsed as usual, but the HTTP hop is replaced by `answer(commandName)` (DynamoDB's JSON),
 * so what remains is the CPU of the library and the SDK.
 */
export const withStubbedNetwork = <T>(answer: (command: string) => string, fn: () => Promise<T>) =>
  withMiddleware(
    (_next, context) => async () =>
      ({
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: new TextEncoder().encode(answer(String(context.commandName))),
        },
      }) as never,
    // Innermost: below the deserializer, in place of the request handler.
    { step: 'deserialize', priority: 'low' },
    fn,
  );

const WRITES = /^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)Command$/;

type Capacity = { WriteCapacityUnits?: number; ReadCapacityUnits?: number; CapacityUnits?: number };

/**
 * Capacity units DynamoDB reported consumed by the requests `fn` sent (ReturnConsumedCapacity:
 * TOTAL). DynamoDB Local reports only `CapacityUnits`: they count as write units for a write
 * and read units for a read.
 */
export const consumedCapacity = async <T>(fn: () => Promise<T>): Promise<{ write: number; read: number }> => {
  const total = { write: 0, read: 0 };
  await withMiddleware(
    (next, context) => async (args) => {
      args.input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const write = WRITES.test(String(context.commandName));
      for (const entry of [
        (result.output?.ConsumedCapacity as Capacity | Capacity[] | undefined) ?? [],
      ].flat()) {
        total.write += entry.WriteCapacityUnits ?? (write ? (entry.CapacityUnits ?? 0) : 0);
        total.read += entry.ReadCapacityUnits ?? (write ? 0 : (entry.CapacityUnits ?? 0));
      }
      return result;
    },
    { step: 'initialize' },
    fn,
  );
  return total;
};
