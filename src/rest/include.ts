import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import type { JsonRecord } from './encode.ts';
import { find } from './find.ts';
import type { Caller } from './services.ts';

interface PointerSlot {
  readonly container: JsonRecord | unknown[];
  readonly key: string | number;
  readonly className: string;
  readonly objectId: string;
}

function isPointer(value: unknown): value is { __type: 'Pointer'; className: string; objectId: string } {
  return isPlainObject(value) && value.__type === 'Pointer' && typeof value.className === 'string' && typeof value.objectId === 'string';
}

function isIncludedObject(value: unknown): value is JsonRecord {
  return isPlainObject(value) && value.__type === 'Object';
}

/** The pointers (and already-included objects) found at `key` of each object, directly or in an array. */
function collect(objects: readonly JsonRecord[], key: string): { slots: PointerSlot[]; included: JsonRecord[] } {
  const slots: PointerSlot[] = [];
  const included: JsonRecord[] = [];
  const visit = (container: JsonRecord | unknown[], slot: string | number, value: unknown): void => {
    if (isPointer(value)) slots.push({ container, key: slot, className: value.className, objectId: value.objectId });
    else if (isIncludedObject(value)) included.push(value);
  };
  for (const object of objects) {
    const value = object[key];
    if (Array.isArray(value)) value.forEach((item, index) => visit(value, index, item));
    else visit(object, key, value);
  }
  return { slots, included };
}

/**
 * Replaces pointers along each include path with the objects they point at. Every fetch is an ordinary
 * find through the same pipeline, with the caller's permissions: a pointer the caller may not read (or to
 * a class it may not reach) stays a bare pointer. One query per class and path level: no N+1. How many
 * paths, and how deep, a client may ask for was decided when its query was parsed (requestComplexity).
 */
export async function applyIncludes(caller: Caller, results: JsonRecord[], paths: readonly (readonly string[])[], options: { readonly replica?: boolean } = {}): Promise<void> {
  if (paths.length === 0 || results.length === 0) return;
  for (const path of [...paths].sort((a, b) => a.length - b.length)) {
    let level: JsonRecord[] = results;
    for (const key of path) {
      const { slots, included } = collect(level, key);
      const fetched: JsonRecord[] = [];
      const byClass = new Map<string, Set<string>>();
      for (const slot of slots) {
        const ids = byClass.get(slot.className) ?? new Set<string>();
        ids.add(slot.objectId);
        byClass.set(slot.className, ids);
      }
      const found = new Map<string, JsonRecord>();
      for (const [className, ids] of byClass) {
        let objects: JsonRecord[];
        try {
          ({ results: objects } = await find(caller, {
            className,
            where: { type: 'in', target: { field: 'objectId', path: [] }, values: [...ids].map((id) => ({ kind: 'string', value: id })), negate: false },
            order: [],
            limit: ids.size,
            skip: 0,
            keys: undefined,
            excludeKeys: new Set(),
            include: [],
            count: false,
          }, 'find', { replica: options.replica }));
        } catch (error) {
          // A class the caller may not reach leaves its pointers as they are, exactly like an unreadable row.
          if (error instanceof ParseError && (error.code === ErrorCode.OPERATION_FORBIDDEN || error.code === ErrorCode.OBJECT_NOT_FOUND)) continue;
          throw error;
        }
        for (const object of objects) found.set(`${className}\u0000${String(object.objectId)}`, { __type: 'Object', className, ...object });
      }
      for (const slot of slots) {
        const object = found.get(`${slot.className}\u0000${slot.objectId}`);
        if (object === undefined) continue;
        // Each slot gets its own copy so two pointers to one object never share mutable state.
        const copy = structuredClone(object);
        (slot.container as Record<string | number, unknown>)[slot.key] = copy;
        fetched.push(copy);
      }
      level = [...included, ...fetched];
    }
  }
}
