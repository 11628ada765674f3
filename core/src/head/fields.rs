//! The grammar of field values that govern framing and connection
//! handling: tokens and lists, Content-Length, Transfer-Encoding,
//! Connection options. Pure functions over field values; what the fields
//! mean is [`semantics`](crate::semantics)' to say.

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
/// 5.6.1), trimmed. Empty elements are ignored, as recipients must. A
/// comma inside a quoted-string does not separate.
pub(crate) fn list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    split_unquoted(value, b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// `s` split at each `sep` that is not inside a quoted-string (RFC 9110
/// section 5.6.4). An unterminated quote runs to the end.
fn split_unquoted(s: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let s = rest?;
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'"' => i += quoted_string_len(&s[i..]).unwrap_or(s.len() - i),
                b if b == sep => {
                    rest = Some(&s[i + 1..]);
                    return Some(&s[..i]);
                }
                _ => i += 1,
            }
        }
        rest = None;
        Some(s)
    })
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
    /// The final coding is not chunked (chunked may come before it).
    NotChunked,
    /// Not a list of transfer-codings, empty, chunked applied twice, or a
    /// registered coding with parameters (RFC 9112 sections 7.1 and 7.2:
    /// chunked, gzip, deflate and compress define none, and their presence
    /// SHOULD be treated as an error).
    Invalid,
}

/// Classifies the combined Transfer-Encoding values.
pub(crate) fn transfer_codings<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Codings {
    let mut count = 0usize;
    let mut chunked_at = None;
    for value in values {
        for element in list(value) {
            // transfer-coding = token *( OWS ";" OWS transfer-parameter )
            let mut parts = split_unquoted(element, b';');
            let name = trim_ows(parts.next().unwrap_or_default());
            let mut params = parts.peekable();
            let has_params = params.peek().is_some();
            if !is_token(name) || !params.all(param_ok) {
                return Codings::Invalid;
            }
            let registered = ["chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress"];
            if has_params && registered.iter().any(|r| name.eq_ignore_ascii_case(r.as_bytes())) {
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
        Some(i) if i + 1 != count => Codings::NotChunked,
        Some(0) => Codings::Chunked,
        Some(_) => Codings::ChunkedAfterOthers,
        None => Codings::NotChunked,
    }
}

/// `transfer-parameter = token BWS "=" BWS ( token / quoted-string )`
/// (RFC 9110 section 10.1.4), with the OWS around it.
fn param_ok(p: &[u8]) -> bool {
    let p = trim_ows(p);
    match p.iter().position(|&b| b == b'=') {
        Some(eq) => {
            let (name, value) = (trim_ows(&p[..eq]), trim_ows(&p[eq + 1..]));
            is_token(name) && (is_token(value) || is_quoted_string(value))
        }
        None => false,
    }
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
    pub te: bool,
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
            } else if token.eq_ignore_ascii_case(b"te") {
                self.te = true;
            }
        }
    }

    /// Whether the connection persists after this message (RFC 9112
    /// section 9.3).
    pub(crate) fn persists(&self, http10: bool) -> bool {
        !self.close && (!http10 || self.keep_alive)
    }
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
            (&[b"chunked, identity"], NotChunked),
            (&[b"chunked", b"identity"], NotChunked),
            (&[b"chunked, gzip"], NotChunked),
            (&[b"chunked, chunked"], Invalid),
            (&[b"\"chunked\""], Invalid),
            (&[b"gzip"], NotChunked),
            (&[b""], Invalid),
            (&[b"chunked;q=1"], Invalid),
            (&[b"chunked ; a=b"], Invalid),
            (&[b"gzip;level=9, chunked"], Invalid),
            (&[b"x-custom;level=9, chunked"], ChunkedAfterOthers),
            (&[b"x-custom ; level = \"9\" , chunked"], ChunkedAfterOthers),
            (&[b"x;a=\"b,chunked\", chunked"], ChunkedAfterOthers),
            (&[b"x;a=\"x;y\", chunked"], ChunkedAfterOthers),
            (&[b"x-custom;level"], Invalid),
            (&[b"chu nked"], Invalid),
        ];
        for (values, want) in cases {
            assert_eq!(transfer_codings(values.iter().copied()), *want, "{values:?}");
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
