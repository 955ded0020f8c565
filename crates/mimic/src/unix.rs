//! The `unix` transport: a Unix domain socket at [`UNIX_PATH`](crate::keys::UNIX_PATH).

use std::fmt;
use std::future::Future;
use std::path::PathBuf;

use tokio::net::UnixStream;

use crate::facts::UnixPath;
use crate::keys::UNIX_PATH;
use crate::{BoxError, Flow, Key, Transport};

/// Connects to a Unix domain socket. Records [`UnixPath`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Unix;

/// A socket path, shown as errors show it.
#[derive(Clone, Debug)]
pub struct SocketPath(pub PathBuf);

impl fmt::Display for SocketPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())
    }
}

impl Transport for Unix {
    type Endpoint = PathBuf;
    type Target = SocketPath;

    fn name(&self) -> &str {
        "unix"
    }
    fn key(&self) -> Key<PathBuf> {
        UNIX_PATH
    }
    fn targets(&self, endpoint: &PathBuf) -> Vec<SocketPath> {
        vec![SocketPath(endpoint.clone())]
    }
    fn connect(&self, target: &SocketPath) -> impl Future<Output = Result<Flow, BoxError>> + Send {
        let path = target.0.clone();
        async move {
            let stream = UnixStream::connect(&path).await?;
            let mut flow = Flow::new(stream, "unix");
            flow.facts_mut().insert(UnixPath(path));
            Ok(flow)
        }
    }
}
