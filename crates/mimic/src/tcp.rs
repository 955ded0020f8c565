//! The `tcp` transport: one attempt per address of [`ADDRS`](crate::keys::ADDRS), raced.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpStream;

use crate::facts::PeerAddr;
use crate::keys::ADDRS;
use crate::{BoxError, Flow, Key, Transport};

/// Connects over TCP, with `TCP_NODELAY` set (request/response protocols
/// want it; reach the stream through [`Flow::downcast_mut`] to change it).
/// Records [`PeerAddr`]. The local address costs a system call, so it is not
/// recorded: ask the stream (`flow.downcast_ref::<TcpStream>()`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tcp;

impl Transport for Tcp {
    type Endpoint = Vec<SocketAddr>;
    type Target = SocketAddr;

    fn name(&self) -> &str {
        "tcp"
    }
    fn key(&self) -> Key<Vec<SocketAddr>> {
        ADDRS
    }
    fn targets(&self, endpoint: &Vec<SocketAddr>) -> Vec<SocketAddr> {
        endpoint.clone()
    }
    fn connect(&self, target: &SocketAddr) -> impl Future<Output = Result<Flow, BoxError>> + Send {
        let target = *target;
        async move { Ok(connect(target).await?) }
    }
}

/// Connects one TCP stream, as the `tcp` transport does.
pub async fn connect(addr: SocketAddr) -> std::io::Result<Flow> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut flow = Flow::new(stream, "tcp");
    flow.facts_mut().insert(PeerAddr(addr));
    Ok(flow)
}
