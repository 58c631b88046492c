import { isMaster } from '../auth/context.ts';
import { masterKeyRequired } from '../errors/parse-error.ts';
import type { AggregateRequest } from '../query/parse-aggregate.ts';
import type { Condition } from '../query/tree.ts';
import type { FieldType } from '../schema/types.ts';
import { assertQueryable } from '../security/query-fields.ts';
import { compileAggregate, compileDistinct } from '../storage/sql/compile-aggregate.ts';
import { assertClassServed } from './class-access.ts';
import { encodeRow, type JsonRecord } from './encode.ts';
import { fileBaseUrl, hideProtected } from './find.ts';
import { clientReads } from './read-source.ts';
import type { Caller } from './services.ts';

/**
 * `GET /aggregate/:className`: the master key (or the read-only master key: it only reads) and nobody
 * else, as in Parse (403 "unauthorized: master key is required"; the maintenance key is not a master).
 * It still goes through the access plan and the class checks like every read, so the same statement
 * would carry a client's permissions if the rule ever changed.
 */
export function assertMayAggregate(caller: Caller): void {
  if (!isMaster(caller.auth)) throw masterKeyRequired();
}

/** A distinct value in its wire form: dates and pointers typed as Parse encodes them. */
function encodeDistinct(value: unknown, field: FieldType | undefined): unknown {
  switch (field?.type) {
    case 'Date':
      return { __type: 'Date', iso: value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString() };
    case 'Pointer':
      return { __type: 'Pointer', className: field.targetClass, objectId: value };
    case 'Bytes':
      return { __type: 'Bytes', base64: value };
    default:
      return value;
  }
}

/** Protected fields are checked as for a find (they matter only if a non-master ever gets here). */
function checkFields(caller: Caller, className: string, where: Condition): void {
  assertQueryable(caller.access, { className, where, order: [], limit: 0, skip: 0, keys: undefined, excludeKeys: new Set(), include: [], count: false });
}

/** `options.replica`: a client's aggregate, which the read replica may serve (see FindOptions.replica). */
export async function aggregate(caller: Caller, request: AggregateRequest, options: { readonly replica?: boolean } = {}): Promise<{ results: unknown[] }> {
  assertMayAggregate(caller);
  assertClassServed(caller, request.className, 'find');
  const { schemas, driver } = caller.services;
  await schemas.loadIfMissing(request.className, driver);
  const schema = schemas.get(request.className);
  if (schema === undefined) return { results: [] };
  checkFields(caller, request.className, request.where);
  const base = { schemaOf: (name: string) => schemas.get(name), access: caller.access };
  const reads = options.replica === true ? clientReads(caller) : driver;
  if (request.kind === 'distinct') {
    const compiled = compileDistinct(request, schema, base);
    const { rows } = await reads.query<{ v: unknown }>(compiled.text, compiled.params);
    return { results: rows.map((row) => encodeDistinct(row.v, compiled.field)) };
  }
  for (const stage of request.stages) if (stage.kind === 'match') checkFields(caller, request.className, stage.where);
  const compiled = compileAggregate(request, schema, base);
  const { rows } = await reads.query<JsonRecord>(compiled.text, compiled.params);
  const { frame } = compiled;
  const results = rows.map((row) => {
    const encoded = encodeRow(frame.schema, row, fileBaseUrl(caller));
    if (frame.shape === 'count') delete encoded.objectId;
    if (frame.projected !== undefined) {
      const shown = new Set(['objectId', ...frame.projected]);
      for (const key of Object.keys(encoded)) if (!shown.has(key)) delete encoded[key];
    }
    return encoded;
  });
  if (frame.shape === 'object') hideProtected(caller, request.className, results);
  return { results };
}
