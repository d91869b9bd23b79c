//! A real moto server for the AWS tests: started once per test binary on a free loopback
//! port, killed when the test process exits (PR_SET_PDEATHSIG from a thread that never
//! ends), and seeded once with a world of EBS volumes, EC2 instances, RDS instances, Aurora
//! clusters and EFS file systems in two regions. A missing moto is a failure that says how
//! to install it; these tests never skip.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::config::Credentials;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

pub struct Moto {
    pub endpoint: String,
}

static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
static WORLD: OnceLock<()> = OnceLock::new();

const INSTALL: &str = "the AWS tests need a moto server: install it with `pip install 'moto[server]'` (for the `python3` on PATH)";

fn start() -> Result<Moto, String> {
    let server = Server::moto(&quotas_file())?;
    let endpoint = server.endpoint.clone();
    // the shared server lives as long as the test process
    std::mem::forget(server);
    Ok(Moto { endpoint })
}

/// A child server on a loopback port, killed when dropped (and when the test process exits:
/// PR_SET_PDEATHSIG, from a thread that never ends).
pub struct Server {
    pub endpoint: String,
    pid: i32,
    /// Set once the child has been reaped, when its pid may belong to another process.
    reaped: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Server {
    /// A moto server of its own (tests/moto_server.py), with RDS quotas from `quotas`.
    pub fn moto(quotas: &std::path::Path) -> Result<Server, String> {
        let importable = Command::new("python3")
            .args(["-c", "import moto.server, flask"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run python3 ({e}); {INSTALL}"))?;
        if !importable.success() {
            return Err(format!("python3 cannot import moto's server; {INSTALL}"));
        }
        let port = free_port()?;
        // moto's own server, with the RDS quota API it lacks (tests/moto_server.py)
        let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/moto_server.py");
        let mut cmd = Command::new("python3");
        cmd.args([launcher, "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("COFFER_MOTO_QUOTAS", quotas);
        Server::spawn("moto", cmd, port).map_err(|e| format!("{e}; {INSTALL}"))
    }

    /// The fault-injecting proxy (tests/fault_proxy.py) in front of `upstream`, with its
    /// arguments (`--seed`, `--throttle` …).
    pub fn fault_proxy(upstream: &str, args: &[String]) -> Result<Server, String> {
        let port = free_port()?;
        let proxy = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fault_proxy.py");
        let mut cmd = Command::new("python3");
        cmd.args([proxy, "--port", &port.to_string(), "--upstream", upstream])
            .args(args);
        Server::spawn("fault_proxy", cmd, port)
    }

    fn spawn(name: &str, mut cmd: Command, port: u16) -> Result<Server, String> {
        let log = std::env::temp_dir().join(format!("coffer-{name}-{port}.log"));
        let (tx, rx) = mpsc::channel();
        let log_path = log.clone();
        let reaped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reaped_by_thread = reaped.clone();
        std::thread::spawn(move || {
            let stderr = std::fs::File::create(&log_path)
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null());
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr);
            // SAFETY: prctl is async-signal-safe; this runs in the child between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            match cmd.spawn() {
                Ok(mut child) => {
                    let _ = tx.send(Ok(child.id() as i32));
                    // reaped here once killed, so no zombie is left
                    let _ = child.wait();
                    reaped_by_thread.store(true, std::sync::atomic::Ordering::SeqCst);
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        });
        let pid = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(pid)) => pid,
            Ok(Err(e)) => return Err(format!("cannot start {name} ({e})")),
            Err(_) => return Err(format!("{name} did not start")),
        };
        let server = Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            pid,
            reaped,
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut text = String::new();
        let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut text));
        Err(format!(
            "{name} did not listen on port {port} within 60 s\nits output:\n{text}"
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.reaped.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        // SAFETY: kill(2) on the child's pid, not yet reaped, so still the child's.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
        }
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// The JSON file the moto launcher reads RDS quota maxima from (per region).
pub fn quotas_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("coffer-moto-quotas-{}.json", std::process::id()))
}

/// The shared moto server.
pub fn moto() -> &'static Moto {
    match MOTO.get_or_init(start) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// Environment for a coffer process talking to moto (retries off, no real credentials).
pub fn aws_env(cmd: &mut Command) -> &mut Command {
    aws_env_at(cmd, &moto().endpoint)
}

/// Environment for a coffer process talking to the AWS endpoint `endpoint`.
pub fn aws_env_at<'a>(cmd: &'a mut Command, endpoint: &str) -> &'a mut Command {
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_SESSION_TOKEN")
}

/// SDK configuration for the test process itself (seeding), with retries off.
pub async fn sdk(region: &str) -> aws_config::SdkConfig {
    sdk_at(&moto().endpoint, region).await
}

/// SDK configuration against the endpoint `endpoint`, with retries off.
pub async fn sdk_at(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "coffer-tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn ec2_tags(
    t: aws_sdk_ec2::types::ResourceType,
    tags: &[(&str, &str)],
) -> aws_sdk_ec2::types::TagSpecification {
    let mut spec = aws_sdk_ec2::types::TagSpecification::builder().resource_type(t);
    for (k, v) in tags {
        spec = spec.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build());
    }
    spec.build()
}

pub async fn volume(ec2: &aws_sdk_ec2::Client, region: &str, tags: &[(&str, &str)]) -> String {
    let out = ec2
        .create_volume()
        .availability_zone(format!("{region}a"))
        .size(1)
        .tag_specifications(ec2_tags(aws_sdk_ec2::types::ResourceType::Volume, tags))
        .send()
        .await
        .expect("CreateVolume");
    out.volume_id().unwrap_or_default().to_string()
}

