//! A real, throwaway PostgreSQL for tests: one cluster per test process, initialised with
//! Debian's `postgresql-15` binaries into a temporary directory (as the `postgres` user when
//! running as root, since initdb refuses root), reachable only through a Unix socket, with
//! fsync off; stopped and removed when the process exits. Each test gets a database of its
//! own. `COFFER_TEST_PG` (a connection string to a server that lets its user create
//! databases) uses an existing server instead. A missing PostgreSQL fails the test with what
//! to install; nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where a test server's binaries are looked for, newest first.
const BIN_DIRS: &[&str] = &["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"];

static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
static SHARED: OnceLock<Cluster> = OnceLock::new();

/// A connection string to a new, empty database of its own.
pub fn database() -> String {
    let admin = match SERVER.get_or_init(start) {
        Ok(conn) => conn.clone(),
        Err(e) => panic!("{e}"),
    };
    create_database(&admin)
}

fn create_database(admin: &str) -> String {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut client = postgres::Client::connect(admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL ({admin}): {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    with_dbname(admin, &name)
}

fn with_dbname(conn: &str, name: &str) -> String {
    let kept: Vec<&str> = conn
        .split_whitespace()
        .filter(|kv| !kv.starts_with("dbname="))
        .collect();
    format!("{} dbname={name}", kept.join(" "))
}

fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("COFFER_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    BIN_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|d| d.join("initdb").exists())
        .ok_or_else(|| {
            "the PostgreSQL tests need a PostgreSQL server: install Debian's postgresql-15 \
             (apt-get install -y postgresql-15), set COFFER_PG_BIN to a directory with initdb and \
             pg_ctl, or set COFFER_TEST_PG to a connection string of a server that lets its \
             user create databases"
                .to_string()
        })
}

/// The uid and gid of the `postgres` user, when running as root.
fn postgres_user() -> Result<Option<(u32, u32)>, String> {
    // SAFETY: geteuid has no preconditions
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres").unwrap_or_default();
    // SAFETY: `name` is NUL-terminated; the returned record is read at once, before any other
    // call that could overwrite it
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(
            "running as root, the test PostgreSQL must run as the `postgres` user, and there is none (apt-get install -y postgresql-15 makes it)"
                .into(),
        );
    }
    // SAFETY: `pw` is non-null and points at getpwnam's static record
    Ok(Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) }))
}

fn command(bin: &Path, tool: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn run(mut c: Command, what: &str) -> Result<(), String> {
    let out = c.output().map_err(|e| format!("cannot run {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn start() -> Result<String, String> {
    if let Ok(conn) = std::env::var("COFFER_TEST_PG") {
        return Ok(conn);
    }
    let cluster = Cluster::start(false)?;
    let conn = cluster.admin();
    let _ = SHARED.set(cluster);
    // SAFETY: `stop_shared` is an `extern "C"` function that lives as long as the process
    unsafe { libc::atexit(stop_shared) };
    Ok(conn)
}

/// Stops the shared test server and removes its directory as the process exits.
extern "C" fn stop_shared() {
    if let Some(c) = SHARED.get() {
        c.stop();
    }
}

/// A throwaway PostgreSQL cluster in a directory of its own.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    /// Whether a commit is in the WAL before it returns (`synchronous_commit`). The shared
    /// cluster does without, for speed; a cluster a test crashes must not lose commits, as a
    /// production server does not.
    durable: bool,
}

impl Cluster {
    /// A cluster of its own for a test that stops or restarts its server, which the shared
    /// one's other tests must not see; stopped and removed when dropped.
    pub fn private() -> PrivateCluster {
        match Cluster::start(true) {
            Ok(c) => PrivateCluster(c),
            Err(e) => panic!("{e}"),
        }
    }

    fn start(durable: bool) -> Result<Cluster, String> {
        let bin = bin_dir()?;
        let owner = postgres_user()?;
        // short: a Unix socket's path has a limit of about 107 bytes
        let dir = PathBuf::from(format!(
            "/tmp/coffer-pg-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot give {} to postgres: {e}", dir.display()))?;
        }
        let cluster = Cluster {
            bin,
            dir,
            as_postgres: owner.is_some(),
            durable,
        };
        let mut initdb = cluster.tool("initdb");
        initdb.arg("-D").arg(cluster.data()).args([
            "-U",
            "coffer",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(initdb, "initdb")?;
        cluster.pg_ctl_start()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn tool(&self, name: &str) -> Command {
        command(&self.bin, name, self.as_postgres)
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let mut pg_ctl = self.tool("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "start", "-o"])
            .arg(format!(
                "-c listen_addresses='' -k {} -c fsync=off -c synchronous_commit={} -c full_page_writes=off -c max_connections=300",
                self.dir.display(),
                if self.durable { "on" } else { "off" }
            ));
        run(pg_ctl, "pg_ctl start")
    }

    /// A connection string to the cluster's `postgres` database.
    fn admin(&self) -> String {
        format!("host={} user=coffer dbname=postgres", self.dir.display())
    }

    fn stop(&self) {
        let mut pg_ctl = self.tool("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"]);
        let _ = pg_ctl.output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A cluster one test owns (see [`Cluster::private`]).
pub struct PrivateCluster(Cluster);

impl PrivateCluster {
    /// A connection string to a new, empty database of its own.
    pub fn database(&self) -> String {
        create_database(&self.0.admin())
    }

    /// Stops the server as a crash would (`immediate`: no checkpoint, every connection cut),
    /// waits `down`, and starts it again on the same data. Every commit survives it (the
    /// cluster commits synchronously; fsync only guards against the machine's crash).
    pub fn restart(&self, down: std::time::Duration) {
        let mut pg_ctl = self.0.tool("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.0.data())
            .args(["-m", "immediate", "-w", "stop"]);
        run(pg_ctl, "pg_ctl stop").unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(down);
        self.0.pg_ctl_start().unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.0.stop();
    }
}
