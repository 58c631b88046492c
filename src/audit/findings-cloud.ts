/** Findings about cloud code: who can reach each function and what its code does with that. */
import type { ParsecConfig } from '../config/types.ts';
import { anonymousSignUpOpen } from './anonymous-sign-up.ts';
import type { AuditedFunction } from './function-surface.ts';
import type { Finding, TriggerSurface } from './types.ts';

export function cloudFindings(functions: readonly AuditedFunction[], triggers: readonly TriggerSurface[], config: ParsecConfig): Finding[] {
  const findings: Finding[] = [];
  const anyoneCanLogIn = anonymousSignUpOpen(config);
  for (const fn of functions) {
    const subject = `function ${fn.name}`;
    const location = fn.location;
    const anonymous = fn.audience === 'anyone';
    if (anonymous && fn.escalation !== 'no') {
      const certain = fn.escalation === 'yes';
      findings.push({
        id: certain ? 'PSC001' : 'PSC002',
        severity: certain ? 'high' : 'medium',
        title: certain ? 'Callable without login, and escalates to the master key' : 'Callable without login, and may escalate to the master key',
        subject,
        location,
        why:
          `Anyone who has your app can call it (its keys ship inside the app), and its code runs queries with useMasterKey, ` +
          `past every ACL and class-level permission (${fn.escalationNotes.join('; ')}). Whatever it reads or writes as master, any caller can make it read or write.`,
        fix: 'Require a login or a role ({ requireUser: true } / { requireAnyUserRoles: [...] }), check request.user before escalating, or drop useMasterKey so its queries run as the caller.',
      });
    }
    if (fn.audience === 'users' && anyoneCanLogIn && fn.escalation !== 'no') {
      const certain = fn.escalation === 'yes';
      findings.push({
        id: 'PSC007',
        severity: certain ? 'high' : 'medium',
        title: `Needs only a login, anyone can log in anonymously, and it ${certain ? 'escalates' : 'may escalate'} to the master key`,
        subject,
        location,
        why:
          'Anonymous users are enabled: POST /users with authData {anonymous: {id}} makes a logged-in user out of any client, without a credential. ' +
          `"Logged-in" is then no barrier, and this function's code runs queries with useMasterKey (${fn.escalationNotes.join('; ')}).`,
        fix: 'Check request.user before escalating (e.g. that it is not anonymous, or owns what is touched), require a role, or turn anonymous users off (enableAnonymousUsers: false).',
      });
    }
    if (!fn.declaresAccess) {
      findings.push({
        id: 'PSC003',
        severity: config.requireFunctionAccess ? 'high' : 'medium',
        title: config.requireFunctionAccess ? 'Declares no access: the server refuses to start' : 'Declares no access, so anyone with the app keys may call it',
        subject,
        location,
        why: config.requireFunctionAccess
          ? 'requireFunctionAccess is on, so every function must say who may call it; this one does not, and `parsec start` stops with an error.'
          : 'requireFunctionAccess is off, so a function without a validator is open to every client, as in Parse Server. Nobody decided that; it is just the default.',
        fix: 'Give it a validator saying who may call it: { requireUser: true }, { requireMaster: true }, { requireAnyUserRoles: [...] }, { internal: true }, or { public: true } when anyone really may.',
      });
    }
    findings.push(...paramFindings(fn));
    if (anonymous && fn.declaresAccess && fn.rateLimit === undefined) {
      findings.push({
        id: 'PSC005',
        severity: 'low',
        title: 'Public function without a rate limit',
        subject,
        location,
        why: 'Anyone may call it, as often as they like: every call costs you CPU, queries, and maybe money (email, SMS, third-party APIs).',
        fix: "Add rateLimit to its validator, e.g. { public: true, rateLimit: { requestTimeWindow: 60000, requestCount: 30, zone: 'ip' } }.",
      });
    }
  }
  for (const trigger of triggers) {
    if (trigger.escalation !== 'yes') continue;
    findings.push({
      id: 'PSC006',
      severity: 'low',
      title: 'Trigger escalates to the master key',
      subject: `${trigger.type} ${trigger.className}`,
      location: trigger.location,
      why: `It runs for every caller who reaches ${trigger.className}, and what it does with useMasterKey ignores that caller's permissions. Make sure it only acts on objects the caller was allowed to touch.`,
      fix: 'Use request.object, request.original and request.user to decide what to touch; keep useMasterKey to the one query that needs it.',
    });
  }
  return findings;
}

function paramFindings(fn: AuditedFunction): Finding[] {
  if (!fn.declaresParams || fn.params === undefined) return [];
  const declared = new Set(fn.params.map((param) => param.name));
  const undeclared = fn.paramsRead.names.filter((name) => !declared.has(name));
  if (undeclared.length === 0) return [];
  return [
    {
      id: 'PSC004',
      severity: fn.audience === 'anyone' ? 'medium' : 'low',
      title: `Reads params it does not declare: ${undeclared.join(', ')}`,
      subject: `function ${fn.name}`,
      location: fn.location,
      why: 'An undeclared param can hold anything a client sends: an object where a string was expected, an array, a huge value. Code that assumes a type then queries or writes the wrong thing.',
      fix: `Declare them in the validator's fields with a type, e.g. fields: { ${undeclared.map((name) => `${name}: { type: String, required: true }`).join(', ')} }.`,
    },
  ];
}
