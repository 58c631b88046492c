// How the audit reads cloud code: escalation to the master key and the params a handler reads, from real
// function objects (what `Parse.Cloud.define` receives) parsed with a JavaScript parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { escalationOf } from '../src/audit/escalation.ts';
import { paramsReadBy } from '../src/audit/params-read.ts';
import { fileOfLocation, indexModule, parseFunctionObject, shortLocation } from '../src/audit/parse-source.ts';
import * as helpers from './fixtures/audit/helpers.ts';

declare const Parse: any;
declare const someGlobalHelper: () => unknown;

const escalation = (fn: unknown): string => escalationOf(parseFunctionObject(fn), undefined, 'handler').escalation;
const read = (fn: unknown): { names: readonly string[]; complete: boolean } => paramsReadBy(parseFunctionObject(fn));

test('escalation: useMasterKey true in any form is found; false is not an escalation', () => {
  assert.equal(escalation(() => new Parse.Query('A').find({ useMasterKey: true })), 'yes');
  assert.equal(escalation(() => new Parse.Query('A').find({ 'useMasterKey': true })), 'yes');
  assert.equal(escalation(() => new Parse.Query('A').find({ useMasterKey: false })), 'no');
  assert.equal(escalation(() => new Parse.Query('A').find()), 'no');
  assert.equal(escalation(function legacy() { Parse.Cloud.useMasterKey(); }), 'yes');
  assert.equal(
    escalation(() => {
      const options: any = {};
      options.useMasterKey = true;
      return options;
    }),
    'yes',
  );
});

test('escalation: a value the audit cannot evaluate is "unknown", never "no"', () => {
  assert.equal(escalation((request: any) => new Parse.Query('A').find({ useMasterKey: request.master })), 'unknown');
  const useMasterKey = true;
  assert.equal(escalation(() => new Parse.Query('A').find({ useMasterKey })), 'unknown');
  // Code the audit cannot see.
  assert.equal(escalation(() => someGlobalHelper()), 'unknown');
  assert.equal(escalation(Math.max.bind(Math)), 'unknown');
  // Reading the option is not setting it; calling known globals is not hiding anything.
  assert.equal(escalation((options: any) => { const { useMasterKey: flag } = options; return Boolean(flag) && JSON.stringify([]); }), 'no');
});

test('escalation: methods and generators parse too', () => {
  const object = {
    handler(this: void) {
      return new Parse.Query('A').find({ useMasterKey: true });
    },
  };
  assert.equal(escalation(object.handler), 'yes');
  assert.equal(escalation(function* generator() { yield 1; }), 'no');
});

test('escalation: calls into helpers of the same file are followed, imported ones are "unknown" (TypeScript file)', () => {
  const file = fileURLToPath(new URL('./fixtures/audit/helpers.ts', import.meta.url));
  const module = indexModule(file);
  assert.ok(module !== undefined, 'the TypeScript fixture is compiled and parsed');
  assert.deepEqual([...module.functions.keys()].sort(), ['callsEscalatingHelper', 'callsHarmlessHelper', 'callsImportedCode', 'listEverything', 'listMine', 'readsTheOption']);
  assert.equal(module.imports.get('readFileSync'), 'node:fs');
  const facts = escalationOf(parseFunctionObject(helpers.callsEscalatingHelper), module, 'function x');
  assert.equal(facts.escalation, 'yes');
  assert.match(facts.notes.join('\n'), /listEverything \(called by function x\)/);
  assert.equal(escalationOf(parseFunctionObject(helpers.callsHarmlessHelper), module, 'f').escalation, 'no');
  const imported = escalationOf(parseFunctionObject(helpers.callsImportedCode), module, 'f');
  assert.equal(imported.escalation, 'unknown');
  assert.match(imported.notes.join('\n'), /readFileSync from 'node:fs'/);
  assert.equal(escalationOf(parseFunctionObject(helpers.readsTheOption), module, 'f').escalation, 'no');
});

test('escalation: recursion between helpers ends', () => {
  const file = fileURLToPath(new URL('./fixtures/audit/recursive.js', import.meta.url));
  const module = indexModule(file);
  assert.ok(module !== undefined);
  const ping = module.functions.get('ping');
  assert.equal(escalationOf(ping, module, 'ping').escalation, 'yes');
});

test('params: every way of reading request.params is listed; opaque uses make the list incomplete', () => {
  assert.deepEqual(read((request: any) => request.params.a + request.params['b']), { names: ['a', 'b'], complete: true });
  assert.deepEqual(read((request: any) => { const { a, b: renamed } = request.params; return [a, renamed]; }), { names: ['a', 'b'], complete: true });
  assert.deepEqual(read((request: any) => { const p = request.params; return p.x; }), { names: ['x'], complete: true });
  assert.deepEqual(read(({ params }: any) => params.movie), { names: ['movie'], complete: true });
  assert.deepEqual(read(({ params: { a, c } }: any) => [a, c]), { names: ['a', 'c'], complete: true });
  assert.deepEqual(read((request: any) => { const { params } = request; return params.z; }), { names: ['z'], complete: true });
  assert.deepEqual(read((request: any) => (request.user ? request.user.id : null)), { names: [], complete: true });
  assert.deepEqual(read(() => 1), { names: [], complete: true });
  // Opaque: the whole params object or the request handed on, a computed key, a rest element.
  assert.equal(read((request: any) => Object.keys(request.params)).complete, false);
  assert.equal(read((request: any, key = 'k') => request.params[key]).complete, false);
  assert.equal(read((request: any) => { const { a, ...rest } = request.params; return [a, rest]; }).complete, false);
  assert.equal(read((request: any) => JSON.stringify(request)).complete, false);
});

test('locations: stack frames become paths relative to the app', () => {
  assert.equal(fileOfLocation('Object.<anonymous> (/app/cloud/main.js:12:7)'), '/app/cloud/main.js');
  assert.equal(fileOfLocation('file:///app/cloud/main.mjs?parsec-load=3:4:1'), '/app/cloud/main.mjs');
  assert.equal(fileOfLocation('/app/cloud/main.js:1:2'), '/app/cloud/main.js');
  assert.equal(fileOfLocation(undefined), undefined);
  assert.equal(shortLocation('Object.<anonymous> (/app/cloud/main.js:12:7)', '/app'), 'cloud/main.js:12:7');
  assert.equal(shortLocation('/elsewhere/x.js:1:1', '/app'), '/elsewhere/x.js:1:1');
});
