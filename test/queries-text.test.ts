/**
 * Full-text search (`$text`) through the official SDK and raw REST, on every engine: MongoDB's reading of
 * the term, `$score` ordering and selection, languages, Parse's refusals, and ACLs still applied.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertRefused, call, query } from './helpers/http.ts';
import { parseSdk } from './helpers/sdk.ts';
import { engines, startTestServer, type TestServer } from './helpers/server.ts';

const TEXTS = [
  'coffee',
  'Coffee shop upon a hill',
  'Coffee and cream, coffee and sugar',
  'Tea shop',
  'Baking a cake',
  'cafe con leche',
];

for (const engine of engines()) {
  describe(`text search (${engine})`, () => {
    let server: TestServer;
    let Parse: any;
    before(async () => {
      server = await startTestServer(engine);
      Parse = parseSdk(server.url);
      await Parse.Object.saveAll(TEXTS.map((subject) => new Parse.Object('Post').set({ subject, meta: { note: subject } })));
      const secret = new Parse.Object('Post').set({ subject: 'secret coffee' });
      secret.setACL(new Parse.ACL());
      await secret.save(null, { useMasterKey: true });
    });
    after(async () => server.stop());

    const subjects = (results: any[]): string[] => results.map((o) => o.get('subject')).sort();

    test('fullText matches words after stemming and case folding', async () => {
      assert.deepEqual(subjects(await new Parse.Query('Post').fullText('subject', 'COFFEE').find()), [
        'Coffee and cream, coffee and sugar',
        'Coffee shop upon a hill',
        'coffee',
      ]);
      assert.deepEqual(subjects(await new Parse.Query('Post').fullText('subject', 'bake').find()), ['Baking a cake']);
    });

    test('any plain word matches; a quoted phrase is required; -word excludes', async () => {
      assert.equal((await new Parse.Query('Post').fullText('subject', 'tea cake').find()).length, 2);
      assert.deepEqual(subjects(await new Parse.Query('Post').fullText('subject', '"coffee shop"').find()), ['Coffee shop upon a hill']);
      assert.deepEqual(subjects(await new Parse.Query('Post').fullText('subject', 'shop -tea').find()), ['Coffee shop upon a hill']);
    });

    test('ascending($score) orders by relevance and select($score) returns it', async () => {
      const results = await new Parse.Query('Post').fullText('subject', 'coffee').ascending('$score').select('$score').find();
      assert.equal(results.length, 3);
      const scores = results.map((o: any) => o.get('score'));
      assert.ok(scores.every((s: unknown) => typeof s === 'number' && s > 0), JSON.stringify(scores));
      assert.deepEqual([...scores].sort((a, b) => b - a), scores);
      assert.equal(results[0].get('subject'), undefined, 'select($score) returns only the score');
      const sorted = await new Parse.Query('Post').fullText('subject', 'coffee').sortByTextScore().find();
      assert.equal(sorted.length, 3);
    });

    test('$score without $text is refused', async () => {
      assertRefused(await call(server.url, `/classes/Post${query({ order: '$score' })}`), 102, /\$text/, 'order');
      assertRefused(await call(server.url, `/classes/Post${query({ keys: '$score' })}`), 102, /\$text/, 'keys');
    });

    test('languages: configurations and MongoDB codes; a string inside an Object field', async () => {
      const spanish = await new Parse.Query('Post').fullText('subject', 'leche', { language: 'es' }).find();
      assert.deepEqual(subjects(spanish), ['cafe con leche']);
      const simple = await new Parse.Query('Post').fullText('subject', 'baking', { language: 'none' }).find();
      assert.deepEqual(subjects(simple), ['Baking a cake']);
      const nested = await call(server.url, `/classes/Post${query({ where: { 'meta.note': { $text: { $search: { $term: 'tea' } } } } })}`);
      assert.deepEqual(nested.body.results.map((r: any) => r.subject), ['Tea shop']);
    });

    test('ACLs still apply to text results, and count agrees', async () => {
      const client = await call(server.url, `/classes/Post${query({ where: { subject: { $text: { $search: { $term: 'secret' } } } }, count: 1 })}`);
      assert.deepEqual(client.body, { results: [], count: 0 });
      const master = await call(server.url, `/classes/Post${query({ where: { subject: { $text: { $search: { $term: 'secret' } } } }, count: 1 })}`, { master: true });
      assert.equal(master.body.count, 1);
    });

    test('$text on a non-string field matches nothing', async () => {
      const result = await call(server.url, `/classes/Post${query({ where: { meta: { $text: { $search: { $term: 'coffee' } } } } })}`);
      assert.deepEqual(result.body.results, []);
    });

    const bad: [string, unknown][] = [
      ['$search not an object', { $search: 'coffee' }],
      ['no $term', { $search: {} }],
      ['$term not a string', { $search: { $term: 7 } }],
      ['unknown language', { $search: { $term: 'coffee', $language: 'klingon' } }],
      ['language not a string', { $search: { $term: 'coffee', $language: 5 } }],
      ['language that is SQL', { $search: { $term: 'coffee', $language: "english'::regconfig) OR 1=1 --" } }],
      ['$caseSensitive true', { $search: { $term: 'coffee', $caseSensitive: true } }],
      ['$caseSensitive not boolean', { $search: { $term: 'coffee', $caseSensitive: 'yes' } }],
      ['$diacriticSensitive false', { $search: { $term: 'coffee', $diacriticSensitive: false } }],
      ['only punctuation', { $search: { $term: '- " "' } }],
    ];
    for (const [label, text] of bad) {
      test(`refused with 107: ${label}`, async () => {
        assertRefused(await call(server.url, `/classes/Post${query({ where: { subject: { $text: text } } })}`), 107, /^bad \$text/, label);
      });
    }

    test('odd terms are searched, never errors', async () => {
      for (const term of ["'", '!', '&|', '(coffee', 'a:*', 'or', 'the', '"unclosed', '😀', 'coffee <-> shop']) {
        const result = await call(server.url, `/classes/Post${query({ where: { subject: { $text: { $search: { $term: term } } } } })}`);
        assert.equal(result.status, 200, `${term}: ${JSON.stringify(result.body)}`);
      }
    });
  });
}
