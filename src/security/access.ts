import { principals, type AuthContext } from '../auth/context.ts';
import { parseAcl } from '../query/acl.ts';
import { and, type Condition } from '../query/tree.ts';
import type { StoredAcl } from '../query/write-tree.ts';
import type { ClassPlugins } from '../rest/class-plugin.ts';
import { DEFAULT_CLP } from '../schema/clp.ts';
import type { ClassLevelPermissions, ClassSchema } from '../schema/types.ts';
import type { ReadAccess } from '../storage/sql/context.ts';
import { grantFor, type Grant } from './class-permissions.ts';
import { mergeRules, NOTHING_PROTECTED, protectedFieldsFor, withOwnerOnly, type ProtectedFieldRules, type ProtectedFields } from './protected-fields.ts';

export type ReadOperation = 'find' | 'get' | 'count';
export type WriteOperation = 'update' | 'delete';

/** What the access plan reads: the live schemas (for CLPs), the class plugins and the server options. */
export interface AccessSources {
  readonly plugins: ClassPlugins;
  readonly schemaOf: (className: string) => ClassSchema | undefined;
  /** The server option `protectedFields`, merged into every class's own rules. */
  readonly protectedFields: Readonly<Record<string, ProtectedFieldRules>>;
}

/**
 * Everything one caller may do, as decisions and as predicates. Class-level permissions are decided here
 * (denials throw the Parse error); row-level permissions (ACL, pointer permissions, a server class's own
 * restriction) become part of the SQL of the very statement that reads or writes, so checking and
 * touching a row is one atomic step. Every path — REST, batch, include, sub-queries, cloud code — asks this
 * one object; none builds its own check.
 */
export interface AccessPlan extends ReadAccess {
  readonly auth: AuthContext;
  /** Row restriction for a read, after the CLP allowed `operation` (else throws 119, or 101 for `requiresAuthentication`). */
  readFilter(className: string, operation?: ReadOperation): Condition | undefined;
  /** Row restriction for an update or delete; `addsFields` also requires `addField`. */
  writeFilter(className: string, operation: WriteOperation, addsFields?: boolean): Condition | undefined;
  /** Throws unless the caller may create objects of the class (and add the fields the create needs). */
  assertCreate(className: string, addsFields: boolean): void;
  /** The fields this caller may neither read nor query on the class. */
  protectedFields(className: string): ProtectedFields;
  /** The ACL an object created without one gets (the CLP's `ACL`, with `currentUser` resolved). */
  defaultAcl(className: string): StoredAcl | undefined;
}

const NOTHING: Condition = { type: 'or', conditions: [] };

function pointerCondition(grant: Grant, schema: ClassSchema | undefined, auth: AuthContext): Condition | undefined {
  if (grant.kind === 'all') return undefined;
  if (auth.kind !== 'user') return NOTHING;
  const caller = { kind: 'pointer', className: '_User', objectId: auth.userId } as const;
  const holdsCaller = grant.fields.flatMap((field): Condition[] => {
    const type = schema?.fields.get(field);
    const target = { field, path: [] };
    if (type?.type === 'Pointer') return [{ type: 'compare', target, operator: '=', value: caller }];
    if (type?.type === 'Array') return [{ type: 'all', target, values: [caller] }];
    return [];
  });
  return { type: 'or', conditions: holdsCaller };
}

function resolveDefaultAcl(clp: ClassLevelPermissions, auth: AuthContext): StoredAcl | undefined {
  if (clp.ACL === undefined) return undefined;
  const acl = parseAcl(clp.ACL);
  const resolve = (entries: readonly string[]): string[] =>
    entries.flatMap((entry) => (entry !== 'currentUser' ? [entry] : auth.kind === 'user' ? [auth.userId] : []));
  return { read: resolve(acl.read), write: resolve(acl.write) };
}

/** Master, read-only master and maintenance: no CLP, no ACL, nothing protected (read-only writes are refused earlier). */
class UnrestrictedPlan implements AccessPlan {
  constructor(
    readonly auth: AuthContext,
    private readonly sources: AccessSources,
  ) {}

  readFilter(): undefined {
    return undefined;
  }

  writeFilter(): undefined {
    return undefined;
  }

  assertCreate(): void {
    // Nothing to check.
  }

  protectedFields(): ProtectedFields {
    return NOTHING_PROTECTED;
  }

  defaultAcl(className: string): StoredAcl | undefined {
    return resolveDefaultAcl(this.sources.schemaOf(className)?.classLevelPermissions ?? DEFAULT_CLP, this.auth);
  }
}

/**
 * A client's plan. A class with methods rather than an object of closures: one is built per request, and
 * the hot path (an authenticated get) should not pay for allocating what it does not call.
 */
