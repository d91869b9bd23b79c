//! Integration tests for coffer, in one test binary (link time matters once the AWS SDK is
//! in): golden renderings, schema validation, properties of plan/apply, and CLI behaviour
//! through the built binary.

mod aws;
mod browser;
mod chaos;
mod chaos_aws;
mod chaos_workers;
mod ci_examples;
mod cli;
mod copies_aws;
mod copies_files;
mod core_purity;
mod cron_reference;
mod dashboard;
mod disks;
mod drift;
mod dynamodb;
mod extreme_configs;
mod faults;
mod files;
mod golden_controls;
mod golden_diagnostics;
mod golden_jobs;
mod golden_plans;
mod jobs;
mod kms_vault;
mod lifecycle_aws;
mod lifecycle_files;
mod metrics;
mod moto;
mod notifications;
mod postgres;
mod properties;
mod restore_interrupted;
mod restore_tests;
mod restores_aws;
mod s3_vault;
mod schedule_properties;
mod schemas;
mod support;
mod tooling;
