//! A received pack, streamed to disk while it arrives, then indexed
//! ([`index`]: thin packs completed from the repository). Nothing is kept
//! unless the whole pack checks out.

use std::io::Read;
use std::path::PathBuf;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::index;

/// What was written: the pack, its index, and the `.keep` file that
/// protects it until the refs point into it.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) keep_path: Option<PathBuf>,
}

/// The receiving end: bytes go in, an indexer thread writes them out.
#[derive(Debug)]
pub(crate) struct PackSink {
    tx: Option<mpsc::Sender<Bytes>>,
    task: tokio::task::JoinHandle<Result<Written, gix::Error>>,
    pub(crate) bytes: u64,
    /// The pack's first 12 bytes: `PACK`, version, object count.
    header: Vec<u8>,
}

impl PackSink {
    /// Starts indexing into `git_dir/objects/pack`; `thin` lets deltas
    /// refer to objects of the repository.
    pub(crate) fn start(git_dir: PathBuf, thin: bool) -> Self {
        // At most this many side-band packets (64 KiB each) wait for the
        // indexer: more would only hold the pack in memory.
        let (tx, rx) = mpsc::channel::<Bytes>(8);
        let task = tokio::task::spawn_blocking(move || receive(git_dir, thin, rx));
        Self {
            tx: Some(tx),
            task,
            bytes: 0,
            header: Vec::with_capacity(12),
        }
    }

    /// Hands over the next pack bytes. `false` when the indexer has
    /// stopped (a corrupt pack): [`PackSink::finish`] says why.
    pub(crate) async fn write(&mut self, data: &[u8]) -> bool {
        self.bytes += data.len() as u64;
        let missing = 12 - self.header.len();
        self.header.extend_from_slice(&data[..missing.min(data.len())]);
        match &self.tx {
            Some(tx) => tx.send(Bytes::copy_from_slice(data)).await.is_ok(),
            None => false,
        }
    }

    /// How many objects the pack's header announces (what the server
    /// sent; the index may hold more: the bases a thin pack lacked).
    pub(crate) fn announced_objects(&self) -> u32 {
        match self.header.get(8..12) {
            Some(n) => u32::from_be_bytes([n[0], n[1], n[2], n[3]]),
            None => 0,
        }
    }

    /// Ends the pack and waits for the index.
    pub(crate) async fn finish(mut self) -> Result<Result<Written, gix::Error>, tokio::task::JoinError> {
        self.tx.take();
        (&mut self.task).await
    }
}

fn receive(git_dir: PathBuf, thin: bool, rx: mpsc::Receiver<Bytes>) -> Result<Written, gix::Error> {
    let pack_dir = git_dir.join("objects").join("pack");
    std::fs::create_dir_all(&pack_dir).map_err(gix::Error::from_error)?;
    let mut input = std::io::BufReader::with_capacity(
        64 * 1024,
        ChannelReader {
            rx,
            current: Bytes::new(),
        },
    );
    let written = if thin {
        let repo = gix::open(&git_dir)?;
        index::index_pack(&mut input, &pack_dir, Some(repo.objects.clone()))?
    } else {
        index::index_pack(&mut input, &pack_dir, None::<gix::odb::Handle>)?
    };
    // The pack ends at its trailer: anything after it is not ours to ignore.
    let mut rest = [0u8; 1];
    if input.read(&mut rest).map_err(gix::Error::from_error)? != 0 {
        if let Some(files) = &written {
            files.remove();
        }
        return Err(gix::Error::from_error(index::IndexError::TrailingData));
    }
    Ok(Written {
        keep_path: written.and_then(|files| files.keep),
    })
}

/// The pack bytes as a `Read`: blocks on the channel, ends when the
/// sender is dropped.
struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(bytes) => self.current = bytes,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
