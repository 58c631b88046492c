import { LocalBus, type InvalidationBus } from '../cluster/invalidation.ts';
import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Driver, SqlExecutor } from '../storage/driver.ts';
import {
  addFieldStatements,
  createClassTable,
  createIndexStatement,
  dropFieldStatements,
  dropIndexStatement,
  SCHEMA_TABLE_DDL,
} from '../storage/sql/ddl.ts';
import { ident } from '../storage/sql/params.ts';
import { DEFAULT_CLP } from './clp.ts';
import { joinTableName } from './names.ts';
import { BUILT_IN_FIELDS, FIELD_TYPES, type ClassLevelPermissions, type ClassSchema, type FieldType } from './types.ts';

interface StoredSchema {
  fields: Record<string, FieldType>;
  classLevelPermissions?: ClassLevelPermissions;
  indexes?: Record<string, Record<string, number>>;
}

export interface SchemaChange {
  readonly addFields?: ReadonlyMap<string, FieldType>;
  readonly deleteFields?: readonly string[];
  readonly classLevelPermissions?: ClassLevelPermissions;
  readonly addIndexes?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly deleteIndexes?: readonly string[];
}

function toClassSchema(className: string, stored: StoredSchema): ClassSchema {
  const fields = new Map<string, FieldType>(BUILT_IN_FIELDS);
  for (const [name, field] of Object.entries(stored.fields)) {
    if ((FIELD_TYPES as readonly string[]).includes(field.type)) fields.set(name, field);
  }
  return {
    className,
    fields,
    classLevelPermissions: stored.classLevelPermissions ?? DEFAULT_CLP,
    indexes: stored.indexes ?? {},
  };
}

function toStored(schema: ClassSchema): StoredSchema {
  const fields: Record<string, FieldType> = {};
  for (const [name, field] of schema.fields) if (!BUILT_IN_FIELDS.has(name)) fields[name] = field;
  return { fields, classLevelPermissions: schema.classLevelPermissions, indexes: { ...schema.indexes } };
}

export function describeType(field: FieldType): string {
  return field.targetClass === undefined ? field.type : `${field.type}<${field.targetClass}>`;
}

export function sameType(a: FieldType, b: FieldType): boolean {
  return a.type === b.type && a.targetClass === b.targetClass;
}

/**
 * Class schemas, cached in memory so requests never read the catalogue. Every change takes a per-class
 * advisory lock inside a transaction, re-reads the stored schema and applies DDL and catalogue together,
 * so concurrent writers (in this process or another node) cannot fix one field to two types.
 */
export class SchemaStore {
  private readonly cache = new Map<string, ClassSchema>();
  private closed = false;

  private constructor(
    private readonly driver: Driver,
    private readonly bus: InvalidationBus,
  ) {}

  /**
   * Loads every class. A change another node makes reaches this cache when it commits (the class is read
   * again); after a gap in the invalidation channel every class is read again.
   */
  static async open(driver: Driver, bus: InvalidationBus = new LocalBus()): Promise<SchemaStore> {
    const store = new SchemaStore(driver, bus);
    await driver.query(SCHEMA_TABLE_DDL);
    await store.reload();
    bus.subscribe({
      apply: (event) => {
        if (event.kind === 'schema') store.refreshInBackground(() => store.refresh(event.className));
      },
      reset: () => store.refreshInBackground(() => store.reload()),
    });
    return store;
  }

  /** A refresh that fails (the database is down) is tried again until it succeeds or the store closes. */
  private refreshInBackground(work: () => Promise<void>, delayMs = 0): void {
    const timer = setTimeout(() => {
      work().catch(() => {
        if (!this.closed) this.refreshInBackground(work, Math.min(Math.max(delayMs * 2, 100), 2_000));
      });
    }, delayMs);
    timer.unref();
  }

  /** Stops background refreshes (the server is closing). */
  close(): void {
    this.closed = true;
  }

  /** Reads one class again, after another node changed or dropped it. */
  private async refresh(className: string): Promise<void> {
    const { rows } = await this.driver.query<{ schema: StoredSchema }>('SELECT "schema" FROM "_SCHEMA" WHERE "className" = $1::text', [className]);
    const row = rows[0];
    if (row === undefined) this.cache.delete(className);
    else this.cache.set(className, toClassSchema(className, row.schema));
  }

