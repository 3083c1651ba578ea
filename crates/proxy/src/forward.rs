//! Forwarding one request upstream, and the 402 hook.

use std::{net::SocketAddr, sync::Arc};

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt as _, stream};
use http::{
    HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, Uri, Version, header,
    uri::{Authority, PathAndQuery, Scheme},
};
use http_body::Frame;
use http_body_util::{BodyExt as _, BodyStream, Empty, Full, StreamBody};
use hyper::body::Incoming;
use hyper_util::{client::legacy::connect::HttpConnector, rt::TokioIo};

use crate::{
    PaymentHook, RequestSnapshot, ResponseSnapshot, Verdict,
    affinity::{Affinity, Sent},
    server::Limits,
    upstream::{Body, BoxError, UpstreamClient},
};

/// Where the requests of a connection go.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
}

pub(crate) fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed_unsync()
}

fn incoming(body: Incoming) -> Body {
    body.map_err(BoxError::from).boxed_unsync()
}

pub(crate) fn text_response(status: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(text.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1), plus
/// the proxy's own credentials.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Headers named by `Connection` are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .filter(|name| !(keep_upgrade && name == header::UPGRADE))
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in &HOP_BY_HOP {
        if keep_upgrade && name == header::CONNECTION {
            continue;
        }
        headers.remove(name);
    }
    if !keep_upgrade {
        headers.remove(header::UPGRADE);
    }
}

fn upstream_uri(target: &Target, uri: &Uri) -> Result<Uri, http::Error> {
    // An absolute-form request already names its target.
    if uri.scheme() == Some(&target.scheme) && uri.authority() == Some(&target.authority) {
        return Ok(uri.clone());
    }
    let path = uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
    Uri::builder()
        .scheme(target.scheme.clone())
        .authority(target.authority.clone())
        .path_and_query(path)
        .build()
}

/// The client's request, addressed to `target` and without hop-by-hop headers.
fn retarget(
    request: Request<Incoming>,
    target: &Target,
    keep_upgrade: bool,
) -> Result<Request<Incoming>, Box<Response<Body>>> {
    let (mut parts, body) = request.into_parts();
    parts.uri = upstream_uri(target, &parts.uri).map_err(|_| {
        Box::new(text_response(StatusCode::BAD_REQUEST, "Purse: malformed request target\n"))
    })?;
    strip_hop_by_hop(&mut parts.headers, keep_upgrade);
    Ok(Request::from_parts(parts, body))
}

fn is_upgrade(request: &Request<Incoming>) -> bool {
    request.version() == Version::HTTP_11
        && request.headers().contains_key(header::UPGRADE)
        && request
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
}

/// Where one request goes: its target, and the client connection's own upstream
/// connection where it has one.
#[derive(Clone, Copy)]
struct Route<'a> {
    target: &'a Target,
    affinity: Option<&'a Affinity>,
}

/// Sends requests upstream and gives 402s to the hook.
pub(crate) struct Forwarder {
    client: UpstreamClient,
    upgrade_client: UpstreamClient,
    /// Plain-HTTP connections for each client connection's own upstream ([`Affinity`]);
    /// `None` behind an upstream proxy.
    direct: Option<HttpConnector>,
    hook: Option<Arc<dyn PaymentHook>>,
    limits: Limits,
    /// `Proxy-Authorization` for the upstream proxy, on plain HTTP requests sent through it.
    upstream_proxy_authorization: Option<HeaderValue>,
}

impl Forwarder {
    pub(crate) fn new(
        client: UpstreamClient,
        upgrade_client: UpstreamClient,
        direct: Option<HttpConnector>,
        hook: Option<Arc<dyn PaymentHook>>,
        limits: Limits,
        upstream_proxy_authorization: Option<HeaderValue>,
    ) -> Self {
        Self { client, upgrade_client, direct, hook, limits, upstream_proxy_authorization }
    }

