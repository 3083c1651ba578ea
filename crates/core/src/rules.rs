//! Auto-approve rules: which sites may be paid without asking, up to what, and which never.
//!
//! A rule matches a site (a host, `*.example.com`, or `*`, and an optional path prefix)
//! and optionally a network, an asset and a payee. The most specific matching rule wins:
//! an exact host over a wildcard, a longer wildcard over a shorter one, then a deny rule
//! that names nothing but the site (what "Block site" makes: it blocks the site, whatever
//! narrower rules say for it), a longer path prefix, then more of network / asset / payee
//! named; between equals, the more cautious action (deny, then ask, then allow). When no
//! rule matches, Purse asks.

use std::{fmt, str::FromStr};

use crate::money::Usd;

/// What a rule does with a payment it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Refuse without asking.
    Deny,
    /// Ask the user.
    Ask,
    /// Pay without asking, within the rule's limits.
    Allow,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Ask => "ask",
            Self::Allow => "allow",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "deny" => Ok(Self::Deny),
            "ask" => Ok(Self::Ask),
            "allow" => Ok(Self::Allow),
            other => Err(format!("{other:?} is not an action (allow, ask or deny)")),
        }
    }
}

/// An allow rule's limits, in dollars; `None` is no limit of that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// The most one payment may cost.
    pub max_per_payment: Option<Usd>,
    /// Per local calendar day.
    pub daily: Option<Usd>,
    /// Per week, from Monday.
    pub weekly: Option<Usd>,
    /// Per local calendar month.
    pub monthly: Option<Usd>,
    /// Over the rule's life.
    pub total: Option<Usd>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its id in the database (0 before it is stored).
    pub id: i64,
    /// `api.example.com`, `*.example.com` or `*`, lowercase.
    pub host: String,
    /// A path prefix such as `/v1/`, or none for the whole site.
    pub path_prefix: Option<String>,
    /// A CAIP-2 network id (`eip155:8453`).
    pub network: Option<String>,
    /// A token address, checksummed.
    pub asset: Option<String>,
    /// A payee address, checksummed.
    pub pay_to: Option<String>,
    /// What it does.
    pub action: Action,
    /// Its limits (allow rules).
    pub limits: Limits,
}

/// What a payment is, as rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The request's host, lowercase.
    pub host: &'a str,
    /// The request's path, as sent.
    pub path: &'a str,
    /// CAIP-2 network id.
    pub network: &'a str,
    /// Token address, checksummed.
    pub asset: &'a str,
    /// Payee, checksummed.
    pub pay_to: &'a str,
}

/// Why a rule cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

/// Lowercases a host pattern and checks its form: `*`, `*.example.com` or a host name.
pub fn normalize_host(pattern: &str) -> Result<String, RuleError> {
    let raw = pattern.trim().to_ascii_lowercase();
    let host = raw.strip_suffix('.').unwrap_or(&raw).to_owned();
    let name = raw.strip_prefix("*.").map_or(host.as_str(), |n| n.strip_suffix('.').unwrap_or(n));
    let valid = raw == "*"
        || (!name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':')
            }));
    if valid {
        Ok(host)
    } else {
        Err(RuleError(format!(
            "{pattern:?} is not a site: use api.example.com, *.example.com or *"
        )))
    }
}

/// A path in RFC 3986's normal form (6.2.2, 5.2.4), so that a rule's prefix and a request's
/// path compare however either is spelled: escapes of unreserved characters decoded (`%61`
/// is `a`, `%2E` is `.`), other escapes in upper case, what a path cannot hold as it is
/// (non-ASCII, spaces) escaped as UTF-8, and `.` and `..` segments removed. `/free/../paid`
/// is `/paid`; `/café` is `/caf%C3%A9`.
pub fn normalize_path(path: &str) -> String {
    normalize(path, false)
}

