//! The connection to the receiver: a connected UDP socket, or one kept-alive TCP or TLS stream
//! that is dropped on any error or timeout and made again on the next send.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::config::{SyslogConfig, SyslogConfigError, SyslogTransport};
use super::rfc5424::split_frames;
use crate::audit::delivery::TransportError;

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

/// How a payload leaves.
enum Kind {
    Udp(Mutex<Option<UdpSocket>>),
    Stream { tls: Option<(TlsConnector, ServerName<'static>)>, stream: Mutex<Option<Stream>> },
}

/// An open TCP or TLS stream.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// The connection of one syslog sink.
pub(super) struct Conn {
    address: String,
    timeout: Duration,
    kind: Kind,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("address", &self.address).finish_non_exhaustive()
    }
}

impl Conn {
    /// Nothing is contacted yet.
    pub(super) fn new(config: &SyslogConfig) -> Result<Self, SyslogConfigError> {
        let kind = match &config.transport {
            SyslogTransport::Udp => Kind::Udp(Mutex::new(None)),
            SyslogTransport::Tcp => Kind::Stream { tls: None, stream: Mutex::new(None) },
            SyslogTransport::Tls { root_certificates, server_name } => {
                let name = ServerName::try_from(server_name.clone())
                    .map_err(|_| SyslogConfigError(format!("TLS server name {server_name:?} is not valid")))?;
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let tls = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| SyslogConfigError(format!("could not set up TLS: {e}")))?
                    .with_root_certificates(root_certificates.clone())
                    .with_no_client_auth();
                Kind::Stream { tls: Some((TlsConnector::from(Arc::new(tls)), name)), stream: Mutex::new(None) }
            }
        };
        Ok(Self { address: config.address.clone(), timeout: config.timeout, kind })
    }

    /// Sends a payload of octet-counted frames: as they are over TCP/TLS, one datagram per
    /// message over UDP. Network failures and timeouts are retryable; a payload that is not
    /// octet-counted frames (a corrupt spool file) is not.
    pub(super) async fn send(&self, payload: &Bytes) -> Result<(), TransportError> {
        // A bad frame would desynchronise the receiver's framing for the rest of the stream.
        let messages = split_frames(payload)
            .map_err(|at| TransportError::permanent(format!("syslog payload is not framed at byte {at}")))?;
        let (result, kind) = match &self.kind {
            Kind::Udp(socket) => {
                if messages.iter().any(|m| m.len() > MAX_DATAGRAM) {
                    return Err(TransportError::permanent("syslog message too large for a UDP datagram"));
                }
                let mut slot = socket.lock().await;
                let result = tokio::time::timeout(self.timeout, self.send_datagrams(&mut slot, &messages)).await;
                if !matches!(result, Ok(Ok(()))) {
                    *slot = None;
                }
                (result, "udp")
            }
            Kind::Stream { tls, stream } => {
                let mut slot = stream.lock().await;
                let result = tokio::time::timeout(self.timeout, self.write(tls.as_ref(), &mut slot, payload)).await;
                if !matches!(result, Ok(Ok(()))) {
                    // A partly written frame is cut off with the connection: the next starts clean.
                    *slot = None;
                }
                (result, if tls.is_some() { "tls" } else { "tcp" })
            }
        };
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(TransportError::retryable(format!("syslog {kind} {}: {e}", self.address))),
            Err(_) => Err(TransportError::retryable(format!("syslog {kind} {}: timed out", self.address))),
        }
    }

    async fn send_datagrams(&self, slot: &mut Option<UdpSocket>, messages: &[&[u8]]) -> io::Result<()> {
        let socket = match slot {
            Some(socket) => socket,
            None => slot.insert(self.udp_socket().await?),
        };
        for message in messages {
            socket.send(message).await?;
        }
        Ok(())
    }

    async fn udp_socket(&self) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in tokio::net::lookup_host(self.address.as_str()).await? {
            let local = if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
            let socket = UdpSocket::bind(local).await?;
            match socket.connect(addr).await {
                Ok(()) => return Ok(socket),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the address resolved to nothing")))
    }

    /// Writes the payload on the kept stream, first replacing it when the receiver has closed
    /// it (a write to a closed socket may still "succeed" into the kernel buffer and be lost).
    async fn write(
        &self,
        tls: Option<&(TlsConnector, ServerName<'static>)>,
        slot: &mut Option<Stream>,
        payload: &[u8],
    ) -> io::Result<()> {
        if let Some(stream) = slot.as_mut()
            && stream.peer_closed().await
        {
            *slot = None;
        }
        let stream = match slot {
            Some(stream) => stream,
            None => slot.insert(self.connect(tls).await?),
        };
        match stream {
            Stream::Tcp(s) => s.write_all(payload).await,
            Stream::Tls(s) => {
                s.write_all(payload).await?;
                s.flush().await
            }
        }
    }

    async fn connect(&self, tls: Option<&(TlsConnector, ServerName<'static>)>) -> io::Result<Stream> {
        let mut last = None;
        for addr in tokio::net::lookup_host(self.address.as_str()).await? {
            match TcpStream::connect(addr).await {
                Ok(tcp) => {
                    tcp.set_nodelay(true)?;
                    return Ok(match tls {
                        None => Stream::Tcp(tcp),
                        Some((connector, name)) => Stream::Tls(Box::new(connector.connect(name.clone(), tcp).await?)),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the address resolved to nothing")))
    }
}

impl Stream {
    /// Whether the receiver has closed the stream (end of stream, reset), without waiting.
    /// Syslog receivers send no application data: what the runtime already knows to be
    /// readable is read and dropped (for TLS: session tickets, or a close_notify that ends the
    /// stream), then the socket itself is peeked, because the runtime may not have seen a FIN
    /// or RST that arrived just before this send.
    async fn peer_closed(&mut self) -> bool {
        let read_closed = match self {
            Self::Tcp(s) => poll_closed(s).await,
            Self::Tls(s) => poll_closed(s.as_mut()).await,
        };
        read_closed
            || match self {
                Self::Tcp(s) => socket_closed(s),
                Self::Tls(s) => socket_closed(s.get_ref().0),
            }
    }
}

async fn poll_closed<S: AsyncRead + Unpin>(stream: &mut S) -> bool {
    let mut buf = [0u8; 512];
    std::future::poll_fn(|cx| {
        let mut read = ReadBuf::new(&mut buf);
        Poll::Ready(match Pin::new(&mut *stream).poll_read(cx, &mut read) {
            Poll::Pending => false,
            Poll::Ready(Ok(())) => read.filled().is_empty(),
            Poll::Ready(Err(_)) => true,
        })
    })
    .await
}

/// Peeks the (non-blocking) socket through a duplicate of its descriptor: end of stream or a
/// reset means closed; no data or unread data means open.
#[cfg(unix)]
fn socket_closed(stream: &TcpStream) -> bool {
    use std::os::fd::AsFd as _;
    let Ok(fd) = stream.as_fd().try_clone_to_owned() else { return false };
    match std::net::TcpStream::from(fd).peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted),
    }
}

#[cfg(not(unix))]
fn socket_closed(_: &TcpStream) -> bool {
    false
}
