import { MethodNotAllowedError, NotFoundError } from '../errors';
import { pathMethods } from '../routes';
import { problemResult } from './problem';
import type { ApiResult } from './response';

/**
 * What the HTTP API's catch-all routes answer: `ANY <path>` (a path of the table, with a
 * method it does not take) 405 with `Allow`; `$default` (no path of the table) 404. Both are
 * problem+json, locally and in AWS alike; `undefined` for any other route key.
 */
export const unroutedAnswer = (routeKey: string, requestId: string): ApiResult | undefined => {
  if (routeKey === '$default') return problemResult(new NotFoundError('No such route.'), requestId);
  if (!routeKey.startsWith('ANY ')) return undefined;
  const allowed = pathMethods().get(routeKey.slice(4));
  return problemResult(
    allowed ? new MethodNotAllowedError(allowed) : new NotFoundError('No such route.'),
    requestId,
  );
};
