//! One handle over the two backends: the embedded SQLite file and a PostgreSQL server.
//!
//! Every query in `db/` is written once, in SQL both backends accept, and run through
//! [`on_pool!`](crate::on_pool) or [`on_conn!`](crate::on_conn): the macro repeats the body
//! once per backend, so each copy is compiled against that backend's own driver types (no
//! runtime type mapping, as `sqlx::Any` would add to every row of a 100k-row sync). Where the
//! SQL must differ, the body tests the `POSTGRES` constant that the macro defines in each copy.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use super::{classify, DbError};

/// A pool of connections to one database, of either backend. Cloning shares the pool.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction (`'static` when it holds its own pooled connection, borrowed when it
/// runs on a [`Connection`]); dropped without [`Tx::commit`] it rolls back.
#[derive(Debug)]
pub enum Tx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

/// A connection taken from the pool for a run of statements that share connection state
/// (temporary staging tables, session settings).
#[derive(Debug)]
pub enum Connection {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// A connection of its own, outside the pool, for work that changes its settings (the
/// re-model's bulk writer). Close it when done.
#[derive(Debug)]
pub enum OwnConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl OwnConnection {
    pub async fn open(pool: &Pool) -> Result<Self, DbError> {
        use sqlx::Connection as _;
        Ok(match pool {
            Pool::Sqlite(p) => OwnConnection::Sqlite(
                SqliteConnection::connect_with(&p.connect_options())
                    .await
                    .map_err(classify)?,
            ),
            Pool::Postgres(p) => OwnConnection::Postgres(
                PgConnection::connect_with(&p.connect_options())
                    .await
                    .map_err(classify)?,
            ),
        })
    }

    pub async fn close(self) -> Result<(), DbError> {
        use sqlx::Connection as _;
        match self {
            OwnConnection::Sqlite(c) => c.close().await.map_err(classify),
            OwnConnection::Postgres(c) => c.close().await.map_err(classify),
        }
    }
}

impl AsConn for OwnConnection {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            OwnConnection::Sqlite(c) => Conn::Sqlite(c),
            OwnConnection::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A borrowed connection: what the functions in `db/` that run inside a caller's transaction
/// take, whether that is a [`Tx`], a [`Connection`] or another borrow.
#[derive(Debug)]
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Anything a [`Conn`] can be borrowed from.
pub trait AsConn: Send {
    fn conn(&mut self) -> Conn<'_>;

    /// A transaction on this connection (a savepoint, inside another one).
    fn begin(&mut self) -> impl std::future::Future<Output = Result<Tx<'_>, DbError>> + Send
    where
        Self: Sized,
    {
        self.conn().begin()
    }

    /// A write transaction on this connection ([`Pool::begin_write`]): for changes that read
    /// before they write. On SQLite a deferred transaction that reads first is refused
    /// outright (`SQLITE_BUSY_SNAPSHOT`) when another connection commits before its first
    /// write, as the lease renewal and the shared progress do every few seconds.
    fn begin_write(&mut self) -> impl std::future::Future<Output = Result<Tx<'_>, DbError>> + Send
    where
        Self: Sized,
    {
        self.conn().begin_write()
    }
}

impl AsConn for Tx<'_> {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }
}

impl AsConn for Connection {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Connection::Sqlite(c) => Conn::Sqlite(c),
            Connection::Postgres(c) => Conn::Postgres(c),
        }
    }
}

impl AsConn for Conn<'_> {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// The backends' own connections, as the bodies of [`on_conn!`](crate::on_conn) hold them,
/// so that one function in `db/` can hand its connection on to another.
impl AsConn for SqliteConnection {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Sqlite(self)
    }
}

impl AsConn for PgConnection {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Postgres(self)
    }
}

impl AsConn for PoolConnection<Sqlite> {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Sqlite(self)
    }
}

impl AsConn for PoolConnection<Postgres> {
    fn conn(&mut self) -> Conn<'_> {
        Conn::Postgres(self)
    }
}

/// Key of the advisory lock that [`Pool::begin_write`] takes on PostgreSQL. Any constant
/// works as long as every replica uses the same one and nothing else does.
const WRITE_LOCK_KEY: i64 = 0x0045_4157_5249_5445; // "EAWRITE"

