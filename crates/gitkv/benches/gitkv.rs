//! Our side of `scripts/bench-gitkv` (which runs C git as the anchor in
//! the same run and prints the RESULT lines).
//!
//! `cargo bench -p gitkv --bench gitkv -- <repo> <size> <write-secs> <read-secs>`
//! grows the store at `<repo>` to `<size>` keys (1 KB values under
//! `pastes/xx/...`, 1,000 keys per commit), then measures:
//!
//! - the disk: median time of writing and fsyncing a 4 KiB file in the
//!   repository's directory (before and after the writes), so that the
//!   write figures can be read against the fsync latency of this run;
//! - durable single-key writes/s with 16 concurrent writer threads, with
//!   `Grouping::OneCommit` (the default), then with
//!   `Grouping::CommitPerBatch` (one commit per write: what pasteur uses),
//!   each with p50/p99 latency, the mean group size and the CPU time per
//!   write (of the whole process);
//! - reads/s (`get` of random existing keys, one thread, warm),
//!
//! and prints `OURS <name> <value>` lines and `KEYS <file>`: a file of
//! existing keys for the anchor's reads.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gitkv::{Batch, Grouping, Store};

const WRITERS: u64 = 16;

/// xorshift64*: deterministic keys and values without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn key(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "pastes/{:02x}/{:014x}{:016x}",
            a >> 56,
            a & 0xff_ffff_ffff_ffff,
            b
        )
    }
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::with_capacity(1024);
    while v.len() < 1024 {
        v.extend_from_slice(format!("{:016x} ", rng.next()).as_bytes());
    }
    v.truncate(1024);
    v
}

/// Median time (ms) of creating, writing and fsyncing a 4 KiB file in `dir`.
fn fsync_median_ms(dir: &Path, rounds: usize) -> std::io::Result<f64> {
    let path = dir.join("bench-fsync-probe");
    let data = vec![0x5au8; 4096];
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t0 = Instant::now();
        let mut f = std::fs::File::create(&path)?;
        f.write_all(&data)?;
        f.sync_all()?;
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        drop(f);
        std::fs::remove_file(&path)?;
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// CPU time (user + system) of this process so far, in ms, from
/// `/proc/self/stat` (in clock ticks, 100 a second on Linux); 0 elsewhere.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name: state is the first, utime the 12th.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

/// What one write phase measured.
struct Writes {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Mean size of the groups, as seen by the writes (weighted by write).
    mean_group: f64,
    groups: f64,
    /// CPU time of the whole process per write (all threads), in µs.
    cpu_us: f64,
}

/// 16 writer threads setting new keys for `secs` seconds.
fn write_phase(store: &Store, secs: f64, seed: u64) -> Result<Writes, gitkv::Error> {
    let stop = Arc::new(AtomicBool::new(false));
    let cpu0 = cpu_ms();
    let start = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || -> Result<Vec<(Duration, usize)>, gitkv::Error> {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (t + 1) ^ seed << 20);
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let key = rng.key();
                    let v = value(&mut rng);
                    let t0 = Instant::now();
                    let committed = store.set(&key, v)?;
                    mine.push((t0.elapsed(), committed.group_size));
                }
                Ok(mine)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in writers {
        all.extend(w.join().expect("writer thread")?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_us = (cpu_ms() - cpu0) * 1000.0 / all.len().max(1) as f64;
    let mut lat: Vec<Duration> = all.iter().map(|(d, _)| *d).collect();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let n = all.len().max(1) as f64;
    Ok(Writes {
        per_sec: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        mean_group: all.iter().map(|(_, g)| *g as f64).sum::<f64>() / n,
        groups: all.iter().map(|(_, g)| 1.0 / *g as f64).sum::<f64>(),
        cpu_us,
    })
}

fn print_writes(name: &str, w: &Writes) {
    println!("OURS {name} {:.1}", w.per_sec);
    println!("OURS {name}_p50_ms {:.2}", w.p50_ms);
    println!("OURS {name}_p99_ms {:.2}", w.p99_ms);
    println!("OURS {name}_mean_group {:.2}", w.mean_group);
    println!("OURS {name}_groups {:.0}", w.groups);
    println!("OURS {name}_cpu_us {:.0}", w.cpu_us);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [repo, size, write_secs, read_secs] = args.as_slice() else {
        eprintln!("usage: gitkv-bench <repo> <size> <write-secs> <read-secs>");
        std::process::exit(2);
    };
    let size: usize = size.parse()?;
    let write_secs: f64 = write_secs.parse()?;
    let read_secs: f64 = read_secs.parse()?;
    let store = Store::open(repo)?;

    // Grow to `size` keys.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ size as u64);
    let mut count = store.list("pastes/")?.len();
    while count < size {
        let n = (size - count).min(1000);
        let mut batch = Batch::new(format!("fill {n}"));
        for _ in 0..n {
            batch = batch.set(rng.key(), value(&mut rng));
        }
        store.commit(batch)?;
        count += n;
    }
    let stored = store.list("pastes/")?.len();

    let fsync_before = fsync_median_ms(store.path(), 21)?;
    let one = write_phase(&store, write_secs, size as u64)?;
    drop(store);
    let store = Store::builder(repo).grouping(Grouping::CommitPerBatch).open()?;
    let per_batch = write_phase(&store, write_secs, size as u64 + 1)?;
    let fsync_after = fsync_median_ms(store.path(), 21)?;

    // Reads of existing keys, one thread, after one warm-up pass over a sample.
    let keys = store.list("pastes/")?;
    let mut rng = Rng(42);
    let sample: Vec<&String> = (0..20_000)
        .map(|_| &keys[rng.next() as usize % keys.len()])
        .collect();
    for k in &sample {
        store.get(k)?;
    }
    let start = Instant::now();
    let mut reads = 0u64;
    let mut bytes = 0usize;
    while start.elapsed().as_secs_f64() < read_secs {
        for _ in 0..1000 {
            let key = sample[(rng.next() as usize) % sample.len()];
            bytes += store.get(key)?.map_or(0, |v| v.len());
            reads += 1;
        }
    }
    let read_rate = reads as f64 / start.elapsed().as_secs_f64();
    assert!(bytes > 0);

    let keys_file = format!("{repo}.keys-{size}");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&keys_file)?);
    for k in &sample {
        writeln!(f, "{k}")?;
    }
    f.flush()?;

    println!("STORED {stored}");
    println!("FSYNC_MS {fsync_before:.2} {fsync_after:.2}");
    print_writes("writes", &one);
    print_writes("writes_per_batch", &per_batch);
    println!("OURS reads {read_rate:.1}");
    println!("KEYS {keys_file}");
    Ok(())
}
