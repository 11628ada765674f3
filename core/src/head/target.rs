//! The request-target (RFC 9112 section 3.2) and the Host field (RFC 9110
//! section 7.2), by the URI grammar of RFC 3986. Pure functions over the
//! bytes as received: a target is accepted exactly as it arrived or
//! refused, never rewritten.

/// The form of a request-target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetForm {
    /// `absolute-path [ "?" query ]`: `/where?q`.
    Origin,
    /// An absolute URI with an authority: `http://host/where?q`.
    Absolute,
    /// `uri-host ":" port`, for CONNECT only.
    Authority,
    /// `*`, for OPTIONS only.
    Asterisk,
}

/// The form of `target` when it is valid for a request with `method`
/// (RFC 9112 section 3.2): CONNECT takes the authority-form only, `*` is
/// for OPTIONS only, every other request takes the origin- or
/// absolute-form. `None`: the target is invalid for it.
pub(crate) fn target_form(method: &[u8], target: &[u8]) -> Option<TargetForm> {
    if method == b"CONNECT" {
        return is_authority_form(target).then_some(TargetForm::Authority);
    }
    match target.first()? {
        b'/' => is_origin_form(target).then_some(TargetForm::Origin),
        b'*' if target.len() == 1 => (method == b"OPTIONS").then_some(TargetForm::Asterisk),
        _ => is_absolute_form(target).then_some(TargetForm::Absolute),
    }
}

/// `origin-form = absolute-path [ "?" query ]` (RFC 9112 section 3.2.1;
/// `absolute-path = 1*( "/" segment )`, RFC 9110 section 4.1). Path and
/// query hold `pchar`s, `/`, and (in the query) `?`; a `#` fragment,
/// whitespace, controls and non-ASCII bytes are not part of it.
pub(crate) fn is_origin_form(target: &[u8]) -> bool {
    target.first() == Some(&b'/') && is_path_and_query(target)
}