/// The ways a server may read a request's path, for [`select`]: as sent (Express and
/// hyper-based servers route on it), normalized ([`normalize_path`]), and as nginx reads it
/// (`%2F` decoded to `/` and runs of `/` merged as well). Without repeats; the first is the
/// path as sent.
pub fn path_readings(path: &str) -> Vec<String> {
    let mut readings = vec![path.to_owned()];
    for reading in [normalize(path, false), normalize(path, true)] {
        if !readings.contains(&reading) {
            readings.push(reading);
        }
    }
    readings
}

fn normalize(path: &str, like_nginx: bool) -> String {
    let bytes = path.as_bytes();
    let mut decoded = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                decoded.push(char::from(b));
            }
            Some(b'/') if like_nginx => decoded.push('/'),
            Some(b) => decoded.push_str(&format!("%{b:02X}")),
            None => {
                let c = path[i..].chars().next().unwrap_or_default();
                if c.is_ascii_graphic() {
                    decoded.push(c);
                } else {
                    for b in c.to_string().bytes() {
                        decoded.push_str(&format!("%{b:02X}"));
                    }
                }
                i += c.len_utf8();
                continue;
            }
        }
        i += 3;
    }
    let mut segments: Vec<&str> = Vec::new();
    let mut parts = decoded.split('/').skip(usize::from(decoded.starts_with('/'))).peekable();
    while let Some(segment) = parts.next() {
        let last = parts.peek().is_none();
        match segment {
            "." | ".." => {
                if segment == ".." {
                    segments.pop();
                }
                // `/a/b/..` is the directory `/a/`.
                if last {
                    segments.push("");
                }
            }
            // nginx merges `//` (its merge_slashes, on by default).
            "" if like_nginx && !last => {}
            other => segments.push(other),
        }
    }
    format!("/{}", segments.join("/"))
}

/// Whether `prefix` covers `path` at a segment boundary: `/v1` covers `/v1` and `/v1/x`
/// but not `/v10`; `/v1/` covers what is under it.
/// The prefix is normalized first, as rules stored before prefixes were may not be.
fn path_covers(prefix: &str, path: &str) -> bool {
    let prefix = normalize_path(prefix);
    path.strip_prefix(prefix.as_str())
        .is_some_and(|rest| rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'))
}

impl Rule {
    fn host_matches(&self, host: &str) -> bool {
        match self.host.strip_prefix("*.") {
            _ if self.host == "*" => true,
            Some(suffix) => {
                host.len() > suffix.len() + 1 && host.ends_with(suffix) && {
                    host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                }
            }
            None => self.host == host,
        }
    }

    /// Whether the rule applies to `target`.
    pub fn matches(&self, target: &Target<'_>) -> bool {
        let same = |wanted: &Option<String>, actual: &str| {
            wanted.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(actual))
        };
        self.host_matches(target.host)
            && self.path_prefix.as_deref().is_none_or(|p| path_covers(p, target.path))
            && same(&self.network, target.network)
            && same(&self.asset, target.asset)
            && same(&self.pay_to, target.pay_to)
    }

    /// A deny rule that names only its site: no narrower rule for the same site overrides
    /// it (a more specific host still does).
    fn blocks_site(&self) -> bool {
        self.action == Action::Deny
            && self.path_prefix.is_none()
            && self.network.is_none()
            && self.asset.is_none()
            && self.pay_to.is_none()
    }

    /// Higher is more specific.
    fn specificity(&self) -> (u8, usize, bool, usize, usize) {
        let host = match &self.host {
            h if h == "*" => (0, 0),
            h if h.starts_with("*.") => (1, h.len()),
            h => (2, h.len()),
        };
        let named =
            [&self.network, &self.asset, &self.pay_to].iter().filter(|f| f.is_some()).count();
        let path = self.path_prefix.as_deref().map_or(0, str::len);
        (host.0, host.1, self.blocks_site(), path, named)
    }
}

/// The most specific rule matching `target` as it stands, the more cautious between equals.
fn most_specific<'r>(rules: &'r [Rule], target: &Target<'_>) -> Option<&'r Rule> {
    rules
        .iter()
        .filter(|rule| rule.matches(target))
        // Max specificity; among equals the smallest action (deny < ask < allow).
        .max_by(|a, b| a.specificity().cmp(&b.specificity()).then_with(|| b.action.cmp(&a.action)))
}

