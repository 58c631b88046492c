/**
 * Which `request.params` names a function handler reads: `request.params.x`, `request.params['x']`,
 * `const { x } = request.params`, `const p = request.params; p.x`, and a destructured first parameter
 * (`({ params }) => params.x`, `({ params: { x } }) => …`). Any other use of `params` or of the request
 * (handing it to another function, a computed key, a rest element) makes the list incomplete: the audit
 * says it cannot tell rather than guess.
 */
import type * as acorn from 'acorn';
import { fullAncestor } from 'acorn-walk';
import type { FunctionNode } from './parse-source.ts';

export interface ParamsRead {
  readonly names: readonly string[];
  readonly complete: boolean;
}

interface Tracking {
  readonly requestNames: Set<string>;
  readonly paramsNames: Set<string>;
  readonly names: Set<string>;
  complete: boolean;
}

export function paramsReadBy(fn: FunctionNode | undefined): ParamsRead {
  if (fn === undefined) return { names: [], complete: false };
  const tracking: Tracking = { requestNames: new Set(), paramsNames: new Set(), names: new Set(), complete: true };
  const first = fn.params[0];
  if (first === undefined) return { names: [], complete: true };
  if (first.type === 'Identifier') tracking.requestNames.add(first.name);
  else if (first.type === 'ObjectPattern') readRequestPattern(first, tracking);
  else tracking.complete = false;
  // Aliases come before their uses in source order, which is the order the walk visits them.
  fullAncestor(fn.body, (node, _state, ancestors) => {
    if (node.type !== 'Identifier') return;
    const parent = ancestors.at(-2);
    if (parent === undefined) return;
    if (tracking.requestNames.has(node.name)) readRequestUse(node, parent, ancestors, tracking);
    else if (tracking.paramsNames.has(node.name)) readParamsUse(node, parent, tracking);
  });
  return { names: [...tracking.names].sort(), complete: tracking.complete };
}

/** `{ params, user }` or `{ params: p }` or `{ params: { a, b } }` as the handler's parameter or a destructuring of the request. */
function readRequestPattern(pattern: acorn.ObjectPattern, tracking: Tracking): void {
  for (const property of pattern.properties) {
    if (property.type === 'RestElement') {
      tracking.complete = false;
      continue;
    }
    if (keyName(property.key, property.computed) !== 'params') continue;
    readParamsPattern(property.value, tracking);
  }
}

/** What `params` is bound to: a name (an alias to follow) or a pattern of names. */
function readParamsPattern(target: acorn.Pattern, tracking: Tracking): void {
  const value = target.type === 'AssignmentPattern' ? target.left : target;
  if (value.type === 'Identifier') {
    tracking.paramsNames.add(value.name);
    return;
  }
  if (value.type !== 'ObjectPattern') {
    tracking.complete = false;
    return;
  }
  for (const property of value.properties) {
    const name = property.type === 'Property' ? keyName(property.key, property.computed) : undefined;
    if (name === undefined) tracking.complete = false;
    else tracking.names.add(name);
  }
}

function keyName(key: acorn.Expression | acorn.PrivateIdentifier, computed: boolean): string | undefined {
  if (key.type === 'Identifier' && !computed) return key.name;
  if (key.type === 'Literal' && typeof key.value === 'string') return key.value;
  return undefined;
}

/** A use of the request object: only `.params` matters, and only `.params.x`-style reads are followed. */
function readRequestUse(node: acorn.Identifier, parent: acorn.AnyNode, ancestors: acorn.AnyNode[], tracking: Tracking): void {
  if (parent.type === 'MemberExpression' && parent.object === node) {
    if (keyName(parent.property, parent.computed) !== 'params') {
      if (parent.computed) tracking.complete = false;
      return;
    }
    readParamsUse(parent, ancestors.at(-3), tracking);
    return;
  }
  if (parent.type === 'VariableDeclarator' && parent.init === node) {
    if (parent.id.type === 'ObjectPattern') readRequestPattern(parent.id, tracking);
    else if (parent.id.type === 'Identifier') tracking.requestNames.add(parent.id.name);
    return;
  }
  // A declaration of the name, or a harmless test (`if (!request)`), reads no params.
  if (parent.type === 'UnaryExpression' || parent.type === 'IfStatement' || parent.type === 'LogicalExpression') return;
  if (parent.type === 'VariableDeclarator' && parent.id === node) return;
  // Handed to another function, stored or spread: what reads its params there is out of sight.
  tracking.complete = false;
}

/** A use of the params object (`request.params` or an alias): `.x` and `['x']` are reads, anything else is opaque. */
function readParamsUse(params: acorn.Node, parent: acorn.AnyNode | undefined, tracking: Tracking): void {
  if (parent === undefined) return;
  if (parent.type === 'MemberExpression' && parent.object === params) {
    const name = keyName(parent.property, parent.computed);
    if (name === undefined) tracking.complete = false;
    else tracking.names.add(name);
    return;
  }
  if (parent.type === 'VariableDeclarator' && parent.init === params) {
    readParamsPattern(parent.id, tracking);
    return;
  }
  if (parent.type === 'VariableDeclarator' && parent.id === params) return;
  tracking.complete = false;
}
