//! placeholder until the formatter lands
