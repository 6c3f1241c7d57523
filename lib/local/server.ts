import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { MalformedRequestError, NotFoundError, PayloadTooLargeError, UnauthenticatedError } from '../errors';
import { problemResult } from '../http/problem';
import type { ApiEvent } from '../http/request';
import { type ApiResult, json } from '../http/response';
import { parseBody } from '../http/validation';
import { anyRouteKeyOf, type FunctionName, matchRoute, type RouteSpec, routeKeyOf } from '../routes';
import type { LocalTokens } from './tokens';

export type Handler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

/** Finds a function's handler, as Lambda does from the function's configuration. */
export type HandlerLoader = (fn: FunctionName) => Promise<Handler>;

/** What API Gateway itself refuses before any Lambda runs (its payload limit is 10 MB). */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > GATEWAY_MAX_BODY_BYTES) {
        reject(new PayloadTooLargeError(GATEWAY_MAX_BODY_BYTES));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolveBody(Buffer.concat(chunks)));
    request.on('error', reject);
  });

/** API Gateway hands claims on as strings; arrays become `[a b]`. Done here too, so both paths are the same. */
const flattenClaims = (claims: Record<string, unknown>): Record<string, string | number | boolean> =>
  Object.fromEntries(
    Object.entries(claims).map(([name, value]) => [
      name,
      Array.isArray(value) ? `[${value.join(' ')}]` : (value as string | number | boolean),
    ]),
  );

