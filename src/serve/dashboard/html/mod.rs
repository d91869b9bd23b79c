//! The dashboard's HTML: a page per view, rendered on the server with maud from the core's
//! view structs; no script, charts as inline SVG ([`svg`]), shared pieces in [`parts`].

pub mod audit;
pub mod jobs;
pub mod matrix;
pub mod overview;
pub mod parts;
pub mod resource;
pub mod schedule;
pub mod svg;
pub mod vaults;

#[cfg(test)]
mod tests;
