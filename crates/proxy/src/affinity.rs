//! The fast path for plain HTTP: a client connection keeps its own upstream connection.
//!
//! A keep-alive client (curl, an SDK, an agent) sends all its requests on one connection,
//! nearly always to one origin. Checking a connection out of the shared pool for each of
//! them (hyper-util's legacy client) costs a lock, a hashed lookup, and a task spawned per
//! request to hand the connection back; `benches/proxy.sh` showed that as several percent
//! of the proxy's CPU per small request. So each client connection keeps the upstream
//! connection of its last request, an HTTP/1.1 connection of hyper's own, and sends the
//! next request to the same origin on it.
//!
//! Anything else goes through the shared pool as before: another origin, an upstream
//! connection still busy with a previous response (HTTP/2 clients, an unread body), one
//! that closed, HTTPS (TLS and ALPN stay with the pool's connector), an upstream proxy.

use std::sync::Mutex;

use http::{HeaderValue, Request, Response, Uri, header, uri::Authority};
use hyper::{
    body::Incoming,
    client::conn::http1::{self, SendRequest},
};
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service as _;

use crate::upstream::{Body, BoxError};

/// A connection kept for the origin it was opened to.
struct Kept {
    authority: Authority,
    sender: SendRequest<Body>,
}

/// One client connection's upstream connection.
#[derive(Default)]
pub(crate) struct Affinity {
    kept: Mutex<Option<Kept>>,
}

/// What became of a request offered to the fast path.
pub(crate) enum Sent {
    /// The upstream answered.
    Answered(Response<Incoming>),
    /// The request failed after it may have been written: not to be sent again.
    Failed(BoxError),
    /// Not sent: the shared pool takes it.
    Declined(Request<Body>),
}

impl Affinity {
    /// Sends `request` to `authority` over plain HTTP on this connection's upstream
    /// connection, opening one when there is none (or it closed).
    pub(crate) async fn send(
        &self,
        mut request: Request<Body>,
        authority: &Authority,
        connector: &HttpConnector,
    ) -> Sent {
        let kept = self.kept.lock().ok().and_then(|mut kept| kept.take());
        let mut sender = match kept {
            // A connection the server has closed is dropped for a new one.
            Some(kept) if !kept.sender.is_closed() => {
                if kept.authority != *authority || !kept.sender.is_ready() {
                    // Another origin's, or still busy with an earlier response: it stays
                    // for the requests it serves, and the pool takes this one.
                    self.keep(kept);
                    return Sent::Declined(request);
                }
                kept.sender
            }
            _ => {
                let uri = match Uri::builder()
                    .scheme("http")
                    .authority(authority.clone())
                    .path_and_query("/")
                    .build()
                {
                    Ok(uri) => uri,
                    Err(_) => return Sent::Declined(request),
                };
                match open(connector.clone(), uri).await {
                    Ok(sender) => sender,
                    Err(error) => return Sent::Failed(error),
                }
            }
        };
        let absolute = request.uri().clone();
        to_origin_form(&mut request, authority);
        match sender.try_send_request(request).await {
            Ok(response) => {
                self.keep(Kept { authority: authority.clone(), sender });
                Sent::Answered(response)
            }
            Err(mut error) => match error.take_message() {
                // The connection closed before the request was written (the server ended an
                // idle keep-alive): the pool sends it on a fresh connection.
                Some(mut request) => {
                    *request.uri_mut() = absolute;
                    Sent::Declined(request)
                }
                None => Sent::Failed(error.into_error().into()),
            },
        }
    }

    fn keep(&self, kept: Kept) {
        if let Ok(mut slot) = self.kept.lock() {
            *slot = Some(kept);
        }
    }
}

/// Opens an HTTP/1.1 connection; a task drives it until it closes.
async fn open(mut connector: HttpConnector, uri: Uri) -> Result<SendRequest<Body>, BoxError> {
    let io = connector.call(uri).await?;
    let (sender, connection) =
        http1::Builder::new().preserve_header_case(true).handshake::<_, Body>(io).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}

/// A request to an origin server names only the path, and carries `Host`.
fn to_origin_form(request: &mut Request<Body>, authority: &Authority) {
    if !request.headers().contains_key(header::HOST)
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(header::HOST, host);
    }
    if request.uri().scheme().is_some() {
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        if let Ok(uri) = path.parse() {
            *request.uri_mut() = uri;
        }
    }
}
