import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { FieldWrite, ObjectWrite } from '../query/write-tree.ts';
import { normalizeDeviceToken, normalizeInstallationId } from './installation-ids.ts';

/** The fields whose values identify a device; each must be written as a plain string or not at all. */
const ID_FIELDS = ['installationId', 'deviceToken', 'deviceType', 'appIdentifier'] as const;
type IdField = (typeof ID_FIELDS)[number];

/** What a parsed write sets for the identifying fields (normalized), and whether it names any of them. */
export interface WrittenIds {
  readonly values: Partial<Record<IdField, string>>;
  readonly namesAny: boolean;
}

const NORMALIZE: Partial<Record<IdField, (value: string) => string>> = {
  installationId: normalizeInstallationId,
  deviceToken: normalizeDeviceToken,
};

/**
 * Reads the identifying fields of a write: anything but a top-level string set (a number, a Delete, a dotted
 * path, an object) is refused with 111 before it can reach a query or a comparison.
 */
export function writtenIds(write: ObjectWrite): WrittenIds {
  const values: Partial<Record<IdField, string>> = {};
  let namesAny = false;
  for (const { target, operation } of write.writes) {
    const field = ID_FIELDS.find((name) => name === target.field);
    if (field === undefined) continue;
    namesAny = true;
    if (target.path.length > 0 || operation.op !== 'set' || operation.value.kind !== 'string') {
      throw new ParseError(ErrorCode.INCORRECT_TYPE, `${field} must be a string.`);
    }
    values[field] = NORMALIZE[field]?.(operation.value.value) ?? operation.value.value;
  }
  return { values, namesAny };
}

/** The write with the identifying fields replaced by their normalized values (and `extra` ones added). */
export function withIds(write: ObjectWrite, values: Partial<Record<IdField, string>>): ObjectWrite {
  const kept = write.writes.filter((entry) => !(ID_FIELDS as readonly string[]).includes(entry.target.field));
  const ids: FieldWrite[] = Object.entries(values).map(([field, value]) => ({
    target: { field, path: [] },
    operation: { op: 'set', value: { kind: 'string', value } },
  }));
  return { ...write, writes: [...kept, ...ids] };
}
