/** Findings about classes: class-level permissions that leave data open to every client. */
import type { ParsecConfig } from '../config/types.ts';
import type { ClassSurface, Finding } from './types.ts';

const USER_CLASS = '_User';

export function classFindings(classes: readonly ClassSurface[], config: ParsecConfig): Finding[] {
  const findings: Finding[] = [];
  for (const surface of classes) {
    const { className, publicOperations } = surface;
    const open = new Set(publicOperations);
    const subject = `class ${className}`;
    if (className === USER_CLASS) {
      if (open.has('find') || open.has('get')) findings.push(publicUsers(config));
      continue;
    }
    if (className.startsWith('_')) continue;
    const writes = ['update', 'delete'].filter((operation) => open.has(operation));
    if (writes.length > 0) {
      findings.push({
        id: 'PSC101',
        severity: 'medium',
        title: `Anyone may ${writes.join(' and ')} ${className}`,
        subject,
        why:
          `Its class-level permissions let every client ${writes.join(' and ')} any object whose ACL allows it, and an object saved without an ACL ` +
          'is public read and write. One object saved carelessly is then anyone\'s to change or erase.',
        fix: `Set class-level permissions (PUT /schemas/${className}) so ${writes.join('/')} name who may (e.g. "requiresAuthentication": true, a role, or pointerFields), and give new objects an owner-only ACL (a beforeSave, or the CLP's ACL default).`,
      });
    }
    if (open.has('addField')) {
      findings.push({
        id: 'PSC102',
        severity: 'medium',
        title: `Clients may add fields to ${className}`,
        subject,
        why: 'With addField public, any client can grow the schema by saving an object with a new key: junk columns, or a field your code later trusts (isAdmin, verified) set by a client first.',
        fix: `Set "addField": {} in the class-level permissions of ${className}; add fields with the master key (or the dashboard) instead.`,
      });
    }
  }
  return findings;
}

function publicUsers(config: ParsecConfig): Finding {
  return {
    id: 'PSC103',
    severity: config.enforcePrivateUsers ? 'low' : 'medium',
    title: 'Anyone may list and read users',
    subject: `class ${USER_CLASS}`,
    why: config.enforcePrivateUsers
      ? 'The _User class-level permissions allow find and get to every client. New users are private (enforcePrivateUsers), but a user whose ACL was made public, or who signed up before, can be listed by anyone.'
      : 'The _User class-level permissions allow find and get to every client, and new users get public read (enforcePrivateUsers is off): anyone can list every username and every field you did not protect.',
    fix: 'Set _User find/get to "requiresAuthentication" or a role (PUT /schemas/_User), keep enforcePrivateUsers on, and list fields others must not see in protectedFields.',
  };
}
