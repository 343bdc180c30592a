/**
 * A deadline on getting a database connection: a query that would wait for one forever fails with a clear error
 * instead, and the control plane goes on serving.
 *
 * Why: SQLite has one connection, and Kysely queues every query for it. A query made through the outer handle
 * (`store.db`) by code running inside `store.transaction` waits for that transaction, which waits for the query:
 * nothing fails, and every later request queues behind them, forever (issue 12). On PostgreSQL the same wait
 * happens once every pooled connection is held by such a transaction. Services pass the transaction's handle to
 * everything they call inside it (keys, audit, helpers); this deadline is the safety net for the mistake made
 * anyway. The wait still goes on inside the driver after the deadline; the connection it finally gets is handed
 * straight back, so that the deadline never leaks a connection (on SQLite, the only one).
 */
import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';
import type { StoreDialect } from './store';

/** How long a query may wait for a database connection before it fails. */
export const DEFAULT_CONNECTION_WAIT_MS = 10_000;

export class ConnectionWaitTimeoutError extends Error {
  readonly code = 'STORE_CONNECTION_WAIT_TIMEOUT';
  constructor(dialect: StoreDialect, waitedMs: number) {
    const seconds = waitedMs / 1000;
    super(
      dialect === 'sqlite'
        ? `no database connection within ${seconds} s: SQLite's one connection is held by a transaction that has not ` +
            'finished. Code running inside store.transaction must query through the transaction (trx), never store.db: ' +
            'through store.db it waits for the transaction, which waits for it'
        : `no database connection within ${seconds} s: every connection of the PostgreSQL pool is busy, or the server ` +
            'does not answer. Code running inside store.transaction must query through the transaction (trx), never ' +
            'store.db: through store.db it needs a second connection while holding one',
    );
    this.name = 'ConnectionWaitTimeoutError';
  }
}

/** `dialect`, with every connection it hands out (for a query or a transaction) bounded by `waitMs`. */
export function withConnectionDeadline(dialect: Dialect, name: StoreDialect, waitMs: number): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new DeadlineDriver(dialect.createDriver(), name, waitMs),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}

class DeadlineDriver implements Driver {
  readonly savepoint?: Driver['savepoint'];
  readonly rollbackToSavepoint?: Driver['rollbackToSavepoint'];
  readonly releaseSavepoint?: Driver['releaseSavepoint'];

  constructor(
    private readonly inner: Driver,
    private readonly dialect: StoreDialect,
    private readonly waitMs: number,
  ) {
    // Optional in Kysely's Driver: offered only when the wrapped driver has them.
    this.savepoint = inner.savepoint?.bind(inner);
    this.rollbackToSavepoint = inner.rollbackToSavepoint?.bind(inner);
    this.releaseSavepoint = inner.releaseSavepoint?.bind(inner);
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    const acquiring = this.inner.acquireConnection();
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        acquiring.then(
          (connection) => this.inner.releaseConnection(connection),
          () => {},
        );
        reject(new ConnectionWaitTimeoutError(this.dialect, this.waitMs));
      }, this.waitMs);
      acquiring.then(
        (connection) => {
          if (late) return;
          clearTimeout(timer);
          resolve(connection);
        },
        (error) => {
          if (late) return;
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
