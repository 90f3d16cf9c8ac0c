/**
 * The one route table. The CDK API construct (infra/lib/constructs/HttpApi.ts) makes one Lambda per entry and
 * the embedded HTTP server (shared/adapters/local/httpServer.ts) dispatches to the very same handler modules,
 * so the two cannot drift.
 */

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One API route. */
export interface RouteDef {
  /** Stable operation id (OpenAPI operationId, Lambda logical id). */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. `/v1/datasets/{id}`. */
  readonly path: string;
  /** Handler module, relative to the repo root; it exports `handler`. */
  readonly handler: string;
  /** `signed`: the request must carry a valid EIP-712 request signature (see shared/auth). */
  readonly auth: 'signed' | 'public';
  readonly summary: string;
  /** Memory for the Lambda, MB. */
  readonly memoryMb?: number;
  /** Lambda timeout, seconds (API Gateway caps at 29). */
  readonly timeoutSeconds?: number;
}

/** Every route of the public API. */
export const routes = [
  { name: 'getHealth', method: 'GET', path: '/v1/health', handler: 'functions/health/get.ts', auth: 'public', summary: "Each component's status" },
  { name: 'getOpenApi', method: 'GET', path: '/v1/openapi.json', handler: 'functions/docs/openapi.ts', auth: 'public', summary: 'This API as OpenAPI 3.1' },
  { name: 'createDataset', method: 'POST', path: '/v1/datasets', handler: 'functions/datasets/create.ts', auth: 'signed', summary: 'List a dataset' },
  { name: 'listDatasets', method: 'GET', path: '/v1/datasets', handler: 'functions/datasets/list.ts', auth: 'public', summary: 'Search listings (tag, owner, text), cursor-paginated' },
  { name: 'getDataset', method: 'GET', path: '/v1/datasets/{id}', handler: 'functions/datasets/get.ts', auth: 'public', summary: 'One listing' },
  { name: 'updateDataset', method: 'PATCH', path: '/v1/datasets/{id}', handler: 'functions/datasets/update.ts', auth: 'signed', summary: 'Change a listing (owner only); writes a new version' },
  { name: 'getRegistration', method: 'GET', path: '/v1/datasets/{id}/registration', handler: 'functions/datasets/getRegistration.ts', auth: 'public', summary: 'The EIP-712 Registration the owner signs to register the listing on chain (gasless)' },
  { name: 'registerDataset', method: 'POST', path: '/v1/datasets/{id}/registration', handler: 'functions/datasets/register.ts', auth: 'signed', summary: "Relay the owner's signed registration to the DatasetRegistry" },
  { name: 'getKeyGate', method: 'GET', path: '/v1/keygate', handler: 'functions/keygate/info.ts', auth: 'public', summary: 'Key gate backend and the public key data keys are sealed to' },
  { name: 'startUpload', method: 'POST', path: '/v1/datasets/{id}/uploads', handler: 'functions/uploads/start.ts', auth: 'signed', summary: 'Start an encrypted upload: presigned multipart URLs (owner only)' },
  { name: 'getUpload', method: 'GET', path: '/v1/datasets/{id}/uploads/{uploadId}', handler: 'functions/uploads/get.ts', auth: 'signed', summary: 'Parts received and fresh URLs for the rest (resume)' },
  { name: 'completeUpload', method: 'POST', path: '/v1/datasets/{id}/uploads/{uploadId}/complete', handler: 'functions/uploads/complete.ts', auth: 'signed', summary: 'Verify parts, wrap the data key, publish the encrypted manifest', timeoutSeconds: 29, memoryMb: 1024 },
  { name: 'releaseKey', method: 'POST', path: '/v1/datasets/{id}/keys', handler: 'functions/keys/release.ts', auth: 'public', summary: 'Key gate: release the data key, sealed to the requester, if the chain says it is entitled' },
  { name: 'delistDataset', method: 'DELETE', path: '/v1/datasets/{id}', handler: 'functions/datasets/delist.ts', auth: 'signed', summary: 'Delist (owner only): stops new sales, keeps existing licenses' },
] as const satisfies readonly RouteDef[];

/** A route's name. */
export type RouteName = (typeof routes)[number]['name'];

/** Compiles a path template to a matcher that returns the path parameters, or undefined. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i] as string;
    const val = p[i] as string;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (val === '') return undefined;
      params[seg.slice(1, -1)] = decodeURIComponent(val);
    } else if (seg !== val) {
      return undefined;
    }
  }
  return params;
}
