//! What must hold before any signature (PROTOCOL.md §12), whatever the policy says.

use std::net::IpAddr;

use http::Uri;

use crate::{Reason, Refusal};

/// The shortest `maxTimeoutSeconds` Purse signs for: below it an authorization expires
/// before a facilitator (which wants 6 s left) can settle it.
pub const MIN_TIMEOUT_SECONDS: u64 = 10;
/// The longest an authorization stays valid by default: anyone who holds it can settle it.
pub const DEFAULT_MAX_LIFETIME: u64 = 300;

fn origin(uri: &Uri) -> Option<(String, String, u16)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let port = uri.port_u16().or(match scheme.as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    })?;
    Some((scheme, host, port))
}

/// The offer's `resource` must be on the requested URL's origin (scheme, host, port): a
/// 402 cannot ask to be paid for someone else's resource.
pub fn resource_matches(resource: &str, requested: &Uri) -> Result<(), Refusal> {
    let mismatch = || {
        Refusal::new(
            Reason::ResourceMismatch,
            format!("the offer is for {resource}, not {requested}"),
        )
    };
    let resource: Uri = resource.parse().map_err(|_| mismatch())?;
    match (origin(&resource), origin(requested)) {
        (Some(offered), Some(asked)) if offered == asked => Ok(()),
        _ => Err(mismatch()),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Payment goes over HTTPS, or to a loopback host, unless the user allows plain HTTP:
/// a payment header seen on the wire can be settled by whoever sees it.
pub fn transport(requested: &Uri, allow_insecure: bool) -> Result<(), Refusal> {
    match requested.scheme_str() {
        Some("https") => Ok(()),
        _ if allow_insecure || requested.host().is_some_and(is_loopback) => Ok(()),
        _ => Err(Refusal::new(
            Reason::InsecureTransport,
            format!(
                "{requested} is plain HTTP to a host that is not this machine; Purse pays over HTTPS"
            ),
        )),
    }
}

/// How long the authorization may live: the server's `maxTimeoutSeconds`, refused below
/// [`MIN_TIMEOUT_SECONDS`] and capped at `max_lifetime`.
pub fn lifetime(max_timeout_seconds: u64, max_lifetime: u64) -> Result<u64, Refusal> {
    if max_timeout_seconds < MIN_TIMEOUT_SECONDS {
        return Err(Refusal::new(
            Reason::InvalidOffer,
            format!(
                "maxTimeoutSeconds {max_timeout_seconds} is too short to settle (at least {MIN_TIMEOUT_SECONDS})"
            ),
        ));
    }
    Ok(max_timeout_seconds.min(max_lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn resources_must_share_the_origin() {
        let asked = uri("https://api.example.com/premium?x=1");
        for same in [
            "https://api.example.com/premium",
            "https://API.example.com:443/other",
            "https://api.example.com./",
        ] {
            assert!(resource_matches(same, &asked).is_ok(), "{same}");
        }
        for other in [
            "https://evil.example/premium",
            "http://api.example.com/premium",
            "https://api.example.com:8443/",
            "/premium",
            "not a url",
        ] {
            let refused = resource_matches(other, &asked).unwrap_err();
            assert_eq!(refused.reason, Reason::ResourceMismatch, "{other}");
        }
        assert!(
            resource_matches("http://127.0.0.1:4021/paid", &uri("http://127.0.0.1:4021/paid"))
                .is_ok()
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://a.example/",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://[::1]:3000/",
            "http://app.localhost/",
        ] {
            assert!(transport(&uri(ok), false).is_ok(), "{ok}");
        }
        let refused = transport(&uri("http://a.example/"), false).unwrap_err();
        assert_eq!(refused.reason, Reason::InsecureTransport);
        assert!(transport(&uri("http://a.example/"), true).is_ok());
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(lifetime(60, DEFAULT_MAX_LIFETIME), Ok(60));
        assert_eq!(lifetime(315_360_000, DEFAULT_MAX_LIFETIME), Ok(300));
        assert_eq!(lifetime(9, DEFAULT_MAX_LIFETIME).unwrap_err().reason, Reason::InvalidOffer);
        assert_eq!(lifetime(10, DEFAULT_MAX_LIFETIME), Ok(10));
    }
}
