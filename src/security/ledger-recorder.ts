import { NO_CLIENT } from '../http/client-info.ts';
import type { Dispatched, DispatchObserver } from '../http/router.ts';
import { onBehalfOf, type KeyKind, type PrivilegeLedger } from './ledger.ts';

const FIXED_CLASSES: Readonly<Record<string, string>> = { '/users': '_User', '/sessions': '_Session', '/roles': '_Role' };
const OPERATIONS: Readonly<Record<string, string>> = { GET: 'find', POST: 'create' };
const OBJECT_OPERATIONS: Readonly<Record<string, string>> = { GET: 'get', PUT: 'update', DELETE: 'delete' };

function classOf({ route, params }: Dispatched): string | undefined {
  if (params.className !== undefined) return params.className;
  const base = route.replace(/\/:objectId$/, '');
  return FIXED_CLASSES[base];
}

function operationOf({ request, route, params }: Dispatched): string {
  if (route.startsWith('/functions/')) return `function:${params.name ?? ''}`;
  if (route.startsWith('/jobs/')) return `job:${params.name ?? ''}`;
  const isObjectRoute = route.endsWith('/:objectId');
  const isCollection = route === '/classes/:className' || FIXED_CLASSES[route] !== undefined;
  if (isObjectRoute) return OBJECT_OPERATIONS[request.method] ?? request.method;
  if (isCollection) return OPERATIONS[request.method] ?? request.method;
  return `${request.method} ${route}`;
}

/** The ids a request touched: its path's, a created object's, or a find's results (the ledger caps them). */
function idsOf({ params, body }: Dispatched): string[] {
  if (params.objectId !== undefined) return [params.objectId];
  if (typeof body !== 'object' || body === null) return [];
  const { objectId, results } = body as { objectId?: unknown; results?: unknown };
  if (typeof objectId === 'string') return [objectId];
  if (!Array.isArray(results)) return [];
  return results.slice(0, 20).flatMap((row: unknown) => {
    const id = typeof row === 'object' && row !== null ? (row as { objectId?: unknown }).objectId : undefined;
    return typeof id === 'string' ? [id] : [];
  });
}

/**
 * Decides which dispatched requests the ledger records: every request made with the master, read-only
 * master or maintenance key (each batch sub-request on its own; not the batch envelope), and every cloud
 * code call made with `useMasterKey`, named by the function, trigger or job that made it and the user it
 * ran for. Cloud code acting as its caller is that caller's request, not a privileged one.
 */
export function ledgerObserver(ledger: PrivilegeLedger): DispatchObserver {
  return (dispatched) => {
    try {
      const { request, route } = dispatched;
      if (route === '/batch') return;
      const { auth } = request.caller;
      let keyKind: KeyKind | undefined;
      if (request.fromCloud === true) keyKind = request.escalation === undefined ? undefined : 'escalation';
      else if (auth.kind === 'master' || auth.kind === 'readOnlyMaster' || auth.kind === 'maintenance') keyKind = auth.kind;
      if (keyKind === undefined) return;
      ledger.record({
        keyKind,
        ip: (request.caller.client ?? NO_CLIENT).ip,
        method: request.method,
        path: request.path,
        origin: request.escalation?.origin,
        onBehalfOf: keyKind === 'escalation' ? (onBehalfOf(request.escalation?.onBehalfOf) ?? 'anonymous') : undefined,
        className: classOf(dispatched),
        operation: operationOf(dispatched),
        objectIds: idsOf(dispatched),
        status: dispatched.status,
      });
    } catch {
      // Recording must never fail the request it describes; the ledger logs its own write failures.
    }
  };
}
