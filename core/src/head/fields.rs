//! The meaning of the fields that govern framing and connection handling:
//! Content-Length, Transfer-Encoding, Connection, Host, Expect, Upgrade.
//! Pure functions over field values, shared by parsing and encoding.

/// `tchar` of RFC 9110 section 5.6.2.
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
        b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `s` is a non-empty token.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Trims optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The non-empty elements of a comma-separated list (RFC 9110 section
/// 5.6.1), trimmed. Empty elements are ignored, as recipients must.
pub(crate) fn list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Parses one Content-Length field value into the values it lists.
/// `1*DIGIT` per element; a sign, a hex prefix, inner spaces or overflow
/// are errors. Returns the single value, or `None` if invalid or, unless
/// `identical_ok`, if it lists more than one value.
pub(crate) fn content_length<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
    identical_ok: bool,
) -> Option<u64> {
    let mut found: Option<u64> = None;
    for value in values {
        let mut elements = 0;
        for element in value.split(|&b| b == b',') {
            let element = trim_ows(element);
            let n = decimal(element)?;
            elements += 1;
            match found {
                None => found = Some(n),
                Some(prev) if identical_ok && prev == n => {}
                Some(_) => return None,
            }
        }
        if elements == 0 {
            return None;
        }
    }
    found
}

/// `1*DIGIT` as a u64, `None` on anything else or overflow.
pub(crate) fn decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// What a Transfer-Encoding field says about framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codings {
    /// Chunked is the final and only coding.
    Chunked,
    /// Chunked is final, other codings precede it.
    ChunkedAfterOthers,
    /// The final coding is not chunked (chunked does not appear).
    NotChunked,
    /// Not a list of transfer-codings, empty, or chunked not last / twice.
    Invalid,
}

/// Classifies the combined Transfer-Encoding values.
pub(crate) fn transfer_codings<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Codings {
    let mut count = 0usize;
    let mut chunked_at = None;
    for value in values {
        for element in list(value) {
            // transfer-coding = token *( OWS ";" OWS transfer-parameter )
            let name = trim_ows(element.split(|&b| b == b';').next().unwrap_or(element));
            if !is_token(name) || !params_ok(element) {
                return Codings::Invalid;
            }
            if name.eq_ignore_ascii_case(b"chunked") {
                if chunked_at.is_some() {
                    return Codings::Invalid;
                }
                chunked_at = Some(count);
            }
            count += 1;
        }
    }
    match chunked_at {
        _ if count == 0 => Codings::Invalid,
        Some(i) if i + 1 != count => Codings::Invalid,
        Some(0) => Codings::Chunked,
        Some(_) => Codings::ChunkedAfterOthers,
        None => Codings::NotChunked,
    }
}

/// `*( OWS ";" OWS token "=" ( token / quoted-string ) )` after the name.
fn params_ok(element: &[u8]) -> bool {
    element.split(|&b| b == b';').skip(1).all(|p| {
        let p = trim_ows(p);
        match p.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let (name, value) = (&p[..eq], &p[eq + 1..]);
                is_token(name) && (is_token(value) || is_quoted_string(value))
            }
            None => false,
        }
    })
}

/// A whole `quoted-string` (RFC 9110 section 5.6.4).
pub(crate) fn is_quoted_string(s: &[u8]) -> bool {
    quoted_string_len(s) == Some(s.len())
}

/// Length of the quoted-string at the start of `s`, if there is one.
pub(crate) fn quoted_string_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                let next = *s.get(i + 1)?;
                if !(next == b'\t' || next == b' ' || (0x21..=0x7e).contains(&next) || next >= 0x80) {
                    return None;
                }
                i += 2;
            }
            b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => i += 1,
            _ => return None,
        }
    }
    None
}

/// Connection options that matter to HTTP/1.1 framing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConnectionOptions {
    pub close: bool,
    pub keep_alive: bool,
    pub upgrade: bool,
}

