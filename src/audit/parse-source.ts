/**
 * Turns cloud code into syntax trees for the audit. The handler's own text comes from the function object
 * (`Function.prototype.toString`): that is the code that actually runs, already JavaScript even when the app
 * is written in TypeScript (tsx compiled it). The file it was declared in is read to follow calls into the
 * file's own helper functions; TypeScript files are compiled with esbuild first, as tsx does when it loads them.
 */
import { readFileSync } from 'node:fs';
import { extname, isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';
import { transformSync } from 'esbuild';

export type FunctionNode = acorn.Function;

const PARSE_OPTIONS: acorn.Options = { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowReturnOutsideFunction: true };

/** The syntax tree of a function object's source, or undefined (native or bound functions have none to read). */
export function parseFunctionObject(fn: unknown): FunctionNode | undefined {
  if (typeof fn !== 'function') return undefined;
  const text = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) return undefined;
  // A function expression parses inside parentheses; a method (`run(req) {…}`) only inside an object literal.
  for (const wrapped of [`(${text}\n)`, `({${text}\n})`]) {
    try {
      const program = acorn.parse(wrapped, PARSE_OPTIONS);
      const found = firstFunction(program);
      if (found !== undefined) return found;
    } catch {
      // try the next wrapping
    }
  }
  return undefined;
}

function firstFunction(program: acorn.Program): FunctionNode | undefined {
  const statement = program.body[0];
  if (statement?.type !== 'ExpressionStatement') return undefined;
  const expression = statement.expression;
  if (expression.type === 'FunctionExpression' || expression.type === 'ArrowFunctionExpression') return expression;
  if (expression.type === 'ObjectExpression') {
    const property = expression.properties[0];
    if (property?.type === 'Property' && property.value.type === 'FunctionExpression') return property.value;
  }
  return undefined;
}

/** The top-level names of one file: its own functions, and the bindings it imports from elsewhere. */
export interface ModuleIndex {
  readonly file: string;
  readonly functions: ReadonlyMap<string, FunctionNode>;
  /** Local name → the module it comes from (`import`, or `require` at the top level). */
  readonly imports: ReadonlyMap<string, string>;
}

/** The file named by a stack frame such as `Object.<anonymous> (/app/cloud/main.js:12:7)` or `file:///app/main.mjs?x=1:3:1`. */
export function fileOfLocation(location: string | undefined): string | undefined {
  if (location === undefined) return undefined;
  const match = /\(?((?:file:\/\/)?[^()]+?):\d+:\d+\)?$/.exec(location);
  const raw = match?.[1];
  if (raw === undefined) return undefined;
  const withoutQuery = raw.replace(/\?[^/]*$/, '');
  return withoutQuery.startsWith('file://') ? fileURLToPath(withoutQuery) : withoutQuery;
}

/** `cloud/main.js:12:7`: a stack frame's file relative to the app's directory, with line and column. */
export function shortLocation(location: string | undefined, cwd: string): string | undefined {
  const file = fileOfLocation(location);
  const position = /:(\d+:\d+)\)?$/.exec(location ?? '');
  if (file === undefined || position === null) return location;
  const shown = isAbsolute(file) && !relative(cwd, file).startsWith('..') ? relative(cwd, file).split(sep).join('/') : file;
  return `${shown}:${position[1] ?? ''}`;
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** Reads and indexes a file; undefined when it cannot be read or parsed (the audit then says it cannot tell). */
export function indexModule(file: string): ModuleIndex | undefined {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
    const extension = extname(file);
    if (TYPESCRIPT.has(extension)) source = transformSync(source, { loader: extension === '.tsx' ? 'tsx' : 'ts', format: 'esm' }).code;
  } catch {
    return undefined;
  }
  let program: acorn.Program;
  try {
    program = acorn.parse(source, PARSE_OPTIONS);
  } catch {
    try {
      program = acorn.parse(source, { ...PARSE_OPTIONS, sourceType: 'script' });
    } catch {
      return undefined;
    }
  }
  const functions = new Map<string, FunctionNode>();
  const imports = new Map<string, string>();
  for (const statement of program.body) indexStatement(statement, functions, imports);
  return { file, functions, imports };
}

function indexStatement(statement: acorn.Statement | acorn.ModuleDeclaration, functions: Map<string, FunctionNode>, imports: Map<string, string>): void {
  if (statement.type === 'ExportNamedDeclaration' || statement.type === 'ExportDefaultDeclaration') {
    const declaration = statement.declaration;
    if (declaration !== null && declaration !== undefined && 'type' in declaration) indexStatement(declaration as acorn.Statement, functions, imports);
    return;
  }
  if (statement.type === 'FunctionDeclaration' && statement.id !== null) {
    functions.set(statement.id.name, statement);
    return;
  }
  if (statement.type === 'ImportDeclaration') {
    for (const specifier of statement.specifiers) imports.set(specifier.local.name, String(statement.source.value));
    return;
  }
  if (statement.type !== 'VariableDeclaration') return;
  for (const declarator of statement.declarations) {
    const init = declarator.init;
    if (init === null || init === undefined) continue;
    if (declarator.id.type === 'Identifier' && (init.type === 'FunctionExpression' || init.type === 'ArrowFunctionExpression')) {
      functions.set(declarator.id.name, init);
      continue;
    }
    const required = requiredModule(init);
    if (required === undefined) continue;
    for (const name of bindingNames(declarator.id)) imports.set(name, required);
  }
}

/** `require('x')`, `require('x').y` or `await import('x')`: the module named, if the expression is one of those. */
function requiredModule(expression: acorn.Expression): string | undefined {
  let current: acorn.Expression = expression;
  while (current.type === 'MemberExpression' || current.type === 'AwaitExpression') current = current.type === 'MemberExpression' ? (current.object as acorn.Expression) : current.argument;
  if (current.type === 'CallExpression' && current.callee.type === 'Identifier' && current.callee.name === 'require') {
    const argument = current.arguments[0];
    return argument?.type === 'Literal' ? String(argument.value) : '(computed)';
  }
  if (current.type === 'ImportExpression') return current.source.type === 'Literal' ? String(current.source.value) : '(computed)';
  return undefined;
}

/** Every name a binding pattern introduces (`a`, `{a, b: c}`, `[d, ...e]`, `f = 1`). */
export function bindingNames(pattern: acorn.Pattern): string[] {
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name];
    case 'ObjectPattern':
      return pattern.properties.flatMap((property) => (property.type === 'RestElement' ? bindingNames(property.argument) : bindingNames(property.value)));
    case 'ArrayPattern':
      return pattern.elements.flatMap((element) => (element === null ? [] : bindingNames(element)));
    case 'RestElement':
      return bindingNames(pattern.argument);
    case 'AssignmentPattern':
      return bindingNames(pattern.left);
    default:
      return [];
  }
}
