//! Chaining to an upstream proxy, for users behind a corporate proxy.
//!
//! Plain HTTP goes to the upstream proxy in absolute form; HTTPS (intercepted or
//! tunnelled) goes through a `CONNECT` tunnel opened on it.

use std::{
    future::Future,
    io,
    pin::Pin,
    str::FromStr,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use base64::Engine as _;
use http::{HeaderValue, Uri, uri::Authority};
use hyper_util::{
    client::legacy::connect::{Connected, Connection, HttpConnector},
    rt::TokioIo,
};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};
use tower_service::Service;

/// An upstream HTTP proxy: `http://[user:password@]host:port`.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamProxy {
    authority: Authority,
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for UpstreamProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamProxy")
            .field("authority", &self.authority.as_str())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for UpstreamProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}", self.host_port())
    }
}

/// An upstream proxy address that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: an upstream proxy is http://[user:password@]host:port")]
pub struct UpstreamProxyError(String);

impl FromStr for UpstreamProxy {
    type Err = UpstreamProxyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || UpstreamProxyError(text.to_owned());
        let uri: Uri = text.parse().map_err(|_| error())?;
        if uri.scheme_str() != Some("http")
            || uri.path_and_query().is_some_and(|p| p.as_str() != "/")
        {
            return Err(error());
        }
        let authority = uri.authority().ok_or_else(error)?.clone();
        if authority.port_u16().is_none() {
            return Err(error());
        }
        let authorization = match authority.as_str().rsplit_once('@') {
            Some((credentials, _)) => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(percent_decode(credentials));
                Some(HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| error())?)
            }
            None => None,
        };
        Ok(Self { authority, authorization })
    }
}

/// Decodes `%XX` escapes, as user names and passwords in a URL are written.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

impl UpstreamProxy {
    /// `host:port`, without credentials.
    pub fn host_port(&self) -> String {
        format!("{}:{}", self.authority.host(), self.authority.port_u16().unwrap_or(80))
    }

    /// The `Proxy-Authorization` to present, if any.
    pub(crate) fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }

    async fn connect(&self, timeout: Duration) -> io::Result<TcpStream> {
        let host = self.authority.host().trim_start_matches('[').trim_end_matches(']');
        let port = self.authority.port_u16().unwrap_or(80);
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("upstream proxy {self} did not answer"),
                )
            })??;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    /// A TCP stream to `target` (`host:port`) through a `CONNECT` tunnel.
    pub(crate) async fn tunnel(&self, target: &str, timeout: Duration) -> io::Result<TcpStream> {
        let mut stream = self.connect(timeout).await?;
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(authorization) = &self.authorization {
            request.push_str("Proxy-Authorization: ");
            request.push_str(authorization.to_str().unwrap_or_default());
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await?;
        // Read the answer's head byte by byte, so that nothing of the tunnel is consumed.
        let mut head = Vec::with_capacity(128);
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() > 16 * 1024 {
                return Err(io::Error::other(format!(
                    "upstream proxy {self} sent an oversized answer"
                )));
            }
            head.push(stream.read_u8().await?);
        }
        let status_line =
            String::from_utf8_lossy(&head[..head.iter().position(|b| *b == b'\r').unwrap_or(0)])
                .into_owned();
        let ok = status_line.split(' ').nth(1).is_some_and(|code| code.starts_with('2'));
        if !ok {
            return Err(io::Error::other(format!(
                "upstream proxy {self} refused CONNECT {target}: {status_line}"
            )));
        }
        Ok(stream)
    }
}

/// A stream to the upstream proxy that carries plain HTTP in absolute form.
pub(crate) struct ViaProxy(TokioIo<TcpStream>);

impl Connection for ViaProxy {
    fn connected(&self) -> Connected {
        Connected::new().proxy(true)
    }
}

impl hyper::rt::Read for ViaProxy {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ViaProxy {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
}

/// Either a direct connection or one through the upstream proxy.
pub(crate) enum Upstream {
    Direct(TokioIo<TcpStream>),
    Proxied(ViaProxy),
}

impl Connection for Upstream {
    fn connected(&self) -> Connected {
        match self {
            Self::Direct(io) => io.connected(),
            Self::Proxied(io) => io.connected(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $io:ident => $call:expr) => {
        match $self.get_mut() {
            Upstream::Direct($io) => $call,
            Upstream::Proxied($io) => $call,
        }
    };
}

impl hyper::rt::Read for Upstream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_read(cx, buf))
    }
}

impl hyper::rt::Write for Upstream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => Pin::new(io).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_shutdown(cx))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Direct(io) => io.is_write_vectored(),
            Self::Proxied(io) => io.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => Pin::new(io).poll_write_vectored(cx, bufs))
    }
}

/// The TCP connector under the TLS one: direct, or through the upstream proxy.
#[derive(Clone)]
pub(crate) struct Connector {
    direct: HttpConnector,
    proxy: Option<Arc<UpstreamProxy>>,
    timeout: Duration,
}

impl Connector {
    pub(crate) fn new(
        direct: HttpConnector,
        proxy: Option<Arc<UpstreamProxy>>,
        timeout: Duration,
    ) -> Self {
        Self { direct, proxy, timeout }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Service<Uri> for Connector {
    type Response = Upstream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Upstream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.direct.poll_ready(cx).map_err(BoxError::from)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let Some(proxy) = self.proxy.clone() else {
            let connecting = self.direct.call(uri);
            return Box::pin(async move { Ok(Upstream::Direct(connecting.await?)) });
        };
        let timeout = self.timeout;
        Box::pin(async move {
            let https = uri.scheme_str() == Some("https");
            let host = uri.host().ok_or("no host in the request")?;
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            if https {
                let stream = proxy.tunnel(&format!("{host}:{port}"), timeout).await?;
                Ok(Upstream::Direct(TokioIo::new(stream)))
            } else {
                Ok(Upstream::Proxied(ViaProxy(TokioIo::new(proxy.connect(timeout).await?))))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_credentials() {
        let plain: UpstreamProxy = "http://proxy.corp:3128".parse().unwrap();
        assert_eq!(plain.host_port(), "proxy.corp:3128");
        assert!(plain.authorization().is_none());
        let with: UpstreamProxy = "http://me:p%40ss@10.0.0.1:8080".parse().unwrap();
        assert_eq!(with.host_port(), "10.0.0.1:8080");
        // me:p@ss
        assert_eq!(with.authorization().unwrap(), "Basic bWU6cEBzcw==");
        assert!(
            !format!("{with:?}").contains("bWU6") && !with.to_string().contains("me:"),
            "credentials never print"
        );
        for bad in
            ["proxy.corp:3128", "https://proxy.corp:3128", "http://proxy.corp", "http://p:1/path"]
        {
            assert!(bad.parse::<UpstreamProxy>().is_err(), "{bad}");
        }
    }
}