impl ConnectionOptions {
    /// Adds the options of one Connection field value (case-insensitive).
    pub(crate) fn add(&mut self, value: &[u8]) {
        for token in list(value) {
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else if token.eq_ignore_ascii_case(b"upgrade") {
                self.upgrade = true;
            }
        }
    }

    /// Whether the connection persists after this message (RFC 9112
    /// section 9.3).
    pub(crate) fn persists(&self, http10: bool) -> bool {
        !self.close && (!http10 || self.keep_alive)
    }
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 section 7.2), allowing the
/// empty value a client sends when the target has no authority.
pub(crate) fn is_valid_host(v: &[u8]) -> bool {
    v.is_empty() || is_plain_host(v) || host_by_grammar(v)
}

/// `uri-host [ ":" port ]`, every form.
fn host_by_grammar(v: &[u8]) -> bool {
    let (host, port) = split_host_port(v);
    port.is_none_or(|p| p.iter().all(u8::is_ascii_digit)) && is_valid_uri_host(host)
}

/// The common case of a Host in one pass: a reg-name (an IPv4 address is
/// one) without percent-encoding, then an optional `":" port`. A value
/// this accepts, the general rule accepts too; anything else is left to it.
fn is_plain_host(v: &[u8]) -> bool {
    let name = v.iter().take_while(|&&b| REG_NAME[usize::from(b)]).count();
    match &v[name..] {
        [] => true,
        [b':', port @ ..] => port.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// `authority-form = uri-host ":" port` (RFC 9112 section 3.2.3).
pub(crate) fn is_valid_authority_form(v: &[u8]) -> bool {
    let (host, port) = split_host_port(v);
    matches!(port, Some(p) if !p.is_empty() && p.iter().all(u8::is_ascii_digit))
        && !host.is_empty()
        && is_valid_uri_host(host)
}

fn split_host_port(v: &[u8]) -> (&[u8], Option<&[u8]>) {
    if v.first() == Some(&b'[') {
        match v.iter().position(|&b| b == b']') {
            Some(close) => match &v[close + 1..] {
                [] => (v, None),
                [b':', port @ ..] => (&v[..=close], Some(port)),
                _ => (v, Some(b"x")), // junk after the literal: invalid port
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

/// `uri-host = IP-literal / IPv4address / reg-name` (RFC 3986 section 3.2.2).
fn is_valid_uri_host(h: &[u8]) -> bool {
    if let [b'[', inner @ .., b']'] = h {
        // IPv6address / IPvFuture: hex digits, colons, dots (IPv4 tail),
        // and the IPvFuture `v` form's unreserved / sub-delims.
        return !inner.is_empty()
            && inner.iter().all(|&b| {
                b.is_ascii_hexdigit() || b == b':' || b == b'.' || is_unreserved(b) || is_sub_delim(b)
            });
    }
    // reg-name = *( unreserved / pct-encoded / sub-delims ); IPv4 fits it.
    if h.iter().all(|&b| REG_NAME[usize::from(b)]) {
        return true; // the common case: no percent-encoding
    }
    let mut i = 0;
    while i < h.len() {
        match h[i] {
            b'%' => {
                if h.len() < i + 3 || !h[i + 1].is_ascii_hexdigit() || !h[i + 2].is_ascii_hexdigit() {
                    return false;
                }
                i += 3;
            }
            b if REG_NAME[usize::from(b)] => i += 1,
            _ => return false,
        }
    }
    true
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

const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_table() {
        let cases: &[(&[&[u8]], bool, Option<u64>)] = &[
            (&[b"5"], false, Some(5)),
            (&[b"0"], false, Some(0)),
            (&[b"18446744073709551615"], false, Some(u64::MAX)),
            (&[b"18446744073709551616"], false, None),
            (&[b"+5"], false, None),
            (&[b"-1"], false, None),
            (&[b"0x10"], false, None),
            (&[b"1 2"], false, None),
            (&[b""], false, None),
            (&[b"5, 5"], false, None),
            (&[b"5, 5"], true, Some(5)),
            (&[b"5", b"5"], false, None),
            (&[b"5", b"5"], true, Some(5)),
            (&[b"5", b"6"], true, None),
            (&[b"5,"], true, None),
        ];
        for (values, lenient, want) in cases {
            assert_eq!(
                content_length(values.iter().copied(), *lenient),
                *want,
                "{values:?}"
            );
        }
    }

    #[test]
    fn transfer_coding_table() {
        use Codings::*;
        let cases: &[(&[&[u8]], Codings)] = &[
            (&[b"chunked"], Chunked),
            (&[b"Chunked"], Chunked),
            (&[b"gzip, chunked"], ChunkedAfterOthers),
            (&[b"gzip", b"chunked"], ChunkedAfterOthers),
            (&[b"chunked, identity"], Invalid),
            (&[b"chunked", b"identity"], Invalid),
            (&[b"chunked, chunked"], Invalid),
            (&[b"\"chunked\""], Invalid),
            (&[b"gzip"], NotChunked),
            (&[b""], Invalid),
            (&[b"chunked;q=1"], Chunked),
            (&[b"chunked;q"], Invalid),
            (&[b"chu nked"], Invalid),
        ];
        for (values, want) in cases {
            assert_eq!(transfer_codings(values.iter().copied()), *want, "{values:?}");
        }
    }

    #[test]
    fn plain_host_path_agrees_with_the_grammar() {
        // Every string of up to 4 bytes over an alphabet with each kind of
        // byte that matters.
        let alphabet = b"a1:%@[] ,.-";
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<u8>> = strings
                .iter()
                .filter(|s| s.len() == strings.last().map_or(0, Vec::len))
                .flat_map(|s| alphabet.iter().map(move |&b| [s.as_slice(), &[b]].concat()))
                .collect();
            strings.extend(longer);
        }
        assert!(strings.len() > 10_000);
        for v in &strings {
            assert_eq!(
                is_valid_host(v),
                v.is_empty() || host_by_grammar(v),
                "{:?}",
                v.escape_ascii().to_string()
            );
        }
    }

    #[test]
    fn host_table() {
        for ok in [
            &b"example.com"[..],
            b"example.com:8080",
            b"[::1]:8080",
            b"[::1]",
            b"",
            b"127.0.0.1",
            b"a%20b",
            b"a,b",
        ] {
            assert!(is_valid_host(ok), "{ok:?}");
        }
        for bad in [
            &b"a.example, b.example"[..],
            b"user@example.com",
            b"a b",
            b"[::1",
            b"[::1]x",
            b"host:80x",
            b"a%2",
        ] {
            assert!(!is_valid_host(bad), "{bad:?}");
        }
        assert!(is_valid_authority_form(b"example.com:443"));
        assert!(is_valid_authority_form(b"[2001:db8::1]:443"));
        for bad in [&b"example.com"[..], b"example.com:", b":443", b"u@h:443"] {
            assert!(!is_valid_authority_form(bad), "{bad:?}");
        }
    }

    #[test]
    fn connection_options() {
        let mut o = ConnectionOptions::default();
        o.add(b"Keep-Alive, UPGRADE");
        assert!(o.keep_alive && o.upgrade && !o.close);
        assert!(o.persists(true) && o.persists(false));
        o.add(b"close");
        assert!(!o.persists(false));
        assert!(!ConnectionOptions::default().persists(true));
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(quoted_string_len(b"\"a b;c\"rest"), Some(7));
        assert_eq!(quoted_string_len(b"\"a\\\"b\""), Some(6));
        assert_eq!(quoted_string_len(b"\"open"), None);
        assert_eq!(quoted_string_len(b"\"a\x00\""), None);
    }
}
