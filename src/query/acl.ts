import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { PROTOTYPE_KEYS } from '../schema/names.ts';
import { isPlainObject } from './values.ts';
import type { StoredAcl } from './write-tree.ts';

const PUBLIC = '*';
const ENTRY = /^(\*|role:[A-Za-z0-9_ -]+|[A-Za-z0-9_-]{1,64})$/;

function invalidAcl(): never {
  throw new ParseError(ErrorCode.INVALID_ACL, 'Invalid ACL.');
}

/** `{"*":{"read":true}, "<userId>":{"write":true}, "role:Admin":{…}}` → the `_rperm`/`_wperm` arrays. */
export function parseAcl(raw: unknown): StoredAcl {
  if (!isPlainObject(raw)) invalidAcl();
  const read: string[] = [];
  const write: string[] = [];
  for (const [entry, permissions] of Object.entries(raw)) {
    if (PROTOTYPE_KEYS.has(entry) || !ENTRY.test(entry) || !isPlainObject(permissions)) invalidAcl();
    for (const [permission, granted] of Object.entries(permissions)) {
      if ((permission !== 'read' && permission !== 'write') || typeof granted !== 'boolean') invalidAcl();
      if (granted) (permission === 'read' ? read : write).push(entry);
    }
  }
  return { read, write };
}

/** Objects saved without an ACL are public, as in Parse; stored as `{*}` so the column is never NULL. */
export const PUBLIC_ACL: StoredAcl = { read: [PUBLIC], write: [PUBLIC] };

/** The wire ACL of a row, or undefined for the public default (Parse omits the ACL of such objects). */
export function aclToJson(read: readonly string[], write: readonly string[]): Record<string, { read?: true; write?: true }> | undefined {
  if (read.length === 1 && write.length === 1 && read[0] === PUBLIC && write[0] === PUBLIC) return undefined;
  const acl: Record<string, { read?: true; write?: true }> = {};
  for (const entry of read) acl[entry] = { ...acl[entry], read: true };
  for (const entry of write) acl[entry] = { ...acl[entry], write: true };
  return acl;
}