/// `path-abempty [ "?" query ]`: every byte a `pchar`, `/` or `?`, with
/// each `%` starting a valid escape. (The path's bytes are the query's,
/// less `?`, which ends the path.)
pub(crate) fn is_path_and_query(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'%' {
            if !is_escape(&s[i..]) {
                return false;
            }
            i += 3;
        } else if PATH_QUERY[usize::from(b)] {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// `absolute-form` (RFC 9112 section 3.2.2), held to the URIs a request
/// can name: `scheme "://" authority path-abempty [ "?" query ]`. For
/// `http` and `https` the host must not be empty and there is no userinfo
/// (RFC 9110 sections 4.2.1 to 4.2.4).
pub(crate) fn is_absolute_form(target: &[u8]) -> bool {
    let Some(colon) = target.iter().position(|&b| b == b':') else {
        return false;
    };
    let scheme = &target[..colon];
    let Some(rest) = target[colon..].strip_prefix(b"://") else {
        return false;
    };
    if !is_scheme(scheme) {
        return false;
    }
    let authority_end = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let http = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    let host_port = match authority.iter().rposition(|&b| b == b'@') {
        Some(_) if http => return false,
        Some(at) if !is_userinfo(&authority[..at]) => return false,
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let (host, port) = split_host_port(host_port);
    port.is_none_or(is_port) && is_uri_host(host) && !(http && host.is_empty()) && is_path_and_query(path)
}

/// `authority-form = uri-host ":" port` (RFC 9112 section 3.2.3), with a
/// host and a port number both present: 1 to 65535 (RFC 9110 section
/// 9.3.6: a server MUST reject an empty or invalid port).
pub(crate) fn is_authority_form(target: &[u8]) -> bool {
    let (host, port) = split_host_port(target);
    matches!(port, Some(p) if !p.is_empty() && is_port(p) && p.iter().any(|&d| d != b'0'))
        && !host.is_empty()
        && is_uri_host(host)
}

/// Whether a Host value names no host (empty, or only a port): fine when
/// the target carries the authority, not otherwise (RFC 9110 section
/// 4.2.1: an `http` URI with an empty host is invalid).
pub(crate) fn is_empty_host(v: &[u8]) -> bool {
    split_host_port(v).0.is_empty()
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 section 7.2), allowing the
/// empty value a client sends when the target has no authority.
pub(crate) fn is_valid_host(v: &[u8]) -> bool {
    v.is_empty() || is_plain_host(v) || {
        let (host, port) = split_host_port(v);
        port.is_none_or(is_port) && is_uri_host(host)
    }
}

/// The common case of a Host in one pass: a reg-name (an IPv4 address is
/// one) without percent-encoding, then an optional `":" port`. A value
/// this accepts, the grammar accepts too; anything else is left to it.
fn is_plain_host(v: &[u8]) -> bool {
    let name = v.iter().take_while(|&&b| REG_NAME[usize::from(b)]).count();
    match &v[name..] {
        [] => true,
        [b':', port @ ..] => is_port(port),
        _ => false,
    }
}

/// `port = *DIGIT`, a number a port can be (at most 65535).
fn is_port(p: &[u8]) -> bool {
    let digits = p.iter().skip_while(|&&d| d == b'0');
    p.iter().all(u8::is_ascii_digit)
        && digits.clone().count() <= 5
        && digits.fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 65535
}

/// Splits `host [":" port]`, the host possibly an IP-literal in brackets.
/// Junk after a literal's `]` comes back as an invalid port.
fn split_host_port(v: &[u8]) -> (&[u8], Option<&[u8]>) {
    if v.first() == Some(&b'[') {
        match v.iter().position(|&b| b == b']') {
            Some(close) => match &v[close + 1..] {
                [] => (v, None),
                [b':', port @ ..] => (&v[..=close], Some(port)),
                _ => (v, Some(b"x")),
            },
            None => (v, None),
        }
    } else {
        match v.iter().rposition(|&b| b == b':') {
            Some(colon) => (&v[..colon], Some(&v[colon + 1..])),
            None => (v, None),
        }
    }
}

/// `uri-host = IP-literal / IPv4address / reg-name` (RFC 3986 section
/// 3.2.2). An IPv4 address is also a reg-name.
fn is_uri_host(h: &[u8]) -> bool {
    match h {
        [b'[', inner @ .., b']'] => is_ipv6(inner) || is_ipv_future(inner),
        _ => is_reg_name(h),
    }
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`.
fn is_reg_name(h: &[u8]) -> bool {
    let mut i = 0;
    while i < h.len() {
        match h[i] {
            b'%' if is_escape(&h[i..]) => i += 3,
            b if REG_NAME[usize::from(b)] => i += 1,
            _ => return false,
        }
    }
    true
}

/// `userinfo = *( unreserved / pct-encoded / sub-delims / ":" )`.
fn is_userinfo(u: &[u8]) -> bool {
    u.split(|&b| b == b':').all(is_reg_name)
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &[u8]) -> bool {
    matches!(s.first(), Some(b) if b.is_ascii_alphabetic())
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `pct-encoded = "%" HEXDIG HEXDIG` at the start of `s`.
fn is_escape(s: &[u8]) -> bool {
    matches!(s, [b'%', a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit())
}

/// `IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )`.
fn is_ipv_future(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b"v").or_else(|| s.strip_prefix(b"V")) else {
        return false;
    };
    let hex = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    match rest[hex..].split_first() {
        Some((b'.', tail)) if hex > 0 && !tail.is_empty() => {
            tail.iter().all(|&b| REG_NAME[usize::from(b)] || b == b':')
        }
        _ => false,
    }
}

/// `IPv6address` (RFC 3986 section 3.2.2): eight 16-bit pieces of 1 to 4
/// hex digits, the last two possibly an IPv4 address, with at most one
/// `::` standing for one or more zero pieces.
fn is_ipv6(s: &[u8]) -> bool {
    let (head, tail) = match find_double_colon(s) {
        Some(at) => (&s[..at], Some(&s[at + 2..])),
        None => (s, None),
    };
    let count = |part: &[u8], last: bool| -> Option<usize> {
        if part.is_empty() {
            return Some(0);
        }
        let pieces: Vec<&[u8]> = part.split(|&b| b == b':').collect();
        let mut n = 0;
        for (i, p) in pieces.iter().enumerate() {
            if last && i + 1 == pieces.len() && p.contains(&b'.') {
                if !is_ipv4(p) {
                    return None;
                }
                n += 2;
            } else if (1..=4).contains(&p.len()) && p.iter().all(u8::is_ascii_hexdigit) {
                n += 1;
            } else {
                return None;
            }
        }
        Some(n)
    };
    match tail {
        None => count(head, true) == Some(8),
        Some(tail) => match (count(head, false), count(tail, true)) {
            (Some(a), Some(b)) => a + b <= 7,
            _ => false,
        },
    }
}

fn find_double_colon(s: &[u8]) -> Option<usize> {
    s.windows(2).position(|w| w == b"::")
}

/// `IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet`.
fn is_ipv4(s: &[u8]) -> bool {
    let mut parts = 0;
    for part in s.split(|&b| b == b'.') {
        parts += 1;
        let ok = match part {
            [d] => d.is_ascii_digit(),
            [b'1'..=b'9', d] => d.is_ascii_digit(),
            [b'1', a, b] => a.is_ascii_digit() && b.is_ascii_digit(),
            [b'2', b'0'..=b'4', d] => d.is_ascii_digit(),
            [b'2', b'5', b'0'..=b'5'] => true,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    parts == 4
}

const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Bytes a reg-name holds as they are: unreserved and sub-delims.
static REG_NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_unreserved(b as u8) || is_sub_delim(b as u8);
        b += 1;
    }
    table
};

/// Bytes a path or query holds as they are: `pchar` (unreserved,
/// sub-delims, `:` and `@`), `/` and `?` (`%` is checked apart).
static PATH_QUERY: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = is_unreserved(c) || is_sub_delim(c) || matches!(c, b':' | b'@' | b'/' | b'?');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_form_octets() {
        for ok in [
            &b"/"[..],
            b"/a/b;c=d/e:f@g!$&'()*+,~-._",
            b"/p?q=1&r=/s?t",
            b"/%20%C3%a9",
            b"//double",
            b"/?",
        ] {
            assert!(is_origin_form(ok), "{}", ok.escape_ascii());
        }
        for bad in [
            &b""[..],
            b"a/b",
            b"/a#frag",
            b"/a b",
            b"/%",
            b"/%2",
            b"/%zz",
            b"/\xc3\xa9",
            b"/a\"b",
            b"/a<b>",
            b"/{x}",
            b"/a|b",
            b"/a\\b",
            b"/a^b",
            b"/a`b",
            b"/a[b]",
            b"/\x7f",
            b"/\x00",
        ] {
            assert!(!is_origin_form(bad), "{}", bad.escape_ascii());
        }
        // Every byte, alone in a path: exactly the pchars, `/` and `?`.
        for b in 0..=255u8 {
            let target = [b'/', b];
            let want = is_unreserved(b) || is_sub_delim(b) || b":@/?".contains(&b);
            assert_eq!(is_origin_form(&target), want, "{b:#04x}");
        }
    }

    #[test]
    fn target_forms_by_method() {
        use TargetForm::*;
        let cases: &[(&[u8], &[u8], Option<TargetForm>)] = &[
            (b"GET", b"/x", Some(Origin)),
            (b"GET", b"http://example.com", Some(Absolute)),
            (b"GET", b"http://example.com:8080/a?b", Some(Absolute)),
            (b"GET", b"HTTPS://[::1]/", Some(Absolute)),
            (b"GET", b"ftp://u:p@host/file", Some(Absolute)),
            (b"GET", b"http://user@example.com/", None),
            (b"GET", b"http:///path", None),
            (b"GET", b"http://a/#f", None),
            (b"GET", b"example.com:80", None),
            (b"GET", b"mailto:a@b", None),
            (b"GET", b"*", None),
            (b"OPTIONS", b"*", Some(Asterisk)),
            (b"OPTIONS", b"/", Some(Origin)),
            (b"OPTIONS", b"**", None),
            (b"CONNECT", b"example.com:443", Some(Authority)),
            (b"CONNECT", b"[2001:db8::1]:443", Some(Authority)),
            (b"CONNECT", b"example.com", None),
            (b"CONNECT", b"example.com:0", None),
            (b"CONNECT", b"example.com:65536", None),
            (b"CONNECT", b"example.com:65535", Some(Authority)),
            (b"GET", b"http://h.example:8a/", None),
            (b"GET", b"http://h.example:65536/", None),
            (b"GET", b"http://[zz]/", None),
            (b"GET", b"http://h.ex%41mple/", Some(Absolute)),
            (b"CONNECT", b"example.com:", None),
            (b"CONNECT", b":443", None),
            (b"CONNECT", b"u@h:443", None),
            (b"CONNECT", b"/", None),
            (b"CONNECT", b"http://example.com:443", None),
        ];
        for (method, target, want) in cases {
            assert_eq!(
                target_form(method, target),
                *want,
                "{} {}",
                method.escape_ascii(),
                target.escape_ascii()
            );
        }
    }

    #[test]
    fn hosts() {
        for ok in [
            &b"example.com"[..],
            b"example.com:8080",
            b"example.com:",
            b"[::1]:8080",
            b"[::1]",
            b"[2001:db8:0:0:1:0:0:1]",
            b"[::ffff:192.0.2.1]",
            b"[v1.fe80::a+en1]",
            b"a:65535",
            b"a:00080",
            b"",
            b"127.0.0.1",
            b"a%20b",
            b"a,b",
        ] {
            assert!(is_valid_host(ok), "{}", ok.escape_ascii());
        }
        for bad in [
            &b"a.example, b.example"[..],
            b"user@example.com",
            b"a b",
            b"[::1",
            b"[::1]x",
            b"[1:2:3:4:5:6:7:8:9]",
            b"[::1::2]",
            b"[12345::]",
            b"[::256.0.0.1]",
            b"[example.com]",
            b"host:80x",
            b"a:65536",
            b"a:99999999999999999999",
            b"a%2",
            b"a\tb",
        ] {
            assert!(!is_valid_host(bad), "{}", bad.escape_ascii());
        }
    }

    #[test]
    fn plain_host_path_agrees_with_the_grammar() {
        // Every string of up to 4 bytes over an alphabet with each kind of
        // byte that matters.
        let alphabet = b"a1:%@[] ,.-";
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|s: &Vec<u8>| alphabet.iter().map(move |&b| [s.as_slice(), &[b]].concat()))
                .collect();
            strings.extend(last.iter().cloned());
        }
        assert!(strings.len() > 16_000);
        for v in &strings {
            if is_plain_host(v) {
                let (host, port) = split_host_port(v);
                assert!(
                    port.is_none_or(is_port) && is_uri_host(host),
                    "{}",
                    v.escape_ascii()
                );
            }
        }
    }

    #[test]
    fn ipv6_forms() {
        for ok in [
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1::8",
            "1:2:3:4:5:6::",
            "::2:3:4:5:6:7:8",
            "::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
        ] {
            assert!(is_ipv6(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            ":",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "1:2:3:4:5:6:7:1.2.3.4",
            "g::",
            "::1.2.3",
            ":1::",
            "1:::2",
        ] {
            assert!(!is_ipv6(bad.as_bytes()), "{bad}");
        }
    }
}
