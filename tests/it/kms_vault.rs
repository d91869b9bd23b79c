//! A file-level vault keyed by KMS (against moto's KMS): apply generates the repository key and
//! keeps it wrapped beside restic's `config` as `coffer.key.kms`; backups and restores need no
//! password variable; anyone with kms:Decrypt reads the key from that file alone (and `restic`
//! opens the repository with it); changing `kms_key_arn` re-wraps the key in place, after
//! which the old key is not needed; and the key appears in no file and no output.

use crate::files::restic_on;
use crate::moto::{aws_env, runtime, sdk};
use crate::support::{coffer, run, workspace, Run};
use std::path::Path;

const REGION: &str = "ap-southeast-5";

fn config(key: &str) -> String {
    format!(
        r#"
vault "main" {{
  storage     = "file://./vaults/main"
  kms_key_arn = "{key}"
}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
  }}
}}

selection "dirs" {{
  plan      = plan.daily
  resources = ["dir:*"]
}}

directory "docs" {{
  path = "./data/docs"
}}
"#
    )
}

async fn kms() -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&sdk(REGION).await)
}

fn new_key() -> String {
    runtime().block_on(async {
        let out = kms().await.create_key().send().await.expect("CreateKey");
        out.key_metadata().unwrap().arn().unwrap().to_string()
    })
}

/// What kms:Decrypt says about the wrapped key file: the key, and the KMS key that wrapped it.
fn unwrap(dir: &Path) -> (String, String) {
    let blob = std::fs::read(dir.join("vaults/main/coffer.key.kms")).expect("coffer.key.kms");
    runtime().block_on(async {
        let out = kms()
            .await
            .decrypt()
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
            .send()
            .await
            .expect("Decrypt");
        (
            String::from_utf8(out.plaintext().unwrap().as_ref().to_vec()).unwrap(),
            out.key_id().unwrap().to_string(),
        )
    })
}

/// A coffer command against moto with no password variable at all.
fn keyless(dir: &Path, args: &[&str], outputs: &mut Vec<String>) -> Run {
    let mut c = coffer(dir);
    aws_env(&mut c)
        .env("AWS_REGION", REGION)
        .env_remove("COFFER_VAULT_PASSWORD")
        .env_remove("COFFER_VAULT_PASSWORD_FILE");
    let r = run(c.args(args));
    outputs.push(r.stdout.clone());
    outputs.push(r.stderr.clone());
    r
}

#[test]
fn a_kms_keyed_vault_needs_no_password_rewraps_its_key_and_never_writes_it() {
    let (first, second) = (new_key(), new_key());
    let dir = workspace(&config(&first));
    let docs = dir.path().join("data/docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "alpha").unwrap();
    let mut outputs = Vec::new();

    let r = keyless(dir.path(), &["plan"], &mut outputs);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stderr.contains("cannot be found"),
        "no missing-key warning: {}",
        r.stderr
    );
    let r = keyless(dir.path(), &["apply", "--auto-approve"], &mut outputs);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let (key, wrapped_by) = unwrap(dir.path());
    assert_eq!(wrapped_by, first);
    assert!(key.len() >= 32, "a long random key");

    let r = keyless(
        dir.path(),
        &["run", "--at", "2026-12-05T03:10:00Z"],
        &mut outputs,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // restic opens the repository with the key from the file alone
    let restic = |args: &[&str]| {
        std::process::Command::new("restic")
            .arg("-r")
            .arg(dir.path().join("vaults/main"))
            .args(args)
            .env("RESTIC_PASSWORD", &key)
            .env("RESTIC_CACHE_DIR", dir.path().join("restic-cache"))
            .output()
            .unwrap()
    };
    let check = restic(&["check", "--read-data"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // a new key: apply re-wraps in place, and the old key is no longer needed
    std::fs::write(dir.path().join("main.hcl"), config(&second)).unwrap();
    let r = keyless(dir.path(), &["apply", "--auto-approve"], &mut outputs);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let (same, wrapped_by) = unwrap(dir.path());
    assert_eq!(
        (same.as_str(), wrapped_by.as_str()),
        (key.as_str(), second.as_str())
    );
    runtime().block_on(async {
        let id = first.rsplit('/').next().unwrap();
        kms().await.disable_key().key_id(id).send().await.unwrap();
    });
    let r = keyless(
        dir.path(),
        &["run", "--at", "2026-12-06T03:10:00Z"],
        &mut outputs,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = keyless(
        dir.path(),
        &["recovery-points", "list", "--json"],
        &mut outputs,
    );
    let points: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(points.len(), 2);
    let target = dir.path().join("restored");
    let r = keyless(
        dir.path(),
        &[
            "restore",
            "start",
            "--recovery-point",
            points[0]["id"].as_str().unwrap(),
            "--target",
            target.to_str().unwrap(),
        ],
        &mut outputs,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(target.join("a.txt")).unwrap(),
        "alpha"
    );
    let r = keyless(dir.path(), &["vault", "check", "main"], &mut outputs);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // the key is in no file of the workspace (state, catalog, repository) and no output
    for f in crate::support::files_under(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "{} holds the key",
            f.display()
        );
    }
    for o in &outputs {
        assert!(!o.contains(&key), "an output holds the key: {o}");
    }
    // the tests' usual vault key does not open this repository
    let wrong = restic_on(dir.path(), "vaults/main", &["snapshots", "--no-lock"]);
    assert!(!wrong.status.success());
}