/// The rule that decides `target`: the most specific match, the more cautious between
/// equals, for each way a server may read its path ([`path_readings`]). When the readings
/// disagree, the most cautious: a deny rule that any reading selects, else an ask rule,
/// else none, so no spelling of a path dodges a deny or stretches an allow. `None`: Purse
/// asks.
pub fn select<'r>(rules: &'r [Rule], target: &Target<'_>) -> Option<&'r Rule> {
    let chosen: Vec<Option<&Rule>> = path_readings(target.path)
        .iter()
        .map(|path| most_specific(rules, &Target { path, ..*target }))
        .collect();
    let first = chosen.first().copied().flatten();
    if chosen.iter().all(|c| *c == first) {
        return first;
    }
    chosen.into_iter().flatten().filter(|r| r.action != Action::Allow).min_by_key(|r| r.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, host: &str, action: Action) -> Rule {
        Rule {
            id,
            host: normalize_host(host).unwrap(),
            path_prefix: None,
            network: None,
            asset: None,
            pay_to: None,
            action,
            limits: Limits::default(),
        }
    }

    const TARGET: Target<'static> = Target {
        host: "api.example.com",
        path: "/v1/weather",
        network: "eip155:8453",
        asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        pay_to: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
    };

    #[test]
    fn hosts_match_exactly_or_below_a_wildcard() {
        let table = [
            ("api.example.com", "api.example.com", true),
            ("API.example.com.", "api.example.com", true),
            ("*.example.com", "api.example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "badexample.com", false),
            ("example.com", "api.example.com", false),
            ("*", "anything.test", true),
        ];
        for (pattern, host, expected) in table {
            let target = Target { host, ..TARGET };
            assert_eq!(
                rule(1, pattern, Action::Allow).matches(&target),
                expected,
                "{pattern} {host}"
            );
        }
        for bad in ["", "*.", "a..b", "exa mple.com", "**.x"] {
            assert!(normalize_host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths_are_normalized_and_prefixes_end_at_a_segment() {
        for (path, normalized) in [
            ("", "/"),
            ("/", "/"),
            ("/v1/weather", "/v1/weather"),
            ("/free/../paid", "/paid"),
            ("/free/%2e%2E/paid", "/paid"),
            ("/./a/./b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/../../a", "/a"),
            ("/%61dmin", "/admin"),
            ("/a%2fb", "/a%2Fb"),
            ("/a%zz%4", "/a%zz%4"),
            ("/caf\u{e9}/%c3%a9", "/caf%C3%A9/%C3%A9"),
            ("/a b/%+5", "/a%20b/%+5"),
            ("/a//b", "/a//b"),
        ] {
            assert_eq!(normalize_path(path), normalized, "{path}");
        }
        let mut prefixed = rule(1, "api.example.com", Action::Deny);
        for (prefix, path, expected) in [
            ("/v1", "/v1", true),
            ("/v1", "/v1/weather", true),
            ("/v1", "/v10/weather", false),
            ("/v1/", "/v1/weather", true),
            ("/v1/", "/v1", false),
            ("/", "/anything", true),
            ("/admin", &normalize_path("/free/../%61dmin/users"), true),
        ] {
            prefixed.path_prefix = Some(prefix.into());
            let target = Target { path, ..TARGET };
            assert_eq!(prefixed.matches(&target), expected, "{prefix} {path}");
        }
    }

    #[test]
    fn every_reading_of_a_path_must_agree_or_the_most_cautious_rule_decides() {
        let prefixed = |id, prefix: &str, action| Rule {
            path_prefix: Some(prefix.into()),
            ..rule(id, "api.example.com", action)
        };
        let rules = [prefixed(1, "/premium/", Action::Deny), prefixed(2, "/cheap/", Action::Allow)];
        let decided = |path: &str| select(&rules, &Target { path, ..TARGET }).map(|r| r.id);
        // Express serves `/premium/../x` under /premium; RFC 3986 reads it as /x.
        assert_eq!(decided("/premium/../anything"), Some(1));
        // Read as /cheap/x by one server and as /premium/../cheap/x by another: denied.
        assert_eq!(decided("/premium/../cheap/x"), Some(1));
        // /cheap/x by one, /other/../cheap/x by another: not every reading allows, so asked.
        assert_eq!(decided("/other/../cheap/x"), None);
        // nginx decodes %2F and merges slashes.
        for path in ["//premium/x", "/premium%2Fx", "/free%2F..%2Fpremium%2Fx", "/%70remium/x"] {
            assert_eq!(decided(path), Some(1), "{path}");
        }
        assert_eq!(decided("/cheap/report"), Some(2));
        assert_eq!(decided("/other"), None);
        assert_eq!(path_readings("/cheap/report"), ["/cheap/report"]);
        // A prefix stored before prefixes were normalized still matches.
        let old = [prefixed(3, "/%7euser/", Action::Deny)];
        let target = Target { path: "/~user/x", ..TARGET };
        assert_eq!(select(&old, &target).map(|r| r.id), Some(3));
    }

    #[test]
    fn blocking_a_site_beats_narrower_rules_for_it_but_not_a_more_specific_host() {
        let block = rule(1, "api.example.com", Action::Deny);
        let mut on_path = rule(2, "api.example.com", Action::Allow);
        on_path.path_prefix = Some("/v1/".into());
        let mut pinned = rule(3, "api.example.com", Action::Allow);
        pinned.network = Some(TARGET.network.into());
        pinned.asset = Some(TARGET.asset.into());
        let mut deny_path = rule(4, "api.example.com", Action::Deny);
        deny_path.path_prefix = Some("/v1/".into());
        let table: [(Vec<Rule>, i64); 5] = [
            (vec![on_path.clone(), block.clone()], 1),
            (vec![pinned.clone(), block.clone()], 1),
            // A deny that names a path is an exception like any other, not a block.
            (vec![rule(5, "api.example.com", Action::Allow), deny_path], 4),
            (vec![on_path, pinned, rule(6, "*.example.com", Action::Deny)], 2),
            (
                vec![
                    rule(7, "*.example.com", Action::Deny),
                    rule(8, "api.example.com", Action::Allow),
                ],
                8,
            ),
        ];
        for (rules, expected) in table {
            assert_eq!(select(&rules, &TARGET).map(|r| r.id), Some(expected), "{rules:?}");
        }
    }

    #[test]
    fn the_most_specific_rule_wins_and_caution_breaks_ties() {
        let mut path = rule(4, "api.example.com", Action::Deny);
        path.path_prefix = Some("/v1/".into());
        let mut payee = rule(5, "api.example.com", Action::Ask);
        payee.pay_to = Some(TARGET.pay_to.into());
        let mut elsewhere = rule(6, "api.example.com", Action::Deny);
        elsewhere.network = Some("eip155:1".into());
        let table: [(Vec<Rule>, Option<i64>); 7] = [
            (vec![], None),
            (vec![rule(1, "*", Action::Allow)], Some(1)),
            (vec![rule(1, "*", Action::Allow), rule(2, "*.example.com", Action::Deny)], Some(2)),
            (
                vec![
                    rule(2, "*.example.com", Action::Deny),
                    rule(3, "api.example.com", Action::Allow),
                ],
                Some(3),
            ),
            (vec![rule(3, "api.example.com", Action::Allow), path.clone()], Some(4)),
            (vec![rule(3, "api.example.com", Action::Allow), payee, elsewhere], Some(5)),
            (
                vec![
                    rule(7, "api.example.com", Action::Allow),
                    rule(8, "api.example.com", Action::Ask),
                ],
                Some(8),
            ),
        ];
        for (rules, expected) in table {
            assert_eq!(select(&rules, &TARGET).map(|r| r.id), expected, "{rules:?}");
        }
    }
}
