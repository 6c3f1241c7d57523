import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableSpec } from '../lib/db/table-spec';

/**
 * The one DynamoDB table, built from the table spec the local runtime and the tests use too.
 * It outlives the stack: retained on deletion and replacement, and protected from deletion.
 * Its stream (new and old images) feeds the live channel's consumer, which takes `table` from here.
 */
export class DataTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string = tableSpec.id) {
    super(scope, id);
    // 'Default' adds nothing to the logical ID, which stays what it was when the table sat
    // on the stack itself: a new logical ID would make CloudFormation create a second,
    // empty table and leave the retained one (with the data) outside the stack.
    this.table = new dynamodb.TableV2(this, 'Default', {
      partitionKey: { name: tableSpec.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableSpec.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: tableSpec.ttlAttribute,
      // The change feed's source (lib/live): every item change, before and after.
      dynamoStream: dynamodb.StreamViewType[tableSpec.stream],
      globalSecondaryIndexes: tableSpec.globalIndexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      })),
      // Business data outlives any stack: deleting or replacing the stack must not drop it,
      // and nobody deletes the table by a slip in the console either.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
  }
}