impl Pool {
    pub async fn begin(&self) -> Result<Tx<'static>, DbError> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await.map_err(classify)?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await.map_err(classify)?),
        })
    }

    /// A transaction for changes that read what they are about to change: no other write
    /// transaction, from this process or another replica, runs between its read and its write.
    /// SQLite gets this from `BEGIN IMMEDIATE` (its write lock, waited for through the busy
    /// timeout); PostgreSQL from one transaction-scoped advisory lock that every such
    /// transaction takes first, which is the same one-writer-at-a-time rule.
    pub async fn begin_write(&self) -> Result<Tx<'static>, DbError> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await.map_err(classify)?),
            Pool::Postgres(p) => {
                let mut tx = p.begin().await.map_err(classify)?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK_KEY)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                Tx::Postgres(tx)
            }
        })
    }

    /// A read-only transaction that sees one state of the database from its first read to its
    /// end, for a page drawn from several queries while other writers go on. SQLite in WAL mode
    /// keeps the snapshot of a deferred transaction's first read; PostgreSQL's default (read
    /// committed) would take a new one per statement, so it is asked for repeatable read.
    pub async fn begin_snapshot(&self) -> Result<Tx<'static>, DbError> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await.map_err(classify)?),
            Pool::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
                    .map_err(classify)?,
            ),
        })
    }

    pub async fn acquire(&self) -> Result<Connection, DbError> {
        Ok(match self {
            Pool::Sqlite(p) => Connection::Sqlite(p.acquire().await.map_err(classify)?),
            Pool::Postgres(p) => Connection::Postgres(p.acquire().await.map_err(classify)?),
        })
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await.map_err(classify),
            Tx::Postgres(t) => t.commit().await.map_err(classify),
        }
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.rollback().await.map_err(classify),
            Tx::Postgres(t) => t.rollback().await.map_err(classify),
        }
    }
}

impl<'c> Conn<'c> {
    /// A transaction (a savepoint, inside another one) on the borrowed connection.
    pub async fn begin(self) -> Result<Tx<'c>, DbError> {
        Ok(match self {
            Conn::Sqlite(c) => Tx::Sqlite(sqlx::Connection::begin(c).await.map_err(classify)?),
            Conn::Postgres(c) => Tx::Postgres(sqlx::Connection::begin(c).await.map_err(classify)?),
        })
    }

    /// A write transaction on the borrowed connection, as [`Pool::begin_write`]; not inside
    /// another transaction.
    pub async fn begin_write(self) -> Result<Tx<'c>, DbError> {
        Ok(match self {
            Conn::Sqlite(c) => Tx::Sqlite(
                sqlx::Connection::begin_with(c, "BEGIN IMMEDIATE")
                    .await
                    .map_err(classify)?,
            ),
            Conn::Postgres(c) => {
                let mut tx = sqlx::Connection::begin(c).await.map_err(classify)?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK_KEY)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                Tx::Postgres(tx)
            }
        })
    }
}

/// Runs `$body` with `$p` bound to the backend's own pool, once per backend.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => {
                #[allow(dead_code)]
                const POSTGRES: bool = false;
                #[allow(dead_code)]
                type Db = sqlx::Sqlite;
                $body
            }
            $crate::db::Pool::Postgres($p) => {
                #[allow(dead_code)]
                const POSTGRES: bool = true;
                #[allow(dead_code)]
                type Db = sqlx::Postgres;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the backend's own `&mut` connection, once per backend.
/// `$conn` is anything [`AsConn`]; reborrow inside the body with `&mut *$c`.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $crate::db::AsConn::conn($conn) {
            $crate::db::Conn::Sqlite($c) => {
                #[allow(dead_code)]
                const POSTGRES: bool = false;
                #[allow(dead_code)]
                type Db = sqlx::Sqlite;
                $body
            }
            $crate::db::Conn::Postgres($c) => {
                #[allow(dead_code)]
                const POSTGRES: bool = true;
                #[allow(dead_code)]
                type Db = sqlx::Postgres;
                $body
            }
        }
    };
}
