//! `diffusion swissroll ...`: the Swiss roll data set (training and sampling come with the
//! 2-D model).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use diffusion_playground::data::swiss_roll;

#[derive(Subcommand, Debug)]
pub enum SwissrollCommand {
    /// Write N points of the Swiss roll as CSV with a header line `x,y`.
    Data {
        /// The number of points.
        #[arg(long)]
        n: usize,
        /// The seed; the same seed gives the same points.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(command: SwissrollCommand) -> anyhow::Result<()> {
    match command {
        SwissrollCommand::Data { n, seed, out } => {
            if n == 0 {
                bail!("--n must be at least 1");
            }
            write_points(&out, &swiss_roll(n, seed))
        }
    }
}

/// Writes `x,y` rows under a header; shared by the data and sample commands.
pub fn write_points(path: &Path, points: &[[f32; 2]]) -> anyhow::Result<()> {
    let write = || -> std::io::Result<()> {
        let mut w = BufWriter::new(File::create(path)?);
        writeln!(w, "x,y")?;
        for [x, y] in points {
            writeln!(w, "{x},{y}")?;
        }
        w.flush()
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}
