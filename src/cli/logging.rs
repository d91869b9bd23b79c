//! The log every command writes to stderr: `tracing` events, coffer's own and those of
//! rustic_core (through its `log` records) and the AWS SDK, filtered by `--log-level` or
//! `RUST_LOG`, written as text or as one JSON object per line (`--log-format json`).
//!
//! A JSON line holds `time`, `level` (lower-case), `target`, `message` and every field of the
//! event at the top level; a field whose name ends in `_json` carries JSON text and is embedded
//! as JSON under the name without the suffix (`job_json` becomes `job`).

use super::args::{LogFormat, LogLevel};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The filter for a level: coffer's own events at that level; the libraries' (rustic_core,
/// the AWS SDK, hyper …) at warn and above, unless debug or trace is asked for, so that their
/// chatter stays out of an info log.
fn directive(level: LogLevel) -> String {
    match level {
        LogLevel::Debug | LogLevel::Trace => level.directive().to_string(),
        LogLevel::Info => "warn,coffer=info,coffer_core=info".to_string(),
        LogLevel::Warn | LogLevel::Error => level.directive().to_string(),
    }
}

/// Installs the process's subscriber. `--log-level` wins over `RUST_LOG`; without either,
/// `default` applies (warn for most commands, info for the daemon).
pub fn init(level: Option<LogLevel>, format: LogFormat, default: LogLevel) -> Result<(), String> {
    let filter = match level {
        Some(l) => EnvFilter::new(directive(l)),
        None => {
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directive(default)))
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.event_format(JsonLines).try_init(),
    };
    installed.map_err(|e| format!("cannot start logging: {e}"))
}

/// One JSON object per event.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = serde_json::Map::new();
        line.insert(
            "time".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        );
        line.insert(
            "level".into(),
            meta.level().as_str().to_ascii_lowercase().into(),
        );
        line.insert("target".into(), meta.target().into());
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", serde_json::Value::Object(line))
    }
}

/// Collects an event's fields into a JSON object.
struct Fields<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        // `log` records (rustic_core's) arrive with their metadata as `log.*` fields: their
        // target is the line's target, the rest the line already has
        if field.name() == "log.target" {
            self.0.insert("target".into(), value);
            return;
        }
        if field.name().starts_with("log.") {
            return;
        }
        self.0.insert(field.name().to_string(), value);
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(name) = field.name().strip_suffix("_json") {
            if let Ok(v) = serde_json::from_str(value) {
                self.0.insert(name.to_string(), v);
                return;
            }
        }
        self.put(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name().ends_with("_json") {
            return self.record_str(field, &text);
        }
        self.put(field, text.into());
    }
}
