import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import type { Condition } from '../query/tree.ts';
import type { ClassPlugin } from '../rest/class-plugin.ts';
import { readStored } from '../rest/stored.ts';
import { existingInstallationFor } from './installation-upsert.ts';
import { INSTALLATION_CLASS, INSTALLATION_ID_INDEX } from './installation-class.ts';
import { assertDeviceType, releaseDeviceToken } from './installation-ids.ts';
import { withIds, writtenIds } from './installation-write.ts';

const NOTHING: Condition = { type: 'or', conditions: [] };

const changed = (field: string): ParseError => new ParseError(ErrorCode.CHANGED_IMMUTABLE_FIELD, `${field} may not be changed in this operation`);

/**
 * `_Installation`, as Parse serves it: a client creates its installation, and reads or updates it by
 * objectId (the id is the client's capability; the default ACL is public as in Parse); finding, counting
 * and deleting installations is for the master key only (119), and so is reading them through a
 * sub-query (`$inQuery`/`$select`), which finds no rows for a client. Registering a device again (a
 * create naming a known installationId or device token) updates its installation instead of adding one.
 */
export function installationPlugin(): ClassPlugin {
  return {
    className: INSTALLATION_CLASS,
    operations: new Set(['find', 'get', 'count', 'create', 'update', 'delete']),
    masterOnlyOperations: new Set(['find', 'count', 'delete']),

    // A client's only way to read an installation is by its objectId: any other read (a sub-query) sees none.
    rowFilter(_auth, mode, operation) {
      return mode === 'read' && operation !== 'get' ? NOTHING : undefined;
    },

    existingForCreate(caller, body) {
      return existingInstallationFor(caller, body);
    },

    prepareCreate(caller, write) {
      const { values } = writtenIds(write);
      const fromClient = caller.auth.kind === 'master' || caller.auth.kind === 'maintenance' ? undefined : caller.client?.installationId;
      // The request's own installation id names the new installation when the body does not.
      if (values.installationId === undefined && fromClient !== undefined && fromClient !== '') values.installationId = fromClient.toLowerCase();
      if (values.installationId === undefined && values.deviceToken === undefined) {
        throw new ParseError(ErrorCode.MISSING_REQUIRED_FIELD_ERROR, 'at least one ID field (deviceToken, installationId) must be specified in this operation');
      }
      if (values.deviceType === undefined) throw new ParseError(ErrorCode.MISSING_REQUIRED_FIELD_ERROR, 'deviceType must be specified in this operation');
      assertDeviceType(values.deviceType);
      return Promise.resolve({ write: withIds(write, values), internal: [] });
    },

    async afterCreate(_caller, db, objectId, write) {
      const { values } = writtenIds(write);
      if (values.installationId !== undefined && values.deviceToken !== undefined) {
        await releaseDeviceToken(db, objectId, values.installationId, values.deviceToken, values.appIdentifier);
      }
      return undefined;
    },

    async prepareUpdate(caller, objectId, write) {
      const { values, namesAny } = writtenIds(write);
      if (!namesAny) return { write, internal: [] };
      // Compared only with an installation this caller may write: anyone else gets the update's own 101.
      const stored = await readStored(caller, INSTALLATION_CLASS, objectId, caller.access.writeFilter(INSTALLATION_CLASS, 'update'));
      if (stored === undefined) throw new ParseError(ErrorCode.OBJECT_NOT_FOUND, 'Object not found.');
      const storedId = typeof stored.installationId === 'string' ? stored.installationId : undefined;
      if (values.installationId !== undefined && storedId !== undefined && values.installationId !== storedId) throw changed('installationId');
      const storedToken = typeof stored.deviceToken === 'string' ? stored.deviceToken : undefined;
      if (values.deviceToken !== undefined && storedToken !== undefined && values.deviceToken !== storedToken && values.installationId === undefined && storedId === undefined) {
        throw changed('deviceToken');
      }
      if (values.deviceType !== undefined && values.deviceType !== stored.deviceType) throw changed('deviceType');
      return { write: withIds(write, values), internal: [] };
    },

    async afterUpdate(_caller, db, objectId, write) {
      const { values } = writtenIds(write);
      if (values.deviceToken === undefined) return;
      const { rows } = await db.query<{ installationId: string | null }>('SELECT "installationId" FROM "_Installation" WHERE "objectId" = $1::text', [objectId]);
      const installationId = rows[0]?.installationId;
      if (typeof installationId === 'string') await releaseDeviceToken(db, objectId, installationId, values.deviceToken, values.appIdentifier);
    },

    uniqueViolation(constraint) {
      if (constraint === INSTALLATION_ID_INDEX) return new ParseError(ErrorCode.DUPLICATE_VALUE, 'An installation with this installationId already exists.');
      return undefined;
    },
  };
}
