//! Argument parsing and dispatch. Each subcommand lives in its own file.

mod mnist;
mod schedule;
mod swissroll;

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
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Schedule(args) => schedule::run(&args),
        Command::Swissroll { command } => swissroll::run(command),
        Command::Mnist { command } => mnist::run(command),
    }
}

/// An error and its causes on one line: "cannot write out.csv: Permission denied (os error 13)".
pub fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string().replace('\n', " "))
        .collect::<Vec<_>>()
        .join(": ")
}
