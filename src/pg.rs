//! One PostgreSQL connection on a thread of its own, for the PostgreSQL backend: coffer's
//! catalog and state interfaces are blocking and are called from inside async tasks, where the
//! blocking client (which drives a runtime of its own) must not run. Requests are closures
//! sent to the thread; a connection that was lost is opened again before the next one. Also:
//! versioned migrations per component, under an advisory lock, that refuse a schema a newer
//! coffer wrote.

use std::sync::mpsc;

/// Where the backend's tables live: a connection string and the schema inside the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTarget {
    pub conn_str: String,
    pub schema: String,
}

/// A request run on the connection's thread: the client, or why there is none just now.
type Task = Box<dyn FnOnce(&mut Result<postgres::Client, String>) + Send>;

/// A connection to PostgreSQL, served by its own thread; clones share it.
#[derive(Clone)]
pub struct PgConnection {
    tasks: mpsc::Sender<Task>,
    /// What to say in errors: the database and schema, never the password.
    pub(crate) place: String,
}

/// Why a request failed: PostgreSQL's error in words, or a value that did not read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgFail(pub String);

impl From<postgres::Error> for PgFail {
    fn from(e: postgres::Error) -> PgFail {
        PgFail(describe(&e))
    }
}

/// A PostgreSQL error in words: the server's message with its detail and hint when it has
/// them.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; {h}"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// A schema name as an SQL identifier: lower-case letters, digits and `_`, not starting with
/// a digit (checked where the configuration is read; checked again here).
fn identifier(schema: &str) -> Result<&str, String> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(schema)
    } else {
        Err(format!(
            "schema `{schema}` must be lower-case letters, digits and `_`, starting with a letter"
        ))
    }
}

impl PgConnection {
    /// Connects to `target`, creating its schema if needed; every statement runs with the
    /// schema first on the search path.
    pub fn open(target: &PgTarget) -> Result<PgConnection, String> {
        let schema = identifier(&target.schema)?.to_string();
        let mut config: postgres::Config = target
            .conn_str
            .parse()
            .map_err(|e| format!("the PostgreSQL connection string does not parse: {e}"))?;
        let place = format!(
            "PostgreSQL database {} schema {schema}",
            config.get_dbname().unwrap_or("(default)")
        );
        config.application_name("coffer");
        let (tasks, queue) = mpsc::channel::<Task>();
        let (ready, is_ready) = mpsc::channel::<Result<(), String>>();
        let connect = move || -> Result<postgres::Client, String> {
            let mut client = config
                .connect(postgres::NoTls)
                .map_err(|e| format!("cannot connect: {}", describe(&e)))?;
            // CREATE SCHEMA IF NOT EXISTS races with itself (two first commands at once both
            // find no schema and one fails on the catalog's unique index): one at a time
            client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock(hashtext('coffer:schema:{schema}'));
                     CREATE SCHEMA IF NOT EXISTS {schema}; COMMIT; SET search_path TO {schema}"
                ))
                .map_err(|e| format!("cannot use schema {schema}: {}", describe(&e)))?;
            Ok(client)
        };
        std::thread::Builder::new()
            .name("coffer-postgres".into())
            .spawn(move || {
                let mut client = match connect() {
                    Ok(c) => {
                        let _ = ready.send(Ok(()));
                        Ok(c)
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                for task in queue {
                    // a lost connection (a restarted server, a network cut) is opened again
                    // before the next request, and tried again at each request until it opens
                    if client.as_ref().map_or(true, |c| c.is_closed()) {
                        client = connect().map_err(|e| {
                            format!("the connection was lost and cannot be opened again yet ({e})")
                        });
                    }
                    task(&mut client);
                }
            })
            .map_err(|e| format!("cannot start the PostgreSQL connection thread: {e}"))?;
        is_ready
            .recv()
            .map_err(|_| "the PostgreSQL connection thread ended".to_string())?
            .map_err(|e| format!("{place}: {e}"))?;
        Ok(PgConnection { tasks, place })
    }

    /// Runs `f` on the connection and returns what it returns; an error says where.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<R, PgFail> + Send + 'static,
    ) -> Result<R, String> {
        let (reply, answer) = mpsc::channel();
        let task: Task = Box::new(move |client| {
            let out = match client.as_mut() {
                Ok(c) => f(c).map_err(|e| e.0),
                Err(why) => Err(why.clone()),
            };
            let _ = reply.send(out);
        });
        self.tasks
            .send(task)
            .map_err(|_| format!("{}: the connection thread ended", self.place))?;
        answer
            .recv()
            .map_err(|_| format!("{}: the connection thread ended", self.place))?
            .map_err(|e| format!("{}: {e}", self.place))
    }

    /// Brings `component`'s tables up to date: `migrations` in order, each in a transaction,
    /// its number recorded in `schema_migrations`. Concurrent openers wait for each other on
    /// an advisory lock; a version above what this coffer knows is refused.
    pub fn migrate(
        &self,
        component: &'static str,
        migrations: &'static [&'static str],
    ) -> Result<(), String> {
        let known = migrations.len() as i32;
        let newer = self.call(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':coffer:migrate'))",
                &[],
            )?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    component text PRIMARY KEY,
                    version   integer NOT NULL
                )",
            )?;
            let version: i32 = tx
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE component = $1",
                    &[&component],
                )?
                .map_or(0, |r| r.get(0));
            if version > known {
                return Ok(Some(version));
            }
            for (i, sql) in migrations.iter().enumerate().skip(version as usize) {
                tx.batch_execute(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES ($1, $2)
                     ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version",
                    &[&component, &(i as i32 + 1)],
                )?;
            }
            tx.commit()?;
            Ok(None)
        })?;
        if let Some(version) = newer {
            return Err(format!(
                "{}: written by a newer coffer: {component} version {version}, this coffer knows {known}; upgrade coffer to use this database",
                self.place
            ));
        }
        Ok(())
    }
}

