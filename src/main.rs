//! `diffusion`: the native command line of Diffusion Playground, on the same core as the page.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version are not errors.
            print!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap explains over several lines; we promise one.
            let rendered = e.render().to_string();
            let first = rendered.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid arguments");
            eprintln!("{first}");
            return ExitCode::from(2);
        }
    };
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
