//! Host patterns for the passthrough and intercept-only lists.

use std::{fmt, str::FromStr};

/// A host, or every subdomain of one (`*.example.com`, which does not match
/// `example.com` itself). Matching ignores case and a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    suffix: String,
    wildcard: bool,
}

/// A pattern that is not a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a host or a *.domain pattern")]
pub struct PatternError(String);

impl FromStr for HostPattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lowered = text.trim().trim_end_matches('.').to_ascii_lowercase();
        let (wildcard, host) = match lowered.strip_prefix("*.") {
            Some(rest) => (true, rest.to_owned()),
            None => (false, lowered),
        };
        let valid = !host.is_empty()
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']')
            });
        if !valid {
            return Err(PatternError(text.to_owned()));
        }
        Ok(Self { suffix: host, wildcard })
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard { write!(f, "*.{}", self.suffix) } else { f.write_str(&self.suffix) }
    }
}

impl HostPattern {
    /// Whether `host` (no port) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        if self.wildcard {
            host.len() > self.suffix.len() + 1
                && host[host.len() - self.suffix.len()..].eq_ignore_ascii_case(&self.suffix)
                && host.as_bytes()[host.len() - self.suffix.len() - 1] == b'.'
        } else {
            host.eq_ignore_ascii_case(&self.suffix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard() {
        let exact: HostPattern = "Example.com.".parse().unwrap();
        assert!(exact.matches("example.com") && exact.matches("EXAMPLE.COM."));
        assert!(!exact.matches("a.example.com") && !exact.matches("badexample.com"));
        let wild: HostPattern = "*.example.com".parse().unwrap();
        assert!(wild.matches("a.example.com") && wild.matches("a.b.Example.com"));
        assert!(!wild.matches("example.com") && !wild.matches("aexample.com"));
        assert_eq!(wild.to_string(), "*.example.com");
        assert!("".parse::<HostPattern>().is_err());
        assert!("a b".parse::<HostPattern>().is_err());
        assert!("http://x".parse::<HostPattern>().is_err());
    }
}
