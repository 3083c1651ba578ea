//! Reading what a user saves of an HTTP exchange: a response from `curl -si`, or a bare
//! header value.

use anyhow::{Context, Result, bail};

/// An HTTP response read from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// What the input file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// A whole response: status line, headers, blank line, body.
    Response(Response),
    /// One header, `Name: value`.
    Header { name: String, value: String },
    /// A bare value: base64 of a header, or a JSON body.
    Bare(String),
}

const MAX_HEADERS: usize = 256;

/// Reads `curl -si` output (the last response when curl shows several, e.g. a proxy's
/// `200 Connection established` or a `100 Continue`), a `Name: value` line, or a bare value.
pub(crate) fn read(bytes: &[u8]) -> Result<Input> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    if !bytes.starts_with(b"HTTP/") {
        let text = std::str::from_utf8(bytes).context("the input is not UTF-8 text")?.trim();
        if let Some((name, value)) = text.split_once(':') {
            let is_token = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if is_token && !text.starts_with('{') {
                return Ok(Input::Header { name: name.to_owned(), value: value.trim().to_owned() });
            }
        }
        return Ok(Input::Bare(text.to_owned()));
    }
    let mut rest = bytes.to_vec();
    loop {
        // curl prints HTTP/2 and HTTP/3 heads with the same layout as HTTP/1.1 ones;
        // httparse reads only the latter, so the version token is rewritten.
        let version_len = rest.iter().position(|b| *b == b' ').unwrap_or(0);
        if matches!(&rest[..version_len], b"HTTP/2" | b"HTTP/3" | b"HTTP/2.0" | b"HTTP/3.0") {
            rest.splice(..version_len, *b"HTTP/1.1");
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut headers);
        let head_len = match parsed.parse(&rest).context("the response head is malformed")? {
            httparse::Status::Complete(len) => len,
            httparse::Status::Partial => {
                bail!("the response head is cut short (no blank line after the headers)")
            }
        };
        let status = parsed.code.context("the status line has no status code")?;
        let body = &rest[head_len..];
        let interim = (100..200).contains(&status)
            || (status == 200
                && parsed.reason.is_some_and(|r| r.eq_ignore_ascii_case("connection established")));
        if interim && body.starts_with(b"HTTP/") {
            rest = body.to_vec();
            continue;
        }
        let headers = parsed
            .headers
            .iter()
            .map(|h| {
                Ok((
                    h.name.to_owned(),
                    String::from_utf8(h.value.to_vec()).context("a header value is not UTF-8")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(Input::Response(Response { status, headers, body: body.to_vec() }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_curl_output_with_lf_or_crlf() {
        for text in [
            "HTTP/1.1 402 Payment Required\r\nPAYMENT-REQUIRED: abc\r\nContent-Length: 2\r\n\r\n{}",
            "HTTP/2 402 \nx-a: 1\npayment-required: abc\n\n{}",
        ] {
            let Input::Response(r) = read(text.as_bytes()).unwrap() else { panic!("{text}") };
            assert_eq!(r.status, 402);
            assert!(
                r.headers().any(|(n, v)| n.eq_ignore_ascii_case("payment-required") && v == "abc")
            );
            assert_eq!(r.body, b"{}");
        }
    }

    #[test]
    fn skips_proxy_and_interim_responses() {
        let text = "HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 402 Payment Required\r\nX: y\r\n\r\nbody";
        let Input::Response(r) = read(text.as_bytes()).unwrap() else { panic!() };
        assert_eq!((r.status, r.body.as_slice()), (402, b"body".as_slice()));
    }

    #[test]
    fn reads_bare_values_and_header_lines() {
        assert_eq!(read(b"  eyJh==\n").unwrap(), Input::Bare("eyJh==".into()));
        assert_eq!(
            read(b"{\"x402Version\":1}").unwrap(),
            Input::Bare("{\"x402Version\":1}".into())
        );
        assert_eq!(
            read(b"PAYMENT-REQUIRED: eyJh\n").unwrap(),
            Input::Header { name: "PAYMENT-REQUIRED".into(), value: "eyJh".into() }
        );
        assert!(read(b"HTTP/1.1 402 Payment Required\r\nX: y\r\n").is_err());
    }
}
