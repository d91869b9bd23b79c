//! The schedule engine (pure): EventBridge cron expressions ([`cron`]), their occurrences in
//! UTC or an IANA time zone ([`occurrence`]), plain-English descriptions ([`describe`]), the
//! minimum-frequency check ([`frequency`]) and start/completion windows.

pub mod cron;
pub mod describe;
pub mod frequency;
pub mod occurrence;

pub use cron::{Cron, CronError, Field};
pub use occurrence::Schedule;
