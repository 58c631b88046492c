import { createHash } from 'node:crypto';
import { joinTableName } from '../../schema/names.ts';
import { columnType, type FieldType } from '../../schema/types.ts';
import { ident } from './params.ts';

/** The catalogue of class schemas. Read once at start; every schema change goes through it. */
export const SCHEMA_TABLE_DDL =
  'CREATE TABLE IF NOT EXISTS "_SCHEMA" ("className" text PRIMARY KEY, "schema" jsonb NOT NULL)';

/** PostgreSQL truncates identifiers at 63 bytes; long index names get a stable hash suffix instead. */
export function physicalIndexName(className: string, name: string): string {
  const full = `${className}_${name}`;
  if (Buffer.byteLength(full) <= 63) return full;
  return `${full.slice(0, 40)}_${createHash('sha1').update(full).digest('hex').slice(0, 16)}`;
}

export function createClassTable(className: string): string[] {
  const table = ident(className);
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (` +
      `"objectId" text PRIMARY KEY, "createdAt" timestamptz NOT NULL, "updatedAt" timestamptz NOT NULL, ` +
      `"_rperm" text[] NOT NULL DEFAULT '{*}', "_wperm" text[] NOT NULL DEFAULT '{*}')`,
    `CREATE INDEX IF NOT EXISTS ${ident(physicalIndexName(className, '_rperm'))} ON ${table} USING gin ("_rperm")`,
    `CREATE INDEX IF NOT EXISTS ${ident(physicalIndexName(className, '_wperm'))} ON ${table} USING gin ("_wperm")`,
  ];
}

export function addFieldStatements(className: string, name: string, field: FieldType): string[] {
  if (field.type === 'Relation') {
    const join = joinTableName(name, className);
    return [
      `CREATE TABLE IF NOT EXISTS ${ident(join)} ("relatedId" text NOT NULL, "owningId" text NOT NULL, PRIMARY KEY ("owningId", "relatedId"))`,
      `CREATE INDEX IF NOT EXISTS ${ident(physicalIndexName(join, 'related'))} ON ${ident(join)} ("relatedId")`,
    ];
  }
  const type = columnType(field.type);
  if (type === undefined) return [];
  return [`ALTER TABLE ${ident(className)} ADD COLUMN IF NOT EXISTS ${ident(name)} ${type}`];
}

export function dropFieldStatements(className: string, name: string, field: FieldType): string[] {
  if (field.type === 'Relation') return [`DROP TABLE IF EXISTS ${ident(joinTableName(name, className))}`];
  if (columnType(field.type) === undefined) return [];
  return [`ALTER TABLE ${ident(className)} DROP COLUMN IF EXISTS ${ident(name)}`];
}

export function createIndexStatement(className: string, name: string, spec: Readonly<Record<string, number>>): string {
  const columns = Object.entries(spec).map(([field, direction]) => `${ident(field)}${direction === -1 ? ' DESC' : ''}`);
  return `CREATE INDEX IF NOT EXISTS ${ident(physicalIndexName(className, name))} ON ${ident(className)} (${columns.join(', ')})`;
}

export function dropIndexStatement(className: string, name: string): string {
  return `DROP INDEX IF EXISTS ${ident(physicalIndexName(className, name))}`;
}