    /// Forwards one request to `target` and answers the client; `affinity` is the client
    /// connection's own upstream connection, where it has one.
    pub(crate) async fn forward(
        &self,
        request: Request<Incoming>,
        target: Target,
        peer: SocketAddr,
        affinity: Option<&Affinity>,
    ) -> Response<Body> {
        if is_upgrade(&request) {
            return self.forward_upgrade(request, target, peer).await;
        }
        let (mut parts, body) = match retarget(request, &target, false) {
            Ok(request) => request.into_parts(),
            Err(response) => return *response,
        };
        // hyper picks the upstream protocol per connection (ALPN); the request goes out as 1.1.
        parts.version = Version::HTTP_11;
        let route = Route { target: &target, affinity };

        let Some(hook) = self.hook.clone() else {
            let response = self.send(Request::from_parts(parts, incoming(body)), route).await;
            return finish(response);
        };

        // Keep a copy of the request, in case it has to be sent again with a payment.
        let (body, kept) = match keep_body(body, self.limits.max_replay_body).await {
            Ok(pair) => pair,
            Err(error) => {
                tracing::debug!(%peer, %error, "the client's request body failed");
                return text_response(
                    StatusCode::BAD_REQUEST,
                    "Purse: the request body could not be read\n",
                );
            }
        };
        let snapshot = RequestSnapshot {
            client: peer,
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            body: kept,
        };
        let response = match self.send(Request::from_parts(parts, body), route).await {
            Ok(response) if response.status() == StatusCode::PAYMENT_REQUIRED => response,
            other => return finish(other),
        };

        let (parts, body) = response.into_parts();
        let (body, whole) = match keep_body(body, self.limits.max_402_body).await {
            Ok(pair) => pair,
            Err(error) => return bad_gateway(&target, &error),
        };
        // A body too large to read is streamed to the client as it comes; the hook still
        // sees the headers, which is all a v2 402 needs.
        let first = ResponseSnapshot {
            status: parts.status,
            headers: parts.headers.clone(),
            body: whole.unwrap_or_default(),
        };
        let pass = |headers: HeaderMap| {
            let mut response = Response::from_parts(parts, body);
            response.headers_mut().extend(headers);
            finish(Ok(response))
        };
        let mut verdict = hook.on_payment_required(&snapshot, &first).await;
        let mut asked_again = false;
        loop {
            match verdict {
                Verdict::PassThrough { headers } => return pass(headers),
                Verdict::Resend { headers, ticket } => {
                    let Some(kept) = snapshot.body.clone() else {
                        tracing::warn!(uri = %snapshot.uri, "asked to re-send a request too large to keep: passed the 402 through");
                        return pass(HeaderMap::new());
                    };
                    return self
                        .resend(hook.as_ref(), &snapshot, kept, headers, ticket, route)
                        .await;
                }
                Verdict::AskAgain { headers } => {
                    let (Some(kept), false) = (snapshot.body.clone(), asked_again) else {
                        return pass(HeaderMap::new());
                    };
                    asked_again = true;
                    let Some(second) = self.ask_again(&snapshot, kept, headers, route).await else {
                        return pass(HeaderMap::new());
                    };
                    verdict = hook.on_payment_required(&snapshot, &second).await;
                }
            }
        }
    }

    /// Sends the kept request again with `replace` headers set, to read another 402 (a v1
    /// server's JSON instead of its browser paywall). `None` when the answer is not a
    /// readable 402.
    async fn ask_again(
        &self,
        snapshot: &RequestSnapshot,
        body: Bytes,
        replace: HeaderMap,
        route: Route<'_>,
    ) -> Option<ResponseSnapshot> {
        let mut request = Request::new(full(body));
        *request.method_mut() = snapshot.method.clone();
        *request.uri_mut() = snapshot.uri.clone();
        *request.headers_mut() = snapshot.headers.clone();
        for (name, value) in &replace {
            request.headers_mut().insert(name, value.clone());
        }
        let response = self.send(request, route).await.ok()?;
        if response.status() != StatusCode::PAYMENT_REQUIRED {
            return None;
        }
        let (parts, body) = response.into_parts();
        let (_, whole) = keep_body(body, self.limits.max_402_body).await.ok()?;
        Some(ResponseSnapshot { status: parts.status, headers: parts.headers, body: whole? })
    }

    /// Sends the kept request again with `extra` headers; whatever answers goes to the client.
    async fn resend(
        &self,
        hook: &dyn PaymentHook,
        snapshot: &RequestSnapshot,
        body: Bytes,
        extra: HeaderMap,
        ticket: u64,
        route: Route<'_>,
    ) -> Response<Body> {
        let mut request = Request::new(full(body));
        *request.method_mut() = snapshot.method.clone();
        *request.uri_mut() = snapshot.uri.clone();
        *request.headers_mut() = snapshot.headers.clone();
        request.headers_mut().extend(extra);
        // Should the client go away meanwhile, this future is dropped mid-send: the guard
        // tells the hook, so the payment is still followed.
        let mut out = Abandoned { hook, request: snapshot, ticket: Some(ticket) };
        let response = self.send(request, route).await;
        out.ticket = None;
        match &response {
            Ok(response) => {
                hook.on_resent(snapshot, ticket, Ok((response.status(), response.headers()))).await
            }
            Err(error) => hook.on_resent(snapshot, ticket, Err(error.to_string().as_str())).await,
        }
        finish(response)
    }

