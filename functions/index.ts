import type { HandlerLoader } from '../lib/local/server';

/**
 * Every function's handler by name, loaded on first use as a Lambda cold start would: what
 * the local server runs, so lib never reaches into functions/.
 */
export const loadHandler: HandlerLoader = async (fn) =>
  ((await import(`./${fn}.ts`)) as { handler: Awaited<ReturnType<HandlerLoader>> }).handler;
