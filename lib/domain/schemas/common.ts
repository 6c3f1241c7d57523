import * as z from 'zod/mini';

/**
 * What the bodies of several resources share. Its own module, since each schema here is
 * built at import: a function bundles what it imports, not what it uses.
 */

/** A record's version, as a body may carry it for its precondition: 1, 2, …. */
export const version = z.int().check(z.minimum(1));
