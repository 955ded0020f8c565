//! Our side of `scripts/bench-gitkv` (which runs C git as the anchor in
//! the same run and prints the RESULT lines).
//!
//! `cargo bench -p gitkv --bench gitkv -- <repo> <size> <write-secs> <read-secs>`
//! grows the store at `<repo>` to `<size>` keys (1 KB values under
//! `pastes/xx/...`, 1,000 keys per commit), then measures:
//!
//! - durable single-key writes/s with 16 concurrent writer threads,
//! - reads/s (`get` of random existing keys, one thread, warm),
//!
//! and prints `OURS <name> <value>` lines and `KEYS <file>`: a file of
//! existing keys for the anchor's reads.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gitkv::{Batch, Store};

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

    // Durable writes, 16 writers.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let start = Instant::now();
    let writers: Vec<_> = (0..16u64)
        .map(|t| {
            let (store, stop, done, latencies) =
                (store.clone(), stop.clone(), done.clone(), latencies.clone());
            std::thread::spawn(move || -> Result<(), gitkv::Error> {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (t + 1) ^ (size as u64) << 20);
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let key = rng.key();
                    let v = value(&mut rng);
                    let t0 = Instant::now();
                    store.set(&key, v)?;
                    mine.push(t0.elapsed());
                    done.fetch_add(1, Ordering::Relaxed);
                }
                latencies.lock().expect("not poisoned").extend(mine);
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(write_secs));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer thread")?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let writes = done.load(Ordering::Relaxed) as f64 / elapsed;
    let mut lat = latencies.lock().expect("not poisoned").clone();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)));
    let ms = |d: Option<&Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);

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
    println!("OURS writes {writes:.1}");
    println!("OURS write_p50_ms {:.2}", ms(pct(0.50)));
    println!("OURS write_p99_ms {:.2}", ms(pct(0.99)));
    println!("OURS reads {read_rate:.1}");
    println!("KEYS {keys_file}");
    Ok(())
}
