import { config } from '../config';

/**
 * The table every request names, from the environment. Apart from the client, so that the
 * pure request builders take it without importing anything that sends.
 */
export const tableName = (): string => config.TABLE_NAME;