/// The channel on which a created job is announced (`NOTIFY`), as a hint to idle workers.
pub const JOBS_CHANNEL: &str = "coffer_jobs";

/// Listens on `target` for [`JOBS_CHANNEL`] on a connection of its own and calls `wake` for
/// each announcement about `target`'s schema, on a thread that reconnects (every 5 s) when
/// the connection is lost. Only a hint: polling is what guarantees progress.
pub fn listen_for_jobs(target: &PgTarget, wake: impl Fn() + Send + 'static) -> Result<(), String> {
    let config: postgres::Config = target
        .conn_str
        .parse()
        .map_err(|e| format!("the PostgreSQL connection string does not parse: {e}"))?;
    let schema = identifier(&target.schema)?.to_string();
    std::thread::Builder::new()
        .name("coffer-listen".into())
        .spawn(move || loop {
            if let Ok(mut client) = config.connect(postgres::NoTls) {
                if client
                    .batch_execute(&format!("LISTEN {JOBS_CHANNEL}"))
                    .is_ok()
                {
                    use postgres::fallible_iterator::FallibleIterator;
                    let mut notes = client.notifications();
                    let mut iter = notes.blocking_iter();
                    while let Ok(Some(n)) = iter.next() {
                        if n.payload() == schema {
                            wake();
                        }
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_secs(5));
        })
        .map_err(|e| format!("cannot start the PostgreSQL listener: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_plain_identifiers() {
        assert!(identifier("coffer").is_ok());
        assert!(identifier("team_2").is_ok());
        for bad in ["", "Coffer", "2x", "a-b", "x; DROP TABLE y"] {
            assert!(identifier(bad).is_err(), "{bad}");
        }
    }

    /// Issue 15: a server that restarts cuts every connection; the statement in flight fails
    /// and says so, and the next one connects again.
    #[test]
    fn a_connection_cut_by_a_server_restart_is_opened_again() {
        let cluster = crate::pg_test::Cluster::private();
        let target = PgTarget {
            conn_str: cluster.database(),
            schema: "coffer".into(),
        };
        let conn = PgConnection::open(&target).unwrap();
        let one = || conn.call(|c| Ok(c.query_one("SELECT 1", &[])?.get::<_, i32>(0)));
        assert_eq!(one(), Ok(1));
        cluster.restart(std::time::Duration::from_millis(200));
        // the client learns of the cut on its first statement
        if let Err(e) = one() {
            assert!(e.contains("PostgreSQL database"), "{e}");
        }
        assert_eq!(one(), Ok(1));
    }

    /// Found by CI: two first commands at once both created the schema, and one failed.
    #[test]
    fn many_first_connections_at_once_share_one_new_schema() {
        let conn_str = crate::pg_test::database();
        let opened: Vec<Result<(), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    s.spawn(|| {
                        let target = PgTarget {
                            conn_str: conn_str.clone(),
                            schema: "racing".into(),
                        };
                        PgConnection::open(&target)
                            .and_then(|c| c.migrate("test", &["CREATE TABLE t (x int)"]))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(opened.iter().all(Result::is_ok), "{opened:?}");
    }

    #[test]
    fn migrations_run_once_and_a_newer_schema_is_refused() {
        let target = PgTarget {
            conn_str: crate::pg_test::database(),
            schema: "coffer".into(),
        };
        let conn = PgConnection::open(&target).unwrap();
        const V2: &[&str] = &["CREATE TABLE a (x int)", "CREATE TABLE b (y int)"];
        conn.migrate("test", &V2[..1]).unwrap();
        conn.migrate("test", V2).unwrap();
        // running again changes nothing (the CREATEs would fail if they ran twice)
        PgConnection::open(&target)
            .unwrap()
            .migrate("test", V2)
            .unwrap();
        let e = conn.migrate("test", &V2[..1]).unwrap_err();
        assert!(
            e.contains("written by a newer coffer: test version 2, this coffer knows 1"),
            "{e}"
        );
        // a failing call says where, and the connection keeps working
        let e = conn
            .call(|c| Ok(c.batch_execute("SELECT * FROM nope")?))
            .unwrap_err();
        assert!(e.contains("schema coffer") && e.contains("nope"), "{e}");
        assert_eq!(
            conn.call(|c| Ok(c.query_one("SELECT 1", &[])?.get::<_, i32>(0))),
            Ok(1)
        );
    }
}
