import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Binary, BSONRegExp, Code, type Document, Long, ObjectId, UUID } from 'bson';
import { encodeOpQuery } from '../wire/op-query';
import { describeCommand } from './command-input';
import { isSecretKey, maskConnectionStrings, normalizeKey, SECRET_KEYS } from './masking';
import { DEFAULT_RECORDING_OPTIONS, type RecordingOptions } from './options';
import { identify, opMsg } from './test-messages';

function input(body: Document, options: RecordingOptions = DEFAULT_RECORDING_OPTIONS): string {
  const raw = opMsg(body);
  return describeCommand(raw, identify(raw), options).input;
}

describe('masking in recorded commands', () => {
  describe('secret keys, at any depth and with any value type', () => {
    it('masks a string under a secret key at any depth', () => {
      assert.equal(
        input({ insert: 'c', doc: { profile: { login: { password: 'p1' } } }, list: [{ apiKey: 'k1' }], $db: 'a' }),
        '{"insert":"c","doc":{"profile":{"login":{"password":"***"}}},"list":[{"apiKey":"***"}]}',
      );
    });

    it('masks an array under a secret key as a whole', () => {
      assert.equal(
        input({ find: 'c', filter: { token: { $in: ['t1', 't2'] }, tokens: ['x'] }, $db: 'a' }),
        '{"find":"c","filter":{"token":"***","tokens":["x"]}}',
      );
      assert.equal(input({ update: 'c', secret: ['s1', { s: 's2' }], $db: 'a' }), '{"update":"c","secret":"***"}');
    });

    it('masks a sub-document under a secret key as a whole', () => {
      assert.equal(
        input({ insert: 'system.users', credentials: { 'SCRAM-SHA-256': { storedKey: 'sk', serverKey: 'vk', salt: 's' } }, $db: 'admin' }),
        '{"insert":"system.users","credentials":"***"}',
      );
      assert.equal(
        input({
          configure: 1,
          kmsProviders: { local: { key: new Binary(Buffer.alloc(96, 7)) }, aws: { accessKeyId: 'AKIA', secretAccessKey: 'sak' } },
          $db: 'a',
        }),
        '{"configure":1,"kmsProviders":"***"}',
      );
    });

    it('masks binary under a secret key, UUIDs included, instead of summarizing it', () => {
      assert.equal(
        input({
          insert: 'datakeys',
          keyMaterial: new Binary(Buffer.alloc(96, 1)),
          privateKey: new UUID(),
          other: new Binary(Buffer.alloc(3)),
          $db: 'keyvault',
        }),
        '{"insert":"datakeys","keyMaterial":"***","privateKey":"***","other":"<binary 3 bytes>"}',
      );
    });

    it('masks numbers, ids, dates, regexes and code under a secret key', () => {
      assert.equal(
        input({
          find: 'c',
          filter: {
            pwd: 1234,
            passwd: Long.fromNumber(5),
            secret: new ObjectId(),
            token: new Date(0),
            password: new BSONRegExp('^hun'),
            apiKey: new Code('k'),
          },
          $db: 'a',
        }),
        '{"find":"c","filter":{"pwd":"***","passwd":"***","secret":"***","token":"***","password":"***","apiKey":"***"}}',
      );
    });

    it('matches every spelling of a secret key: case, underscores, hyphens', () => {
      assert.equal(
        input({ insert: 'c', API_KEY: 'a', 'Api-Key': 'b', CLIENT_SECRET: 'c', Refresh_Token: 'd', NewPassword: 'e', $db: 'a' }),
        '{"insert":"c","API_KEY":"***","Api-Key":"***","CLIENT_SECRET":"***","Refresh_Token":"***","NewPassword":"***"}',
      );
      assert.equal(normalizeKey('Secret_Access-Key'), 'secretaccesskey');
      for (const key of SECRET_KEYS) assert.equal(isSecretKey(key), true, key);
    });

    it('leaves look-alike keys alone: an index key, digestPassword, a payload outside authentication', () => {
      assert.equal(
        input({ createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }], $db: 'a' }),
        '{"createIndexes":"c","indexes":[{"key":{"a":1},"name":"a_1"}]}',
      );
      assert.equal(input({ insert: 'events', payload: { kind: 'click' }, $db: 'a' }), '{"insert":"events","payload":{"kind":"click"}}');
      assert.match(input({ createUser: 'u', pwd: 'x', digestPassword: true, $db: 'admin' }), /"digestPassword":true/);
    });
  });

  describe('connection strings', () => {
    it('masks the password of a mongodb:// string, keeping the user and hosts', () => {
      assert.equal(
        input({ insert: 'c', uri: 'mongodb://alice:s3cr%40t@db1:27017,db2/admin?authSource=admin', $db: 'a' }),
        '{"insert":"c","uri":"mongodb://alice:***@db1:27017,db2/admin?authSource=admin"}',
      );
    });

    it('masks the password of a mongodb+srv:// string, whatever the case of the scheme', () => {
      assert.equal(
        input({ insert: 'c', uri: 'MongoDB+SRV://bob:pw@cluster0.example.net/?retryWrites=true', $db: 'a' }),
        '{"insert":"c","uri":"MongoDB+SRV://bob:***@cluster0.example.net/?retryWrites=true"}',
      );
    });

    it('masks every connection string inside longer text, an unescaped @ in the password too', () => {
      assert.equal(
        maskConnectionStrings('from mongodb://a:p1@h1/x to mongodb+srv://b:p@2@h2 and mongodb://c@h3 (no password)'),
        'from mongodb://a:***@h1/x to mongodb+srv://b:***@h2 and mongodb://c@h3 (no password)',
      );
      assert.equal(
        input({ aggregate: 'c', pipeline: [{ $set: { note: 'copied from mongodb://u:hunter2@old-host:27017' } }], cursor: {}, $db: 'a' }),
        '{"aggregate":"c","pipeline":[{"$set":{"note":"copied from mongodb://u:***@old-host:27017"}}],"cursor":{}}',
      );
    });
  });

  describe('SASL payloads and other authentication secrets', () => {
    it('masks a PLAIN saslStart string payload', () => {
      const text = input({ saslStart: 1, mechanism: 'PLAIN', payload: '\0other\0hunter2', $db: '$external' });
      assert.equal(text, '{"saslStart":1,"mechanism":"PLAIN","payload":"***"}');
      assert.doesNotMatch(text, /hunter2/);
    });

    it('masks a binary saslStart and saslContinue payload', () => {
      const payload = new Binary(Buffer.from('n,,n=other,r=abc'));
      assert.equal(
        input({ saslStart: 1, mechanism: 'SCRAM-SHA-256', payload, $db: 'admin' }),
        '{"saslStart":1,"mechanism":"SCRAM-SHA-256","payload":"***"}',
      );
      assert.equal(
        input({ saslContinue: 1, conversationId: 1, payload: new Binary(Buffer.from('c=biws,r=abc,p=proof')), $db: 'admin' }),
        '{"saslContinue":1,"conversationId":1,"payload":"***"}',
      );
    });

    it('masks the payload of a hello speculativeAuthenticate, at any depth, and a payload sent as a document', () => {
      assert.equal(
        input({
          hello: 1,
          speculativeAuthenticate: { saslStart: 1, mechanism: 'PLAIN', payload: '\0u\0pw', db: '$external' },
          $db: 'admin',
        }),
        '{"hello":1,"speculativeAuthenticate":{"saslStart":1,"mechanism":"PLAIN","payload":"***","db":"$external"}}',
      );
      assert.equal(input({ saslStart: 1, payload: { nested: 'pw' }, $db: 'admin' }), '{"saslStart":1,"payload":"***"}');
    });

    it('masks the payload of an authentication command wrapped in explain or not first', () => {
      assert.equal(input({ explain: { saslStart: 1, payload: 'pw' }, $db: 'admin' }), '{"explain":{"saslStart":1,"payload":"***"}}');
      assert.equal(input({ '0': 1, saslContinue: 1, payload: 'pw', $db: 'admin' }), '{"0":1,"saslContinue":1,"payload":"***"}');
    });

    it("masks MONGODB-CR authenticate's key", () => {
      assert.equal(
        input({ authenticate: 1, user: 'u', nonce: 'n', key: 'digest', $db: 'admin' }),
        '{"authenticate":1,"user":"u","nonce":"n","key":"***"}',
      );
    });
  });

  describe('createUser and updateUser', () => {
    it('masks createUser pwd', () => {
      assert.equal(
        input({ createUser: 'bob', pwd: 'hunter2', roles: [{ role: 'read', db: 'shop' }], $db: 'admin' }),
        '{"createUser":"bob","pwd":"***","roles":[{"role":"read","db":"shop"}]}',
      );
    });

    it('masks updateUser pwd, also over legacy OP_QUERY', () => {
      assert.equal(input({ updateUser: 'bob', pwd: 'hunter3', $db: 'admin' }), '{"updateUser":"bob","pwd":"***"}');
      const raw = encodeOpQuery({ requestId: 1, fullCollectionName: 'admin.$cmd', query: { updateUser: 'bob', pwd: 'hunter4' } });
      assert.equal(describeCommand(raw, identify(raw), DEFAULT_RECORDING_OPTIONS).input, '{"updateUser":"bob","pwd":"***"}');
    });
  });

  describe("the deployment's mask patterns", () => {
    it('mask any text value matching, code and regex patterns included', () => {
      const options = { ...DEFAULT_RECORDING_OPTIONS, maskPatterns: [/\b\d{3}-\d{2}-\d{4}\b/] };
      assert.equal(
        input(
          {
            find: 'people',
            filter: { ssn: '123-45-6789', re: new BSONRegExp('123-45-6789'), $where: new Code('this.ssn == "123-45-6789"') },
            $db: 'a',
          },
          options,
        ),
        '{"find":"people","filter":{"ssn":"***","re":{"$regularExpression":{"pattern":"***","options":""}},"$where":{"$code":"***"}}}',
      );
    });
  });
});
