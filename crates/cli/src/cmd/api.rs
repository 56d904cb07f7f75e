//! `kam api`: list the analyst scripting API.

use kam_script::ScriptHost;

use crate::error::CliError;

/// Options of `kam api`.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// Print Rhai's function metadata as JSON instead of the listing.
    #[arg(long)]
    pub json: bool,
}

/// Prints every API entry grouped by section: signature, then its doc indented.
pub fn run(args: &ApiArgs) -> Result<(), CliError> {
    let host = ScriptHost::default();
    if args.json {
        let json = host
            .engine()
            .gen_fn_metadata_to_json(false)
            .map_err(|e| CliError::Input(format!("API metadata: {e}")))?;
        super::outln!("{json}");
        return Ok(());
    }
    let mut section = "";
    for entry in host.api() {
        if entry.section != section {
            section = entry.section;
            super::outln!("\n## {section}\n");
        }
        super::outln!("{}", entry.signature);
        for line in entry.doc.lines() {
            super::outln!("    {line}");
        }
    }
    Ok(())
}
