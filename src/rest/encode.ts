import { aclToJson } from '../query/acl.ts';
import type { ClassSchema } from '../schema/types.ts';

export type JsonRecord = Record<string, unknown>;

/** Finds select dates pre-formatted (see compile-find); other paths hand over Date objects. */
function iso(value: unknown): string {
  if (typeof value === 'string') return value;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/**
 * Turns a stored row into Parse's wire JSON. Built with a null-free plain object whose keys come from the
 * schema (validated names), never from stored data.
 */
export function encodeRow(schema: ClassSchema, row: Readonly<Record<string, unknown>>, fileBaseUrl: string): JsonRecord {
  const result: JsonRecord = { objectId: row.objectId };
  if (row.createdAt !== undefined) result.createdAt = iso(row.createdAt);
  if (row.updatedAt !== undefined) result.updatedAt = iso(row.updatedAt);
  for (const [name, field] of schema.fields) {
    if (field.type === 'Relation') {
      result[name] = { __type: 'Relation', className: field.targetClass };
      continue;
    }
    const value = row[name];
    if (value === undefined || value === null || name === 'objectId' || name === 'createdAt' || name === 'updatedAt') continue;
    switch (field.type) {
      case 'Date':
        result[name] = { __type: 'Date', iso: iso(value) };
        break;
      case 'Pointer':
        result[name] = { __type: 'Pointer', className: field.targetClass, objectId: value };
        break;
      case 'Bytes':
        result[name] = { __type: 'Bytes', base64: value };
        break;
      case 'File': {
        const name_ = (value as { name?: unknown }).name;
        result[name] = { __type: 'File', name: name_, url: `${fileBaseUrl}/${encodeURIComponent(String(name_))}` };
        break;
      }
      default:
        result[name] = value;
    }
  }
  if (Array.isArray(row._rperm) && Array.isArray(row._wperm)) {
    const acl = aclToJson(row._rperm as string[], row._wperm as string[]);
    if (acl !== undefined) result.ACL = acl;
  }
  return result;
}