    async fn send(
        &self,
        mut request: Request<Body>,
        Route { target, affinity }: Route<'_>,
    ) -> Result<Response<Incoming>, SendError> {
        let failed = |error: BoxError| SendError { authority: target.authority.clone(), error };
        if let (Some(affinity), Some(direct)) = (affinity, &self.direct)
            && target.scheme == Scheme::HTTP
        {
            request = match affinity.send(request, &target.authority, direct).await {
                Sent::Answered(response) => return Ok(response),
                Sent::Failed(error) => return Err(failed(error)),
                Sent::Declined(request) => request,
            };
        }
        self.authorize_upstream(&mut request);
        self.client.request(request).await.map_err(|e| failed(e.into()))
    }

    /// Plain HTTP through an upstream proxy carries its credentials.
    fn authorize_upstream<B>(&self, request: &mut Request<B>) {
        if let Some(value) = &self.upstream_proxy_authorization
            && request.uri().scheme() == Some(&Scheme::HTTP)
        {
            request.headers_mut().insert(header::PROXY_AUTHORIZATION, value.clone());
        }
    }

    /// A protocol upgrade (WebSocket): forward the handshake, then relay both ways.
    async fn forward_upgrade(
        &self,
        mut request: Request<Incoming>,
        target: Target,
        peer: SocketAddr,
    ) -> Response<Body> {
        let client_side = hyper::upgrade::on(&mut request);
        let mut upstream_request = match retarget(request, &target, true) {
            Ok(request) => request.map(incoming),
            Err(response) => return *response,
        };
        self.authorize_upstream(&mut upstream_request);
        let mut response = match self.upgrade_client.request(upstream_request).await {
            Ok(response) => response,
            Err(error) => {
                return bad_gateway(
                    &target,
                    &SendError { authority: target.authority.clone(), error: error.into() },
                );
            }
        };
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return finish(Ok(response));
        }
        let upstream_side = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            match tokio::try_join!(client_side, upstream_side) {
                Ok((client, upstream)) => {
                    let _ = tokio::io::copy_bidirectional(
                        &mut TokioIo::new(client),
                        &mut TokioIo::new(upstream),
                    )
                    .await;
                }
                Err(error) => tracing::debug!(%peer, %error, "upgrade failed"),
            }
        });
        let (parts, _) = response.into_parts();
        Response::from_parts(parts, empty())
    }
}

/// An upstream request that failed before any answer.
#[derive(Debug)]
pub(crate) struct SendError {
    authority: Authority,
    error: BoxError,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not reach {}: {}", self.authority, chain(&*self.error))
    }
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn bad_gateway(target: &Target, error: &dyn std::fmt::Display) -> Response<Body> {
    tracing::warn!(authority = %target.authority, %error, "upstream failed: answered 502");
    text_response(StatusCode::BAD_GATEWAY, format!("Purse: {error}\n"))
}

/// The upstream answer as the client gets it.
fn finish<B>(response: Result<Response<B>, SendError>) -> Response<Body>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    match response {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers, false);
            Response::from_parts(parts, body.map_err(Into::into).boxed_unsync())
        }
        Err(error) => {
            tracing::warn!(%error, "upstream failed: answered 502");
            text_response(StatusCode::BAD_GATEWAY, format!("Purse: {error}\n"))
        }
    }
}

/// Reads a body whole when it is at most `limit` bytes, and gives it back as a body to
/// send on with the kept copy; a larger body is given back as a stream (what was read,
/// then the rest) with no copy.
async fn keep_body(
    mut body: Incoming,
    limit: usize,
) -> Result<(Body, Option<Bytes>), hyper::Error> {
    use http_body::Body as _;
    if body.size_hint().lower() > limit as u64 {
        return Ok((incoming(body), None));
    }
    let mut kept = BytesMut::new();
    while let Some(frame) = body.frame().await {
        // Trailers are not kept: x402 does not use them.
        if let Ok(data) = frame?.into_data() {
            kept.extend_from_slice(&data);
            if kept.len() > limit {
                let read =
                    stream::once(async move { Ok::<_, BoxError>(Frame::data(kept.freeze())) });
                let rest = BodyStream::new(body).map(|frame| frame.map_err(BoxError::from));
                return Ok((StreamBody::new(read.chain(rest)).boxed_unsync(), None));
            }
        }
    }
    let kept = kept.freeze();
    Ok((full(kept.clone()), Some(kept)))
}

/// A paid request on its way: dropped before its answer (the client went away), it tells
/// the hook.
struct Abandoned<'a> {
    hook: &'a dyn PaymentHook,
    request: &'a RequestSnapshot,
    ticket: Option<u64>,
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            self.hook.on_abandoned(self.request, ticket);
        }
    }
}
