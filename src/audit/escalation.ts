/**
 * Does a handler escalate to the master key? Read from its syntax tree: `useMasterKey` set to anything but
 * a literal `false` (an option object, an assignment, or the legacy `Parse.Cloud.useMasterKey()`), in the
 * handler or in a function of its own file that it calls. Code the audit cannot see (an imported helper, a
 * function handed in from elsewhere) makes the answer "unknown", never "no".
 */
import type * as acorn from 'acorn';
import { fullAncestor } from 'acorn-walk';
import type { Escalation } from './types.ts';
import { bindingNames, type FunctionNode, type ModuleIndex } from './parse-source.ts';

/** Globals a handler may call without the audit having to read them. */
const KNOWN_GLOBALS = new Set([
  'Array', 'Boolean', 'Date', 'Error', 'JSON', 'Map', 'Math', 'Number', 'Object', 'Promise', 'RegExp', 'Set', 'String', 'Symbol',
  'BigInt', 'TypeError', 'RangeError', 'WeakMap', 'WeakSet', 'URL', 'URLSearchParams', 'Buffer', 'encodeURIComponent',
  'decodeURIComponent', 'isNaN', 'isFinite', 'parseFloat', 'parseInt', 'setTimeout', 'clearTimeout', 'setInterval',
  'clearInterval', 'setImmediate', 'structuredClone', 'require', 'console', 'Parse', 'fetch', 'queueMicrotask',
]);

export interface EscalationFacts {
  readonly escalation: Escalation;
  readonly notes: readonly string[];
}

interface Walk {
  readonly module: ModuleIndex | undefined;
  readonly seen: Set<FunctionNode>;
  readonly yes: string[];
  readonly unknown: string[];
}

export function escalationOf(fn: FunctionNode | undefined, module: ModuleIndex | undefined, label: string): EscalationFacts {
  if (fn === undefined) return { escalation: 'unknown', notes: [`the source of ${label} cannot be read (a native or bound function)`] };
  const walk: Walk = { module, seen: new Set(), yes: [], unknown: [] };
  visit(fn, label, walk);
  if (walk.yes.length > 0) return { escalation: 'yes', notes: unique(walk.yes) };
  if (walk.unknown.length > 0) return { escalation: 'unknown', notes: unique(walk.unknown) };
  return { escalation: 'no', notes: [] };
}

const unique = (notes: readonly string[]): string[] => [...new Set(notes)];

/** Names bound anywhere inside the function: its parameters, variables, inner functions and classes. */
function localNames(fn: FunctionNode): Set<string> {
  const names = new Set(fn.params.flatMap(bindingNames));
  fullAncestor(fn, (node) => {
    if (node.type === 'VariableDeclarator') for (const name of bindingNames(node.id)) names.add(name);
    if ((node.type === 'FunctionDeclaration' || node.type === 'ClassDeclaration') && node.id !== null) names.add(node.id.name);
    if ((node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression') && node !== fn) for (const param of node.params) for (const name of bindingNames(param)) names.add(name);
    if (node.type === 'CatchClause' && node.param !== null && node.param !== undefined) for (const name of bindingNames(node.param)) names.add(name);
  });
  return names;
}

function isUseMasterKeyKey(key: acorn.Expression | acorn.PrivateIdentifier, computed: boolean): boolean {
  if (key.type === 'Identifier') return !computed && key.name === 'useMasterKey';
  return key.type === 'Literal' && key.value === 'useMasterKey';
}

/** A value for `useMasterKey`: a literal false is no escalation, a literal true is one, anything else may be. */
function judge(value: acorn.Node, where: string, walk: Walk, shorthand = false): void {
  if (value.type === 'Literal' && !shorthand) {
    const literal = (value as acorn.Literal).value;
    if (literal === false || literal === null || literal === 0 || literal === '') return;
    walk.yes.push(`useMasterKey: ${String(literal)} in ${where}`);
    return;
  }
  walk.unknown.push(`useMasterKey set from an expression in ${where}: the audit cannot tell its value`);
}

function visit(fn: FunctionNode, label: string, walk: Walk): void {
  if (walk.seen.has(fn)) return;
  walk.seen.add(fn);
  const locals = localNames(fn);
  fullAncestor(fn, (node, _state, ancestors) => {
    switch (node.type) {
      case 'Property':
        // `const { useMasterKey } = options` reads the option; only an object literal sets it.
        if (ancestors.at(-2)?.type === 'ObjectPattern') break;
        if (isUseMasterKeyKey(node.key, node.computed)) judge(node.value, label, walk, node.shorthand);
        break;
      case 'AssignmentExpression':
        if (node.left.type === 'MemberExpression' && isUseMasterKeyKey(node.left.property, node.left.computed)) judge(node.right, label, walk);
        break;
      case 'CallExpression':
        visitCall(node, label, locals, walk);
        break;
      default:
        break;
    }
  });
}

function visitCall(call: acorn.CallExpression, label: string, locals: ReadonlySet<string>, walk: Walk): void {
  const callee = call.callee;
  if (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' && callee.property.name === 'useMasterKey') {
    walk.yes.push(`Parse.Cloud.useMasterKey() in ${label}`);
    return;
  }
  // Functions of the file passed by name (`items.map(check)`) run too.
  const named = [callee, ...call.arguments].filter((node): node is acorn.Identifier => node.type === 'Identifier');
  for (const identifier of named) followName(identifier.name, identifier === callee, label, locals, walk);
  if (callee.type === 'MemberExpression' && callee.object.type === 'Identifier') {
    const source = walk.module?.imports.get(callee.object.name);
    if (source !== undefined && callee.object.name !== 'Parse') walk.unknown.push(`${label} calls ${callee.object.name}.${memberName(callee)} from '${source}', which the audit does not read`);
  }
}

function memberName(member: acorn.MemberExpression): string {
  return !member.computed && member.property.type === 'Identifier' ? member.property.name : '[…]';
}

function followName(name: string, isCallee: boolean, label: string, locals: ReadonlySet<string>, walk: Walk): void {
  if (locals.has(name)) return;
  const helper = walk.module?.functions.get(name);
  if (helper !== undefined) {
    visit(helper, `${name} (called by ${label})`, walk);
    return;
  }
  if (!isCallee || KNOWN_GLOBALS.has(name)) return;
  const source = walk.module?.imports.get(name);
  walk.unknown.push(source === undefined ? `${label} calls ${name}, whose code the audit cannot find` : `${label} calls ${name} from '${source}', which the audit does not read`);
}