class ClientPlan implements AccessPlan {
  private readonly read: Condition;
  private readonly write: Condition;
  private protectedCache: WeakMap<ClassSchema, ProtectedFields> | undefined;

  constructor(
    readonly auth: AuthContext,
    private readonly sources: AccessSources,
    entries: readonly string[],
  ) {
    this.read = { type: 'access', column: '_rperm', principals: entries };
    this.write = { type: 'access', column: '_wperm', principals: entries };
  }

  private rowFilter(className: string, mode: 'read' | 'write', operation?: ReadOperation): Condition | undefined {
    return this.sources.plugins.get(className)?.rowFilter?.(this.auth, mode, operation);
  }

  readFilter(className: string, operation: ReadOperation = 'find'): Condition {
    const schema = this.sources.schemaOf(className);
    const grant = grantFor(schema?.classLevelPermissions ?? DEFAULT_CLP, this.auth, operation, className);
    return combine(this.read, this.rowFilter(className, 'read', operation), pointerCondition(grant, schema, this.auth));
  }

  writeFilter(className: string, operation: WriteOperation, addsFields = false): Condition {
    const schema = this.sources.schemaOf(className);
    const clp = schema?.classLevelPermissions ?? DEFAULT_CLP;
    const grant = grantFor(clp, this.auth, operation, className);
    const fieldGrant = addsFields ? grantFor(clp, this.auth, 'addField', className) : undefined;
    return combine(
      this.write,
      this.rowFilter(className, 'write'),
      pointerCondition(grant, schema, this.auth),
      fieldGrant && pointerCondition(fieldGrant, schema, this.auth),
    );
  }

  assertCreate(className: string, addsFields: boolean): void {
    const clp = this.sources.schemaOf(className)?.classLevelPermissions ?? DEFAULT_CLP;
    grantFor(clp, this.auth, 'create', className, true);
    if (addsFields) grantFor(clp, this.auth, 'addField', className, true);
  }

  protectedFields(className: string): ProtectedFields {
    const schema = this.sources.schemaOf(className);
    if (schema === undefined) return NOTHING_PROTECTED;
    this.protectedCache ??= new WeakMap();
    let computed = this.protectedCache.get(schema);
    if (computed === undefined) {
      const rules = mergeRules(schema.classLevelPermissions.protectedFields, this.sources.protectedFields[className]);
      computed = withOwnerOnly(protectedFieldsFor(rules, this.auth, className === '_User'), this.auth, this.sources.plugins.get(className)?.ownerOnlyFields);
      this.protectedCache.set(schema, computed);
    }
    return computed;
  }

  defaultAcl(className: string): StoredAcl | undefined {
    return resolveDefaultAcl(this.sources.schemaOf(className)?.classLevelPermissions ?? DEFAULT_CLP, this.auth);
  }
}

function combine(...conditions: (Condition | undefined)[]): Condition {
  return and(...conditions.filter((c): c is Condition => c !== undefined));
}

export function accessPlanFor(auth: AuthContext, sources: AccessSources): AccessPlan {
  const entries = principals(auth);
  return entries === undefined ? new UnrestrictedPlan(auth, sources) : new ClientPlan(auth, sources, entries);
}

/**
 * The same plan with reads restricted by `readFilter` instead (e.g. "rows this caller may write", or
 * "the user's own row under its ACL only"); every other decision is the plan's own.
 */
export function withReadFilter(plan: AccessPlan, readFilter: (className: string) => Condition | undefined): AccessPlan {
  return {
    auth: plan.auth,
    readFilter,
    writeFilter: (className, operation, addsFields) => plan.writeFilter(className, operation, addsFields),
    assertCreate: (className, addsFields) => plan.assertCreate(className, addsFields),
    protectedFields: (className) => plan.protectedFields(className),
    defaultAcl: (className) => plan.defaultAcl(className),
  };
}

type AccessServices = { readonly plugins: ClassPlugins; readonly schemas: { get(className: string): ClassSchema | undefined }; readonly config: { readonly protectedFields: Readonly<Record<string, ProtectedFieldRules>> } };

/**
 * A server's sources, made once per services object rather than per request: every request builds a plan,
 * and making the `schemaOf` closure each time cost about as much as the rest of it (under tsx, which keeps
 * function names, making a named closure defines a property).
 */
const sourcesOf = new WeakMap<AccessServices, AccessSources>();

/** The plan for a caller of a running server (its schema cache, plugins and options). */
export function callerAccess(auth: AuthContext, services: AccessServices): AccessPlan {
  let sources = sourcesOf.get(services);
  if (sources === undefined) {
    sources = { plugins: services.plugins, schemaOf: (className) => services.schemas.get(className), protectedFields: services.config.protectedFields };
    sourcesOf.set(services, sources);
  }
  return accessPlanFor(auth, sources);
}
