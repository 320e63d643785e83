//! `SyslogConfig`: where and how audit records are sent as syslog messages.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;

/// The default `max_message_bytes` over UDP: what RFC 5424 says every receiver SHOULD accept.
pub const UDP_MAX_MESSAGE_BYTES: usize = 2048;
/// The default `max_message_bytes` over TCP and TLS.
pub const STREAM_MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The smallest `max_message_bytes` accepted: RFC 5426's 480-octet floor.
const MIN_MESSAGE_BYTES: usize = 480;
/// The largest payload of one UDP datagram over IPv4.
const MAX_DATAGRAM_BYTES: usize = 65_507;

/// Where and how to send syslog messages.
#[derive(Debug, Clone)]
pub struct SyslogConfig {
    /// The receiver, `host:port` (`[::1]:6514` for an IPv6 literal); resolved on every connect.
    pub address: String,
    /// UDP, TCP or TLS.
    pub transport: SyslogTransport,
    /// RFC 5424 with structured data, or CEF carried as the MSG of an RFC 5424 frame.
    pub format: SyslogFormat,
    /// The syslog facility (default `local0`).
    pub facility: Facility,
    /// APP-NAME (default `smartflowd`; at most 48 printable US-ASCII characters are sent).
    pub app_name: String,
    /// HOSTNAME (default: this machine's host name, else `-`).
    pub hostname: String,
    /// How long one send (connect, handshake and writes) may take (default 5 s).
    pub timeout: Duration,
    /// The largest syslog message, without framing; a longer one is cut at a UTF-8 boundary and
    /// marked `truncated="true"` (default 2048 over UDP, 64 KiB over TCP and TLS).
    pub max_message_bytes: usize,
}

/// How messages travel.
#[derive(Debug, Clone)]
pub enum SyslogTransport {
    /// RFC 5426: one datagram per message. Lossy: avoid for audit trails that must be complete.
    Udp,
    /// RFC 6587 octet-counted frames over one kept-alive TCP connection. Cleartext.
    Tcp,
    /// RFC 5425: octet-counted frames over TLS 1.2 or 1.3 (rustls), server certificate verified.
    Tls {
        /// The CAs that may sign the receiver's certificate.
        root_certificates: Arc<RootCertStore>,
        /// The name the receiver's certificate must carry (DNS name or IP address).
        server_name: String,
    },
}

impl SyslogTransport {
    /// The default largest message for this transport.
    pub fn default_max_message_bytes(&self) -> usize {
        match self {
            Self::Udp => UDP_MAX_MESSAGE_BYTES,
            Self::Tcp | Self::Tls { .. } => STREAM_MAX_MESSAGE_BYTES,
        }
    }
}

/// What each message looks like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyslogFormat {
    /// RFC 5424 with a `[smartflow@32473 ...]` structured-data element and a short summary.
    #[default]
    Rfc5424,
    /// ArcSight CEF (`CEF:0|Smartflow|smartflowd|...`) as the MSG of an RFC 5424 frame whose
    /// structured data is `-`.
    Cef,
}

/// A syslog facility: `user`, `daemon`, `auth`, `authpriv` or `local0`..`local7` (the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(u8);

impl Default for Facility {
    fn default() -> Self {
        Self::LOCAL0
    }
}

impl Facility {
    /// `local0` (16).
    pub const LOCAL0: Self = Self(16);

    /// The facility named `name` (`local0`..`local7`, `auth`, `authpriv`, `daemon`, `user`;
    /// case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        let code = match name.trim().to_ascii_lowercase().as_str() {
            "user" => 1,
            "daemon" => 3,
            "auth" => 4,
            "authpriv" => 10,
            other => match other.strip_prefix("local")?.as_bytes() {
                [digit @ b'0'..=b'7'] => 16 + (digit - b'0'),
                _ => return None,
            },
        };
        Some(Self(code))
    }

    /// The numeric code (`local0` = 16) that PRI is made of.
    pub fn code(self) -> u8 {
        self.0
    }
}

impl std::str::FromStr for Facility {
    type Err = SyslogConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| {
            SyslogConfigError(format!("unknown syslog facility {s:?} (local0..local7, auth, authpriv, daemon, user)"))
        })
    }
}

/// An invalid syslog configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syslog: {0}")]
pub struct SyslogConfigError(pub(super) String);

impl SyslogConfig {
    /// A configuration for `address` over `transport` with every default: RFC 5424, `local0`,
    /// `smartflowd`, this host's name, 5 s, and the transport's message size.
    pub fn new(address: impl Into<String>, transport: SyslogTransport) -> Self {
        Self {
            address: address.into(),
            max_message_bytes: transport.default_max_message_bytes(),
            transport,
            format: SyslogFormat::Rfc5424,
            facility: Facility::LOCAL0,
            app_name: "smartflowd".to_owned(),
            hostname: local_hostname(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Checks the address, timeout, message size and TLS server name.
    pub fn validate(&self) -> Result<(), SyslogConfigError> {
        let bad = |why: String| Err(SyslogConfigError(why));
        let port = self.address.rsplit_once(':').map(|(host, port)| (host, port.parse::<u16>()));
        match port {
            Some((host, Ok(port))) if !host.is_empty() && port != 0 => {}
            _ => return bad(format!("address {:?} is not host:port", self.address)),
        }
        if self.timeout.is_zero() {
            return bad("timeout must be above zero".to_owned());
        }
        let max = match self.transport {
            SyslogTransport::Udp => MAX_DATAGRAM_BYTES,
            _ => usize::MAX,
        };
        if !(MIN_MESSAGE_BYTES..=max).contains(&self.max_message_bytes) {
            return bad(format!("max_message_bytes must be between {MIN_MESSAGE_BYTES} and {max}"));
        }
        if let SyslogTransport::Tls { server_name, .. } = &self.transport
            && rustls::pki_types::ServerName::try_from(server_name.as_str()).is_err()
        {
            return bad(format!("TLS server name {server_name:?} is not a DNS name or IP address"));
        }
        Ok(())
    }
}

/// This machine's host name from the kernel (Linux), else `HOSTNAME`, else `-` (NILVALUE).
fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}
