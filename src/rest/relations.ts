import type { FieldWrite } from '../query/write-tree.ts';
import { joinTableName } from '../schema/names.ts';
import type { SqlExecutor } from '../storage/driver.ts';
import { ident } from '../storage/sql/params.ts';

/** Applies AddRelation/RemoveRelation to the join tables, inside the caller's transaction. */
export async function applyRelationWrites(tx: SqlExecutor, className: string, objectId: string, writes: readonly FieldWrite[]): Promise<void> {
  for (const { target, operation } of writes) {
    if (operation.op !== 'relation') continue;
    const table = ident(joinTableName(target.field, className));
    if (operation.add.length > 0) {
      await tx.query(
        `INSERT INTO ${table} ("owningId", "relatedId") SELECT $1::text, unnest($2::text[]) ON CONFLICT DO NOTHING`,
        [objectId, [...new Set(operation.add)]],
      );
    }
    if (operation.remove.length > 0) {
      await tx.query(`DELETE FROM ${table} WHERE "owningId" = $1::text AND "relatedId" = ANY($2::text[])`, [objectId, operation.remove]);
    }
  }
}

/** Removes the join rows an object owns when it is deleted. */
export async function deleteOwnedRelations(tx: SqlExecutor, className: string, objectId: string, relationFields: readonly string[]): Promise<void> {
  for (const field of relationFields) {
    await tx.query(`DELETE FROM ${ident(joinTableName(field, className))} WHERE "owningId" = $1::text`, [objectId]);
  }
}
