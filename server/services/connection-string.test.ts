import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCaCertificate } from './ca-certificate';
import { checkConnectionString } from './connection-string';

describe('resource connection strings', () => {
  it('accepts host lists and SRV names with options', () => {
    for (const value of [
      'mongodb://a',
      'mongodb://a:27017,b:27018/?replicaSet=rs0&tls=true',
      'mongodb+srv://cluster0.example.com/?retryWrites=true',
    ]) {
      assert.equal(checkConnectionString(` ${value} `), value);
    }
  });

  it('refuses credentials, a database, authSource and other schemes without repeating the string', () => {
    const refuse = (value: string, message: RegExp) =>
      assert.throws(
        () => checkConnectionString(value),
        (error: Error) => message.test(error.message) && !error.message.includes('hunter2'),
      );
    refuse('mongodb://bob:hunter2@a/', /put the username and password in an account/);
    refuse('mongodb://bob@a/', /put the username and password in an account/);
    refuse('mongodb://a/db1', /auth database field, not in the connection string/);
    refuse('mongodb://a/?authSource=x', /auth database field/);
    refuse('http://hunter2@a/', /must start with mongodb:\/\//);
    refuse('mongodb://a:notaport', /not a number from 1 to 65535/);
    refuse('mongodb://a:27017,b:99999', /not a number from 1 to 65535/);
    refuse('mongodb://', /not a valid MongoDB connection string/);
  });
});

describe('CA certificates', () => {
  it('refuses text without certificates and certificates that do not parse', () => {
    assert.throws(() => checkCaCertificate('hello'), /no PEM certificate found/);
    assert.throws(
      () => checkCaCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      /certificate 1 of 1 is not a valid/,
    );
    assert.throws(
      () =>
        checkCaCertificate(
          '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
        ),
      /besides certificates/,
    );
  });
});
