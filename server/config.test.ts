import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFromEnv } from './config';

describe('control plane configuration from the environment', () => {
  it('has defaults for everything', () => {
    const config = loadConfigFromEnv({});
    assert.equal(config.listenHost, '127.0.0.1');
    assert.equal(config.dataDir, '.portcullis-data');
    assert.equal(config.tokenTtlSeconds, 12 * 3600);
    assert.equal(config.idleTimeoutSeconds, 30 * 60);
    assert.equal(config.defaultSessionSeconds, 3600);
    assert.equal(config.maxSessionSecondsCap, 12 * 3600);
    assert.equal(config.bootstrapEmail, 'admin@localhost');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.tls, undefined);
    assert.equal(config.logWriterThread, true);
    assert.deepEqual(config.trustedProxies, []);
  });

  it('reads the trusted balancers as addresses and CIDR ranges, and refuses anything else', () => {
    assert.deepEqual(loadConfigFromEnv({ PORTCULLIS_TRUSTED_PROXIES: ' 10.0.0.5, 10.1.0.0/16,fd00::/8 ' }).trustedProxies, [
      '10.0.0.5',
      '10.1.0.0/16',
      'fd00::/8',
    ]);
    for (const bad of ['10.0.0.300', 'balancer.local', '10.0.0.0/33', '10.0.0.0/8/1', 'fd00::/129']) {
      assert.throws(
        () => loadConfigFromEnv({ PORTCULLIS_TRUSTED_PROXIES: bad }),
        /PORTCULLIS_TRUSTED_PROXIES must list IP addresses or CIDR ranges/,
        bad,
      );
    }
  });

  it('reads PORTCULLIS_* variables and refuses bad numbers and half a TLS setup', () => {
    const config = loadConfigFromEnv({
      PORTCULLIS_PORT: '0',
      PORTCULLIS_DATA_DIR: '/tmp/x',
      PORTCULLIS_DATABASE_URL: 'postgres://db/portcullis',
      PORTCULLIS_TLS_CERT_FILE: 'c.pem',
      PORTCULLIS_TLS_KEY_FILE: 'k.pem',
      PORTCULLIS_IDLE_TIMEOUT_SECONDS: '600',
      PORTCULLIS_LOG: 'off',
      PORTCULLIS_LOG_WRITER_THREAD: 'off',
    });
    assert.equal(config.listenPort, 0);
    assert.equal(config.databaseUrl, 'postgres://db/portcullis');
    assert.deepEqual(config.tls, { certFile: 'c.pem', keyFile: 'k.pem' });
    assert.equal(config.idleTimeoutSeconds, 600);
    assert.equal(config.logger, false);
    assert.equal(config.logWriterThread, false);
    assert.equal(loadConfigFromEnv({ PORTCULLIS_LOG_WRITER_THREAD: 'on' }).logWriterThread, true);
    assert.throws(() => loadConfigFromEnv({ PORTCULLIS_LOG_WRITER_THREAD: 'no' }), /PORTCULLIS_LOG_WRITER_THREAD must be on or off/);
    assert.throws(() => loadConfigFromEnv({ PORTCULLIS_PORT: 'eighty' }), /PORTCULLIS_PORT must be a whole number/);
    assert.throws(() => loadConfigFromEnv({ PORTCULLIS_TLS_CERT_FILE: 'c.pem' }), /both a certificate file and a key file/);
  });

  it('serves plain HTTP on loopback only, unless TLS is set up or --insecure-http says a proxy terminates it', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      assert.equal(loadConfigFromEnv({ PORTCULLIS_HOST: host }).listenHost, host);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'portcullis.internal']) {
      assert.throws(
        () => loadConfigFromEnv({ PORTCULLIS_HOST: host }),
        /refusing to serve plain HTTP on .*not loopback.*--insecure-http/,
        host,
      );
      assert.equal(loadConfigFromEnv({ PORTCULLIS_HOST: host, PORTCULLIS_INSECURE_HTTP: 'on' }).insecureHttp, true);
      const tls = { PORTCULLIS_TLS_CERT_FILE: 'c.pem', PORTCULLIS_TLS_KEY_FILE: 'k.pem' };
      assert.equal(loadConfigFromEnv({ PORTCULLIS_HOST: host, ...tls }).listenHost, host);
    }
  });
});