/** Swagger UI, from its npm package (no CDN): the reference page of `/openapi.json`. */
const swaggerUi = (file: string) =>
  join(dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json')), file);

const docsHtml = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>no-lost-updates API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><main id="docs"></main>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

const docsInit = "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs' });";

const asset = (type: string, read: () => string) => (): ApiResult => ({
  statusCode: 200,
  headers: { 'content-type': type },
  body: read(),
});

/** The local-only reference page `GET /docs` and what it loads. */
const docsPages: Record<string, () => ApiResult> = {
  '/docs': asset('text/html; charset=utf-8', () => docsHtml),
  '/docs/init.js': asset('text/javascript; charset=utf-8', () => docsInit),
  '/docs/swagger-ui-bundle.js': asset('text/javascript; charset=utf-8', () =>
    readFileSync(swaggerUi('swagger-ui-bundle.js'), 'utf8'),
  ),
  '/docs/swagger-ui.css': asset('text/css; charset=utf-8', () =>
    readFileSync(swaggerUi('swagger-ui.css'), 'utf8'),
  ),
};

/** Where `vite build` leaves the web app unless told otherwise. */
export const defaultWebRoot = (): string =>
  process.env.WEB_DIST ?? fileURLToPath(new URL('../../web/dist', import.meta.url));

const webTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The web app at `/` and its files under `/assets/`, as built; `/config.json` tells it to
 * sign in with the local demo users and call this server.
 */
const webPage = (webRoot: string, rawPath: string): ApiResult | undefined => {
  if (rawPath === '/config.json') return json(200, { mode: 'local', apiUrl: '' });
  if (rawPath !== '/' && !rawPath.startsWith('/assets/')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  const file = normalize(rawPath === '/' ? 'index.html' : decoded.slice(1));
  const type = webTypes[extname(file)];
  const path = join(webRoot, file);
  if (!file.startsWith('assets/') && file !== 'index.html') return undefined;
  if (!type || !existsSync(path)) {
    if (rawPath === '/') throw new NotFoundError('The web app is not built: run npm run build:web.');
    return undefined;
  }
  return { statusCode: 200, headers: { 'content-type': type }, body: readFileSync(path, 'utf8') };
};

const tokenRequestSchema = z.strictObject({
  sub: z.string().min(1).max(200),
  groups: z.array(z.string().min(1).max(100)).max(20).optional(),
  ttlSeconds: z
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional(),
});

const send = (response: ServerResponse, result: ApiResult): void => {
  response.writeHead(result.statusCode, result.headers);
  response.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
};

/**
 * Serves the route table over node:http the way API Gateway would: it matches the route,
 * checks the bearer token as the JWT authorizer does, builds an APIGatewayProxyEventV2
 * with the claims and calls the same handler export Lambda calls. Adds the local-only
 * `POST /_local/token` and `GET /docs`, the reference page of `/openapi.json`.
 */
export const createLocalServer = (
  tokens: LocalTokens,
  loadHandler: HandlerLoader,
  options: { webRoot?: string } = {},
): Server => {
  const webRoot = options.webRoot ?? defaultWebRoot();
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (request, response) => {
    const requestId = randomUUID();
    handle(tokens, loadHandler, webRoot, request, requestId)
      .then((result) => send(response, result))
      .catch((error: unknown) => send(response, problemResult(error, requestId)));
  });
  // What node's parser refuses (headers past the limit, garbage) gets problem+json too, never a bare status.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const detail =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? `The request headers exceed ${MAX_HEADER_BYTES} bytes.`
        : 'The request is not valid HTTP.';
    const result = problemResult(new MalformedRequestError(detail), randomUUID());
    const body = result.body ?? '';
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
};

/** Headers a request may carry in all: room for any token a client may send, which is then checked. */
const MAX_HEADER_BYTES = 64 * 1024;

const handle = async (
  tokens: LocalTokens,
  loadHandler: HandlerLoader,
  webRoot: string,
  request: IncomingMessage,
  requestId: string,
): Promise<ApiResult> => {
  // The path as sent: never normalised (the WHATWG URL parser would turn `/annotations/%2e%2e`
  // into `/`), so no spelling of an API path reaches the web app, and `..` is just a segment.
  const target = request.url ?? '/';
  const rawPath = target.startsWith('/') ? (target.split('?')[0] ?? '/') : '';
  const url = new URL(`http://localhost/${target.includes('?') ? target.slice(target.indexOf('?')) : ''}`);
  const method = (request.method ?? 'GET').toUpperCase();
  const body = await readBody(request);

  // The web app and the reference page are served only at their own paths, none an API path.
  const page = method === 'GET' ? docsPages[rawPath] : undefined;
  if (page) return page();
  const web = method === 'GET' ? webPage(webRoot, rawPath) : undefined;
  if (web) return web;

  if (method === 'POST' && rawPath === '/_local/token') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8') || 'null');
    } catch {
      throw new MalformedRequestError('The body is not valid JSON.');
    }
    const claims = parseBody(tokenRequestSchema, parsed);
    return json(200, { token: await tokens.sign(claims) });
  }

  // As the HTTP API routes: a route of the table; else the path's `ANY` route (405) or
  // `$default` (404), both answered by the health function.
  const matched = matchRoute(method, rawPath);
  const route: Pick<RouteSpec, 'fn' | 'access'> & { key: string } =
    matched && 'route' in matched
      ? { key: routeKeyOf(matched.route), fn: matched.route.fn, access: matched.route.access }
      : { key: matched ? anyRouteKeyOf(matched.path) : '$default', fn: 'health', access: 'public' };
  const rawParameters = matched && 'route' in matched ? matched.parameters : {};
  const parameters = Object.keys(rawParameters);

  let claims: Record<string, string | number | boolean> | undefined;
  if (route.access !== 'public') {
    const authorization = request.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(authorization)?.[1];
    if (!token) throw new UnauthenticatedError();
    const verified = await tokens.verify(token);
    if ('refused' in verified) throw new UnauthenticatedError(verified.refused);
    claims = flattenClaims(verified.claims);
  }

  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name.toLowerCase(),
      Array.isArray(value) ? value.join(',') : (value ?? ''),
    ]),
  );
  const query = [...url.searchParams.keys()];
  let pathParameters: Record<string, string>;
  try {
    pathParameters = Object.fromEntries(
      parameters.map((name) => [name, decodeURIComponent(rawParameters[name] ?? '')]),
    );
  } catch {
    throw new MalformedRequestError('The path is not valid percent-encoding.');
  }
  const now = new Date();
  const event = {
    version: '2.0',
    routeKey: route.key,
    rawPath,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(query.length > 0
      ? {
          queryStringParameters: Object.fromEntries(
            query.map((name) => [name, url.searchParams.getAll(name).join(',')]),
          ),
        }
      : {}),
    ...(parameters.length > 0 ? { pathParameters } : {}),
    // A body that is not UTF-8 goes on base64-encoded, as its bytes are: the handler refuses it.
    ...(body.byteLength > 0 ? { body: isUtf8(body) ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.byteLength > 0 && !isUtf8(body),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.key,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      ...(claims
        ? { authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } } }
        : {}),
    },
  } as unknown as ApiEvent;
  const context = { awsRequestId: requestId, functionName: route.fn } as Context;
  const handler = await loadHandler(route.fn);
  return handler(event, context);
};
