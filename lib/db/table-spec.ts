/**
 * The one declaration of the DynamoDB table. CDK builds the deployed table from it,
 * and the local runtime and the tests create their tables from it, so they cannot drift.
 */
export const tableSpec = {
  /** CDK construct id of the table. */
  id: 'Data',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB may delete the item (tombstones, idempotency records). */
  ttlAttribute: 'expiresAt',
  /**
   * The table's change stream: every item change once, in order per item, with the item
   * before and after it (DynamoDB Streams, kept 24 h). The live channel reads it (lib/live).
   */
  stream: 'NEW_AND_OLD_IMAGES',
  globalIndexes: [
    /** Sparse index listing live records of one type; tombstones drop out of it. */
    { name: 'byType', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  ],
} as const;

export type TableSpec = typeof tableSpec;