  async reload(): Promise<void> {
    const { rows } = await this.driver.query<{ className: string; schema: StoredSchema }>('SELECT "className", "schema" FROM "_SCHEMA"');
    this.cache.clear();
    for (const row of rows) this.cache.set(row.className, toClassSchema(row.className, row.schema));
  }

  get(className: string): ClassSchema | undefined {
    return this.cache.get(className);
  }

  /**
   * Reads a class this node does not know yet: another node may have created it a moment ago, before its
   * message arrived. Called where a request names the class it works on; a class that really does not
   * exist costs one indexed read (not cached, so it is found as soon as it is created).
   */
  async loadIfMissing(className: string, db: SqlExecutor = this.driver): Promise<void> {
    // Not inside a transaction (a transactional /batch): a read beside it would wait forever for PGlite's
    // one connection, and a read within it could cache a class that then rolls back.
    if (db !== this.driver || this.cache.has(className)) return;
    await this.refresh(className);
  }

  all(): ClassSchema[] {
    return [...this.cache.values()].sort((a, b) => a.className.localeCompare(b.className));
  }

  private async lockAndRead(tx: SqlExecutor, className: string): Promise<ClassSchema | undefined> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1::text))', [`parsec_schema:${className}`]);
    const { rows } = await tx.query<{ schema: StoredSchema }>('SELECT "schema" FROM "_SCHEMA" WHERE "className" = $1::text', [className]);
    const row = rows[0];
    return row === undefined ? undefined : toClassSchema(className, row.schema);
  }

  private async save(tx: SqlExecutor, schema: ClassSchema): Promise<void> {
    await tx.query(
      'INSERT INTO "_SCHEMA" ("className", "schema") VALUES ($1::text, $2::jsonb) ON CONFLICT ("className") DO UPDATE SET "schema" = EXCLUDED."schema"',
      [schema.className, JSON.stringify(toStored(schema))],
    );
    // In the same transaction: the other nodes read the class again when (and only if) it commits.
    await this.bus.publish(tx, { kind: 'schema', className: schema.className });
  }

  /**
   * Makes sure the class exists and has these fields, adding what is missing. A field that exists with a
   * different type is 111 INCORRECT_TYPE and nothing is changed. `relation: 'own'` records the fields only:
   * the class reads from a relation its owner keeps itself (the privilege ledger's view), with no DDL here.
   */
  async ensureFields(className: string, wanted: ReadonlyMap<string, FieldType>, db: Driver = this.driver, relation: 'table' | 'own' = 'table'): Promise<ClassSchema> {
    const cached = this.cache.get(className);
    const alreadyThere = (schema: ClassSchema): boolean =>
      [...wanted].every(([name, field]) => {
        const existing = schema.fields.get(name);
        return existing !== undefined && sameType(existing, field);
      });
    if (cached !== undefined && alreadyThere(cached)) return cached;
    const schema = await db.transaction(async (tx) => {
      const current = await this.lockAndRead(tx, className);
      const fields = new Map(current?.fields ?? BUILT_IN_FIELDS);
      const statements = current === undefined ? createClassTable(className) : [];
      for (const [name, field] of wanted) {
        const existing = fields.get(name);
        if (existing !== undefined) {
          if (!sameType(existing, field)) {
            throw new ParseError(
              ErrorCode.INCORRECT_TYPE,
              `schema mismatch for ${className}.${name}; expected ${describeType(existing)} but got ${describeType(field)}`,
            );
          }
          continue;
        }
        fields.set(name, { type: field.type, ...(field.targetClass === undefined ? {} : { targetClass: field.targetClass }) });
        statements.push(...addFieldStatements(className, name, field));
      }
      const next: ClassSchema = {
        className,
        fields,
        classLevelPermissions: current?.classLevelPermissions ?? DEFAULT_CLP,
        indexes: current?.indexes ?? {},
      };
      if (relation === 'table') for (const statement of statements) await tx.query(statement);
      await this.save(tx, next);
      return next;
    });
    db.afterCommit(() => this.cache.set(className, schema));
    return schema;
  }

  /**
   * Creates a class from a `/schemas` body; 103 if it already exists. Like every change below, it runs on
   * the caller's driver, so inside a transactional `/batch` it joins (and rolls back with) that transaction.
   */
  async createClass(className: string, change: SchemaChange, db: Driver = this.driver): Promise<ClassSchema> {
    const schema = await db.transaction(async (tx) => {
      if ((await this.lockAndRead(tx, className)) !== undefined) {
        throw new ParseError(ErrorCode.INVALID_CLASS_NAME, `Class ${className} already exists.`);
      }
      const empty: ClassSchema = { className, fields: new Map(BUILT_IN_FIELDS), classLevelPermissions: DEFAULT_CLP, indexes: {} };
      for (const statement of createClassTable(className)) await tx.query(statement);
      return this.applyChange(tx, empty, change);
    });
    db.afterCommit(() => this.cache.set(className, schema));
    return schema;
  }

  async updateClass(className: string, change: SchemaChange, db: Driver = this.driver): Promise<ClassSchema> {
    const schema = await db.transaction(async (tx) => {
      const current = await this.lockAndRead(tx, className);
      if (current === undefined) throw new ParseError(ErrorCode.INVALID_CLASS_NAME, `Class ${className} does not exist.`);
      return this.applyChange(tx, current, change);
    });
    db.afterCommit(() => this.cache.set(className, schema));
    return schema;
  }

  private async applyChange(tx: SqlExecutor, current: ClassSchema, change: SchemaChange): Promise<ClassSchema> {
    const { className } = current;
    const fields = new Map(current.fields);
    const indexes: Record<string, Readonly<Record<string, number>>> = { ...current.indexes };
    const statements: string[] = [];
    for (const name of change.deleteFields ?? []) {
      const field = fields.get(name);
      if (field === undefined) throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Field ${name} does not exist, cannot delete.`);
      if (BUILT_IN_FIELDS.has(name)) throw new ParseError(ErrorCode.CHANGED_IMMUTABLE_FIELD, `field ${name} cannot be changed`);
      fields.delete(name);
      statements.push(...dropFieldStatements(className, name, field));
      for (const [indexName, spec] of Object.entries(indexes)) {
        if (name in spec) delete indexes[indexName];
      }
    }
    for (const [name, field] of change.addFields ?? new Map<string, FieldType>()) {
      if (fields.has(name)) throw new ParseError(ErrorCode.INVALID_KEY_NAME, `Field ${name} exists, cannot update.`);
      fields.set(name, field);
      statements.push(...addFieldStatements(className, name, field));
    }
    for (const name of change.deleteIndexes ?? []) {
      if (!(name in indexes)) throw new ParseError(ErrorCode.INVALID_QUERY, `Index ${name} does not exist, cannot delete.`);
      delete indexes[name];
      statements.push(dropIndexStatement(className, name));
    }
    for (const [name, spec] of Object.entries(change.addIndexes ?? {})) {
      if (name in indexes) throw new ParseError(ErrorCode.INVALID_QUERY, `Index ${name} exists, cannot update.`);
      for (const field of Object.keys(spec)) {
        const type = fields.get(field)?.type;
        if (type === undefined || type === 'Relation' || type === 'ACL') {
          throw new ParseError(ErrorCode.INVALID_QUERY, `Field ${field} does not exist, cannot add index.`);
        }
      }
      indexes[name] = spec;
      statements.push(createIndexStatement(className, name, spec));
    }
    const next: ClassSchema = {
      className,
      fields,
      classLevelPermissions: change.classLevelPermissions ?? current.classLevelPermissions,
      indexes,
    };
    for (const statement of statements) await tx.query(statement);
    await this.save(tx, next);
    return next;
  }

  /** Drops a class; only an empty one (255 otherwise), as in Parse. */
  async deleteClass(className: string, db: Driver = this.driver): Promise<void> {
    await db.transaction(async (tx) => {
      const current = await this.lockAndRead(tx, className);
      if (current === undefined) return;
      const { rows } = await tx.query(`SELECT 1 FROM ${ident(className)} LIMIT 1`);
      if (rows.length > 0) {
        throw new ParseError(ErrorCode.INVALID_SCHEMA_OPERATION, `Class ${className} is not empty, contains objects, cannot drop schema.`);
      }
      for (const [name, field] of current.fields) {
        if (field.type === 'Relation') await tx.query(`DROP TABLE IF EXISTS ${ident(joinTableName(name, className))}`);
      }
      await tx.query(`DROP TABLE IF EXISTS ${ident(className)}`);
      await tx.query('DELETE FROM "_SCHEMA" WHERE "className" = $1::text', [className]);
      await this.bus.publish(tx, { kind: 'schema', className });
    });
    db.afterCommit(() => this.cache.delete(className));
  }
}
