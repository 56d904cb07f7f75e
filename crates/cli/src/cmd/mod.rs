//! One module per subcommand.

pub mod api;
pub mod run;
