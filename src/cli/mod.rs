//! Argument parsing and dispatch. Each subcommand lives in its own file.

mod figure;
mod mnist;
mod schedule;
mod sweep;
mod swissroll;

use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Diffusion Playground's command line: prints schedules, writes data, trains and samples.
#[derive(Parser, Debug)]
#[command(name = "diffusion", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a beta schedule and its derived constants as one JSON object.
    Schedule(schedule::ScheduleArgs),
    /// The 2-D Swiss roll.
    Swissroll {
        #[command(subcommand)]
        command: swissroll::SwissrollCommand,
    },
    /// Handwritten digits from the shipped U-Net.
    Mnist {
        #[command(subcommand)]
        command: mnist::MnistCommand,
    },
    /// Draw a chart panel as the page does, from the page's query string: SVG, PNG, or an
    /// animated GIF.
    Figure(figure::FigureArgs),
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Schedule(args) => schedule::run(&args),
        Command::Swissroll { command } => swissroll::run(command),
        Command::Mnist { command } => mnist::run(command),
        Command::Figure(args) => figure::run(args),
    }
}

/// Writes a file through a temporary file beside it and a rename, so that an interrupted run
/// never leaves a half-written output under the real name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".diffusion-");
    // An ordinary file for its reader, not the temporary file's private 0600.
    #[cfg(unix)]
    builder.permissions(std::fs::Permissions::from_mode(0o644));
    let mut tmp = builder.tempfile_in(dir).map_err(|e| {
        // The temporary file's own name means nothing to the reader: keep the OS's reason.
        let reason = e.raw_os_error().map_or(e.kind().to_string(), |code| {
            std::io::Error::from_raw_os_error(code).to_string()
        });
        anyhow::anyhow!(
            "cannot write {}: the directory {} cannot be written ({reason})",
            path.display(),
            dir.display()
        )
    })?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// An error and its causes on one line: "cannot write out.csv: Permission denied (os error 13)".
pub fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string().replace('\n', " "))
        .collect::<Vec<_>>()
        .join(": ")
}
