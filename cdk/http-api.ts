import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { anyRouteKeyOf, type FunctionName, pathMethods, routeKeyOf, routes } from '../lib/routes';
import { acknowledge, logGroupName, pascalCase, regionUniqueName } from './common';
import { logRetention } from './functions';

/** Stage throttling of the HTTP API: steady requests per second and the burst above it. */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** Enough for a team's interactive use; a runaway client meets 429s before the table's bill does. */
export const defaultThrottle: ApiThrottle = { rateLimit: 50, burstLimit: 100 };

/** The JSON line API Gateway writes per request: who asked what, what it answered, how fast. */
export const accessLogFields = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  caller: '$context.authorizer.claims.sub',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  responseLength: '$context.responseLength',
  authorizerError: '$context.authorizer.error',
  integrationError: '$context.integrationErrorMessage',
} as const;

/** Headers the web app sends and reads across origins. */
const corsAllowHeaders = [
  'authorization',
  'content-type',
  'if-match',
  'if-none-match',
  'idempotency-key',
  'lock-token',
];
const corsExposeHeaders = [
  'etag',
  'location',
  'idempotent-replayed',
  'retry-after',
  'applied-version',
  'allow',
];

export interface HttpApiProps {
  /** The Lambda function of each name the route table sends requests to. */
  readonly functions: ReadonlyMap<FunctionName, lambda.IFunction>;
  /** The JWT issuer and audience the authorizer trusts. */
  readonly issuer: string;
  readonly audience: string;
  /** The one origin browsers may call the API from (the web app's). */
  readonly allowOrigin: string;
  /** Default: {@link defaultThrottle}. */
  readonly throttle?: ApiThrottle;
}

/**
 * The HTTP API: its routes and their authorisation come from the route table (lib/routes.ts),
 * each sent to its function; one throttled `$default` stage writing a JSON access log line
 * per request.
 */
export class HttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** The stage's base URL, without a trailing slash. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    // Named after the stack, so two stacks' APIs in one region tell apart in the console.
    this.api = new apigwv2.HttpApi(this, 'Default', {
      apiName: regionUniqueName(this, 'api'),
      description: 'No Lost Updates HTTP API; routes generated from lib/routes.ts',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [props.allowOrigin],
        allowMethods: [apigwv2.CorsHttpMethod.ANY],
        allowHeaders: corsAllowHeaders,
        exposeHeaders: corsExposeHeaders,
        maxAge: Duration.hours(1),
      },
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: logGroupName(this, 'api-access'),
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? defaultThrottle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
    });
    this.url = this.stage.url.replace(/\/$/, '');

    const jwtAuthorizer = new HttpJwtAuthorizer('JwtAuthorizer', props.issuer, {
      jwtAudience: [props.audience],
    });
    const noAuthorizer = new apigwv2.HttpNoneAuthorizer();

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationOf = (name: FunctionName): HttpLambdaIntegration => {
      const existing = integrations.get(name);
      if (existing) return existing;
      const fn = props.functions.get(name);
      if (!fn) throw new Error(`Route uses function '${name}', which is not in functionNames`);
      // One invoke permission per function for this API, not one per route: a function's
      // resource policy has a size limit, and the route table only grows.
      const integration = new HttpLambdaIntegration(`${pascalCase(name)}Integration`, fn, {
        scopePermissionToRoute: false,
      });
      integrations.set(name, integration);
      return integration;
    };

    // Route keys are unique in API Gateway; a duplicate in the table is rejected here with its key.
    const routeKeys = routes.map(routeKeyOf);
    const duplicate = routeKeys.find((key, index) => routeKeys.indexOf(key) !== index);
    if (duplicate) throw new Error(`Duplicate route in the route table: ${duplicate}`);

    for (const route of routes) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrationOf(route.fn),
        // Public routes say so explicitly, so a missing authorizer is never an accident.
        authorizer: route.access === 'public' ? noAuthorizer : jwtAuthorizer,
      });
      if (route.access === 'public' && created) {
        acknowledge(created, {
          id: 'AwsSolutions-APIG4',
          reason: `${routeKeyOf(route)} is public by design (route table: access 'public'): it reads no data.`,
        });
      }
    }

    // The catch-alls, answered by the health function, which reads no data: beside every path
    // an `ANY` route, which API Gateway takes for the methods the path does not declare, so
    // they are 405 with `Allow` (and `PUT /annotations/batch` never reaches `/annotations/{id}`);
    // `$default` for a path the API does not have, a problem+json 404.
    const health = integrationOf('health');
    const catchAll = (routeKey: apigwv2.HttpRouteKey, id: string, what: string) => {
      const route = new apigwv2.HttpRoute(this, id, {
        httpApi: this.api,
        routeKey,
        integration: health,
        authorizer: noAuthorizer,
      });
      acknowledge(route, {
        id: 'AwsSolutions-APIG4',
        reason: `${what} is answered without a token by the health function: a problem+json that reads no data.`,
      });
    };
    for (const path of pathMethods().keys()) {
      catchAll(
        apigwv2.HttpRouteKey.with(path, apigwv2.HttpMethod.ANY),
        `CatchAll${pascalCase(path)}`,
        anyRouteKeyOf(path),
      );
    }
    catchAll(apigwv2.HttpRouteKey.DEFAULT, 'CatchAllDefault', '$default');
  }
}
