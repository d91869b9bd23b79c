//! The commented starter configuration that `coffer init` writes.

/// `main.hcl` for a new configuration: valid as written, with no cloud needed.
pub const STARTER: &str = r#"# coffer configuration: backup vaults, plans and what they protect.
# Check it with `coffer validate`, preview with `coffer plan`, apply with `coffer apply`.

coffer {
  # Where coffer records state and the catalog of recovery points.
  backend "local" {
    path = ".coffer"
  }
}

# A vault stores recovery points. file:// paths are relative to this directory.
vault "primary" {
  storage = "file://./vaults/primary"
  tags = {
    ManagedBy = "coffer"
  }
}

# A plan holds rules: when to back up, where to, and how long to keep it.
plan "daily" {
  rule "nightly" {
    # EventBridge cron: minute hour day-of-month month day-of-week year (UTC).
    schedule          = "cron(0 3 * * ? *)"
    start_window      = "1h"
    completion_window = "4h"
    target_vault      = vault.primary

    lifecycle {
      delete_after = "35d"
    }
  }
}

# A selection says which resources a plan protects: here, everything tagged Backup = "daily".
selection "tagged" {
  plan    = plan.daily
  any_tag = { Backup = ["daily"] }
}

# Local directories are resources too.
directory "documents" {
  path = "./data"
  tags = { Backup = "daily" }
}
"#;
