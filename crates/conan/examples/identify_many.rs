//! Identifies the same in-memory buffers many times and prints files/s:
//! the conan side of `scripts/bench-conan`.
//!
//! `identify_many LISTFILE ROUNDS` where LISTFILE holds one path a line.
//! Uses the system database (where libmagic finds it), single thread.

// A benchmark prints its figures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(list), Some(rounds)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: identify_many LISTFILE ROUNDS");
        return ExitCode::from(2);
    };
    let rounds: usize = rounds.parse().unwrap_or(1);
    let text = match std::fs::read_to_string(list) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {list}: {e}");
            return ExitCode::from(2);
        }
    };
    let bufs: Vec<Vec<u8>> = text
        .lines()
        .filter_map(|p| std::fs::read(p).ok())
        .map(|mut b| {
            b.truncate(7 * 1024 * 1024);
            b
        })
        .collect();
    let db = match conan::Database::load_default() {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot load the system database: {e}");
            return ExitCode::from(2);
        }
    };
    let magic = conan::Magic::new(db);
    let mut sink = 0usize;
    for b in &bufs {
        sink += magic.identify(b).description.len();
    }
    let start = Instant::now();
    for _ in 0..rounds {
        for b in &bufs {
            sink += magic.identify(b).description.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = (bufs.len() * rounds) as f64;
    println!("{:.0} {} {sink}", n / secs, bufs.len());
    ExitCode::SUCCESS
}
