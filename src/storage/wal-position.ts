/**
 * PostgreSQL write-ahead-log positions (`pg_lsn`, written `16/B374D848`): where the primary's log is, and
 * how far a replica has replayed it. As text they do not sort (`9/0` > `10/0`), so they are compared as
 * the 64-bit numbers they stand for.
 */
export type WalPosition = bigint;

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** The position `text` names, or undefined for anything else (NULL: a server that is not a replica). */
export function parseWalPosition(text: unknown): WalPosition | undefined {
  if (typeof text !== 'string') return undefined;
  const match = LSN.exec(text);
  if (match === null) return undefined;
  return (BigInt(`0x${match[1] ?? '0'}`) << 32n) | BigInt(`0x${match[2] ?? '0'}`);
}

export function formatWalPosition(position: WalPosition): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}