pub async fn instances(ec2: &aws_sdk_ec2::Client, count: i32, tags: &[(&str, &str)]) {
    let image = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .expect("DescribeImages");
    let image_id = image
        .images()
        .first()
        .and_then(|i| i.image_id())
        .expect("an AMI")
        .to_string();
    ec2.run_instances()
        .image_id(image_id)
        .min_count(count)
        .max_count(count)
        .tag_specifications(ec2_tags(aws_sdk_ec2::types::ResourceType::Instance, tags))
        .send()
        .await
        .expect("RunInstances");
}

pub async fn db(rds: &aws_sdk_rds::Client, id: &str, tags: &[(&str, &str)]) {
    let mut req = rds
        .create_db_instance()
        .db_instance_identifier(id)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .master_username("admin")
        .master_user_password("password-password")
        .allocated_storage(20);
    for (k, v) in tags {
        req = req.tags(aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build());
    }
    req.send().await.expect("CreateDBInstance");
}

pub async fn cluster(rds: &aws_sdk_rds::Client, id: &str, tags: &[(&str, &str)]) {
    let mut req = rds
        .create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .master_username("admin")
        .master_user_password("password-password");
    for (k, v) in tags {
        req = req.tags(aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build());
    }
    req.send().await.expect("CreateDBCluster");
}

/// Creates a DynamoDB table keyed by `id`, billed per request.
pub async fn table(ddb: &aws_sdk_dynamodb::Client, name: &str, tags: &[(&str, &str)]) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, Tag,
    };
    let mut req = ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        );
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    req.send().await.expect("CreateTable");
}

/// Creates an EFS file system; returns its id.
pub async fn file_system(efs: &aws_sdk_efs::Client, token: &str, tags: &[(&str, &str)]) -> String {
    let mut req = efs.create_file_system().creation_token(token);
    for (k, v) in tags {
        req = req.tags(
            aws_sdk_efs::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .expect("tag"),
        );
    }
    req.send().await.expect("CreateFileSystem").file_system_id
}

/// Bulk counts per region: (volumes, instances, DB instances, clusters, file systems).
pub const BULK_EAST: (usize, i32, usize, usize, usize) = (150, 30, 20, 10, 20);
pub const BULK_WEST: (usize, i32, usize, usize, usize) = (100, 20, 10, 5, 10);

async fn seed_region(region: &str, bulk: (usize, i32, usize, usize, usize), prefix: &str) {
    let conf = sdk(region).await;
    let (ec2, rds, efs) = (
        aws_sdk_ec2::Client::new(&conf),
        aws_sdk_rds::Client::new(&conf),
        aws_sdk_efs::Client::new(&conf),
    );
    for i in 0..bulk.0 {
        let name = format!("{prefix}bulk-vol-{i}");
        volume(&ec2, region, &[("Name", &name), ("Bulk", "yes")]).await;
    }
    let mut left = bulk.1;
    while left > 0 {
        let n = left.min(10);
        instances(&ec2, n, &[("Bulk", "yes")]).await;
        left -= n;
    }
    for i in 0..bulk.2 {
        db(&rds, &format!("{prefix}bulk-db-{i}"), &[("Bulk", "yes")]).await;
    }
    for i in 0..bulk.3 {
        cluster(
            &rds,
            &format!("{prefix}bulk-cluster-{i}"),
            &[("Bulk", "yes")],
        )
        .await;
    }
    for i in 0..bulk.4 {
        file_system(
            &efs,
            &format!("{prefix}bulk-fs-{i}"),
            &[("Name", &format!("{prefix}bulk-fs-{i}")), ("Bulk", "yes")],
        )
        .await;
    }
}

/// Seeds the shared world once: named resources for the selection cases, and bulk ones.
pub fn world() {
    WORLD.get_or_init(|| {
        let rt = runtime();
        rt.block_on(async {
            let east = sdk("us-east-1").await;
            let (ec2, rds, efs) = (
                aws_sdk_ec2::Client::new(&east),
                aws_sdk_rds::Client::new(&east),
                aws_sdk_efs::Client::new(&east),
            );
            volume(
                &ec2,
                "us-east-1",
                &[("Name", "web-1"), ("App", "web"), ("Env", "prod")],
            )
            .await;
            volume(
                &ec2,
                "us-east-1",
                &[("Name", "web-2"), ("App", "web"), ("Env", "dev")],
            )
            .await;
            volume(
                &ec2,
                "us-east-1",
                &[("Name", "db-data"), ("App", "db"), ("Env", "prod")],
            )
            .await;
            volume(
                &ec2,
                "us-east-1",
                &[("Name", "tmp-scratch"), ("App", "web"), ("Env", "prod")],
            )
            .await;
            volume(
                &ec2,
                "us-east-1",
                &[("Name", "Case"), ("App", "Web"), ("Env", "prod")],
            )
            .await;
            instances(
                &ec2,
                1,
                &[("Name", "app-server"), ("App", "web"), ("Env", "prod")],
            )
            .await;
            db(&rds, "orders", &[("App", "db"), ("Env", "prod")]).await;
            cluster(&rds, "analytics", &[("App", "analytics"), ("Env", "prod")]).await;
            file_system(
                &efs,
                "shared",
                &[("Name", "shared"), ("App", "web"), ("Env", "prod")],
            )
            .await;
            let west = sdk("eu-west-1").await;
            volume(
                &aws_sdk_ec2::Client::new(&west),
                "eu-west-1",
                &[("Name", "eu-web"), ("App", "web"), ("Env", "prod")],
            )
            .await;
            let ((), ()) = tokio::join!(
                seed_region("us-east-1", BULK_EAST, ""),
                seed_region("eu-west-1", BULK_WEST, "eu-")
            );
        });
    });
}

/// The value of tag `key` among EC2 tags.
pub fn ec2_tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}
