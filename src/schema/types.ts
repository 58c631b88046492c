/** Parse field types as stored in a class schema (reference §8.4, §8.6). */
export const FIELD_TYPES = [
  'String',
  'Number',
  'Boolean',
  'Date',
  'Object',
  'Array',
  'Pointer',
  'Relation',
  'GeoPoint',
  'File',
  'Bytes',
  'Polygon',
  'ACL',
] as const;

export type FieldTypeName = (typeof FIELD_TYPES)[number];

export interface FieldType {
  readonly type: FieldTypeName;
  /** For Pointer and Relation: the class they point at. */
  readonly targetClass?: string;
  readonly required?: boolean;
  readonly defaultValue?: unknown;
}

export type ClassLevelPermissions = Readonly<Record<string, unknown>>;

export interface ClassSchema {
  readonly className: string;
  /** Every field including the built-in ones (objectId, createdAt, updatedAt, ACL). */
  readonly fields: ReadonlyMap<string, FieldType>;
  readonly classLevelPermissions: ClassLevelPermissions;
  readonly indexes: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export const BUILT_IN_FIELDS: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ['objectId', { type: 'String' }],
  ['createdAt', { type: 'Date' }],
  ['updatedAt', { type: 'Date' }],
  ['ACL', { type: 'ACL' }],
]);

export function isBuiltInField(name: string): boolean {
  return BUILT_IN_FIELDS.has(name);
}

/** The SQL column type that stores each Parse type. Relation has no column: it lives in a join table. */
export function columnType(type: FieldTypeName): string | undefined {
  switch (type) {
    case 'String':
    case 'Pointer':
    case 'Bytes':
      return 'text';
    case 'Number':
      return 'double precision';
    case 'Boolean':
      return 'boolean';
    case 'Date':
      return 'timestamptz';
    case 'Object':
    case 'Array':
    case 'GeoPoint':
    case 'Polygon':
    case 'File':
      return 'jsonb';
    case 'Relation':
    case 'ACL':
      return undefined;
  }
}
