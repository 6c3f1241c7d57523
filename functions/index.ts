import type { Handler, HandlerLoader } from '../lib/local/server';
import type { FunctionName } from '../lib/routes';

/** Every function's module, loaded on first use as a Lambda cold start would. */
const modules: Record<FunctionName, () => Promise<{ handler: unknown }>> = {
  health: () => import('./health'),
  annotations: () => import('./annotations'),
  orders: () => import('./orders'),
  debtors: () => import('./debtors'),
  articles: () => import('./articles'),
  accounts: () => import('./accounts'),
};

/** What the local server runs, so lib never reaches into functions/. */
export const loadHandler: HandlerLoader = async (fn) => (await modules[fn]()).handler as Handler;
