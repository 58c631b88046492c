/**
 * Schema, config and idempotency behaviours the official JS SDK relies on (its integration suites
 * ParseSchemaTest, ParseConfigTest and IdempotencyTest), written for Parsec and run on every engine:
 * `Parse.Schema` save/get/all/update/delete/purge with fields, defaults, CLPs and indexes; `Parse.Config`
 * with master-only params; and a repeated `X-Parse-Request-Id` (set through the SDK's REQUEST_HEADERS)
 * answering 159 for saves, updates, functions and jobs, with nothing run twice.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';
import { idempotencyOptions } from '../src/config/idempotency-option.ts';

const CLOUD = fileURLToPath(new URL('./fixtures/cloud/sdk-platform.js', import.meta.url));

function idempotency() {
  const parsed = idempotencyOptions.fromJson({ paths: ['functions/.*', 'jobs/.*', 'classes/.*'], ttl: 300 });
  if (!parsed.ok || parsed.value === false) throw new Error('bad test options');
  return parsed.value;
}

const DEFAULT_CLP = {
  find: { '*': true },
  count: { '*': true },
  get: { '*': true },
  create: { '*': true },
  update: { '*': true },
  delete: { '*': true },
  addField: { '*': true },
  protectedFields: { '*': [] },
};
const EMPTY_CLP = { find: {}, count: {}, get: {}, create: {}, update: {}, delete: {}, addField: {}, protectedFields: {} };
const CLP = { ...EMPTY_CLP, get: { requiresAuthentication: true }, create: { '*': true }, update: { requiresAuthentication: true } };

for (const engine of engines()) {
  describe(`SDK schema, config and idempotency (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    let classCounter = 0;
    const className = (): string => `SdkSchema${++classCounter}`;
    before(async () => {
      server = await startTestServer(engine, { cloud: CLOUD, idempotencyOptions: idempotency(), rateLimit: [] });
      Parse = parseSdk(server.url);
    });
    after(async () => server.stop());

    test('a class that does not exist: get is refused (103), all lists only what exists', async () => {
      const name = className();
      await assert.rejects(new Parse.Schema(name).get(), (error: any) => error.code === 103);
      const before = (await Parse.Schema.all()).map((s: any) => s.className);
      assert.ok(!before.includes(name));
    });

    test('save with every field type, then get', async () => {
      const name = className();
      const schema = new Parse.Schema(name)
        .addField('defaultFieldString')
        .addString('stringField')
        .addNumber('numberField')
        .addBoolean('booleanField')
        .addDate('dateField')
        .addFile('fileField')
        .addGeoPoint('geoPointField')
        .addPolygon('polygonField')
        .addArray('arrayField')
        .addObject('objectField')
        .addPointer('pointerField', '_User')
        .addRelation('relationField', '_User');
      assert.equal((await schema.save()).className, name);
      const { fields } = await schema.get();
      const types = Object.fromEntries(Object.entries(fields).map(([key, field]: [string, any]) => [key, field.targetClass === undefined ? field.type : `${field.type as string}<${field.targetClass as string}>`]));
      assert.deepEqual(types, {
        objectId: 'String',
        createdAt: 'Date',
        updatedAt: 'Date',
        ACL: 'ACL',
        defaultFieldString: 'String',
        stringField: 'String',
        numberField: 'Number',
        booleanField: 'Boolean',
        dateField: 'Date',
        fileField: 'File',
        geoPointField: 'GeoPoint',
        polygonField: 'Polygon',
        arrayField: 'Array',
        objectField: 'Object',
        pointerField: 'Pointer<_User>',
        relationField: 'Relation<_User>',
      });
      assert.ok((await Parse.Schema.all()).some((s: any) => s.className === name));
    });

    test('required fields with default values fill new objects, the polygon closed', async () => {
      const name = className();
      const pointer = await new Parse.Object('SdkSchemaTarget').save();
      const point = new Parse.GeoPoint(44, -11);
      const polygon = new Parse.Polygon([[0, 0], [0, 1], [1, 1], [1, 0]]);
      const saved = await new Parse.Schema(name)
        .addField('defaultFieldString', 'String', { required: true, defaultValue: 'hello' })
        .addNumber('numberField', { required: true, defaultValue: 10 })
        .addBoolean('booleanField', { required: true, defaultValue: false })
        .addDate('dateField', { required: true, defaultValue: new Date('2000-01-01T00:00:00.000Z') })
        .addDate('dateStringField', { required: true, defaultValue: '2000-01-01T00:00:00.000Z' })
        .addGeoPoint('geoPointField', { required: true, defaultValue: point })
        .addPolygon('polygonField', { required: true, defaultValue: polygon })
        .addArray('arrayField', { required: true, defaultValue: [1, 2, 3] })
        .addObject('objectField', { required: true, defaultValue: { foo: 'bar' } })
        .addPointer('pointerField', 'SdkSchemaTarget', { required: true, defaultValue: pointer })
        .save();
      const date = { __type: 'Date', iso: '2000-01-01T00:00:00.000Z' };
      assert.deepEqual(saved.fields.dateStringField, { type: 'Date', required: true, defaultValue: date });
      assert.deepEqual(saved.fields.pointerField.defaultValue, pointer.toPointer());
      const object = await new Parse.Object(name).save();
      const stored = (await new Parse.Query(name).get(object.id)).toJSON();
      assert.deepEqual(
        [stored.defaultFieldString, stored.numberField, stored.booleanField, stored.dateField, stored.dateStringField, stored.arrayField, stored.objectField],
        ['hello', 10, false, date, date, [1, 2, 3], { foo: 'bar' }],
      );
      assert.deepEqual(stored.geoPointField, point.toJSON());
      assert.deepEqual(stored.polygonField.coordinates, [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]);
      assert.equal(stored.pointerField.objectId, pointer.id);
    });

    test('class-level permissions: saved, kept over updates, and cleared by a non-object or {}', async () => {
      const named = new Parse.Schema(className());
      named.setCLP(CLP);
      assert.deepEqual((await named.save()).classLevelPermissions, CLP);
      assert.deepEqual((await named.update()).classLevelPermissions, CLP);
      const schema = new Parse.Schema(className());
      assert.deepEqual((await schema.save()).classLevelPermissions, DEFAULT_CLP);
      // Parse stores a CLP that is not an object as "nobody may do anything"; Parsec refuses it instead.
      schema.setCLP(1234);
      await assert.rejects(schema.update(), (error: any) => error.code === 107 && /must be an object/.test(error.message));
      assert.deepEqual((await schema.get()).classLevelPermissions, DEFAULT_CLP);
      schema.setCLP(CLP);
      assert.deepEqual((await schema.update()).classLevelPermissions, CLP);
      schema.setCLP({});
      assert.deepEqual((await schema.update()).classLevelPermissions, EMPTY_CLP);
    });

    test('update adds and deletes fields; repeated updates change nothing', async () => {
      const schema = new Parse.Schema(className()).addString('name');
      await schema.save();
      schema.deleteField('name');
      schema.addNumber('quantity');
      schema.addBoolean('status');
      const updated = await schema.update();
      assert.deepEqual([updated.fields.status.type, updated.fields.quantity.type, updated.fields.name], ['Boolean', 'Number', undefined]);
      await schema.update();
      assert.equal(Object.keys((await schema.get()).fields).length, 6);
    });

    test('indexes: saved, added by update, deleted', async () => {
      const saved = new Parse.Schema(className()).addString('name').addIndex('test_index', { name: 1 });
      assert.notEqual((await saved.save()).indexes.test_index, undefined);
      const schema = new Parse.Schema(className());
      await schema.save();
      schema.addString('name');
      schema.addIndex('test_index', { name: 1 });
      assert.notEqual((await schema.update()).indexes.test_index, undefined);
      schema.deleteIndex('test_index');
      assert.equal((await schema.update()).indexes?.test_index, undefined);
    });

    test('delete needs an empty class (255 with Parse\'s message); purge empties it', async () => {
      const name = className();
      const schema = new Parse.Schema(name);
      await new Parse.Object(name).save();
      await assert.rejects(schema.delete(), (error: any) => {
        assert.equal(error.code, 255);
        // Parse's message also says how many ("contains 1 objects").
        assert.equal(error.message, `Class ${name} is not empty, contains objects, cannot drop schema.`);
        return true;
      });
      assert.equal(await new Parse.Query(name).count(), 1);
      await schema.purge();
      assert.equal(await new Parse.Query(name).count(), 0);
      await schema.delete();
      assert.ok(!(await Parse.Schema.all()).some((s: any) => s.className === name));
    });

    test('Parse.Config: saved with a master-only param, which only the master key reads', async () => {
      const saved = await Parse.Config.save({ internal: 'i', string: 's', number: 12 }, { internal: true });
      assert.deepEqual([saved.get('string'), saved.get('internal'), saved.get('number')], ['s', 'i', 12]);
      const config = await Parse.Config.get();
      assert.deepEqual([config.get('string'), config.get('number'), config.get('internal')], ['s', 12, undefined]);
      const asMaster = await Parse.Config.get({ useMasterKey: true });
      assert.deepEqual([asMaster.get('string'), asMaster.get('internal')], ['s', 'i']);
    });

    test('a repeated request id: saves, updates, functions and jobs answer 159 and run once', async () => {
      const duplicate = (id: string): void => Parse.CoreManager.set('REQUEST_HEADERS', { 'X-Parse-Request-Id': id });
      const isDuplicate = (error: any): boolean => error.code === 159 && error.message === 'Duplicate request';
      try {
        duplicate('sdk-fn-1234');
        assert.equal(await Parse.Cloud.run('sdkIdempotent'), 'ran');
        await assert.rejects(Parse.Cloud.run('sdkIdempotent'), isDuplicate);
        await assert.rejects(Parse.Cloud.run('sdkIdempotent'), isDuplicate);
        assert.equal(await new Parse.Query('SdkIdemItem').count({ useMasterKey: true }), 1);

        duplicate('sdk-save-1234');
        const object = new Parse.Object('SdkIdempotent');
        await object.save();
        await assert.rejects(object.save({ other: 1 }), isDuplicate);
        // The SDK keeps a failed save's changes for the next save; this test wants only its own.
        object.revert('other');
        duplicate('sdk-save-5678');
        object.set('foo', 'bar');
        await object.save();
        object.set('foo', 'baz');
        await assert.rejects(object.save(), isDuplicate);
        duplicate('sdk-job-1234');
        assert.equal(typeof (await Parse.Cloud.startJob('sdkJob', { startedBy: 'Monty Python' })), 'string');
        await assert.rejects(Parse.Cloud.startJob('sdkJob', { startedBy: 'Monty Python' }), isDuplicate);
      } finally {
        Parse.CoreManager.set('REQUEST_HEADERS', {});
      }
      const stored = await new Parse.Query('SdkIdempotent').find();
      assert.equal(stored.length, 1);
      assert.equal(stored[0].get('foo'), 'bar');
      assert.equal(stored[0].get('other'), undefined);
      const jobs = await new Parse.Query('_JobStatus').equalTo('jobName', 'sdkJob').find({ useMasterKey: true });
      assert.equal(jobs.length, 1);
      for (let i = 0; i < 50 && (await Parse.Cloud.getJobStatus(jobs[0].id)).get('status') === 'running'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const status = await Parse.Cloud.getJobStatus(jobs[0].id);
      assert.equal(status.get('status'), 'succeeded');
      assert.equal(status.get('params').startedBy, 'Monty Python');
    });
  });
}
