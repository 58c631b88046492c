import { columnType, type ClassSchema } from '../../schema/types.ts';

const SYSTEM_COLUMNS = ['objectId', 'createdAt', 'updatedAt', '_rperm', '_wperm'];

/** Every column a class's table has, in a stable order: system columns first, then stored fields. */
export function storedColumns(schema: ClassSchema): string[] {
  const fields = [...schema.fields.entries()]
    .filter(([name, field]) => !SYSTEM_COLUMNS.includes(name) && columnType(field.type) !== undefined)
    .map(([name]) => name);
  return [...SYSTEM_COLUMNS, ...fields];
}
