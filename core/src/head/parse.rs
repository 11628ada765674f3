//! Complete heads (found by the scanner) into `http` types, with the
//! RFC 9112 rules httparse leaves to its caller.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use smallvec::SmallVec;

use super::fields::{self, Codings, ConnectionOptions};
use super::scan::Section;
use crate::config::Config;
use crate::error::{Error, LimitError, ProtocolError};
use crate::event::ReasonPhrase;

/// How a message body is delimited (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Exactly this many bytes (0: no body).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Runs until the connection closes (responses only).
    CloseDelimited,
}

/// What the connection needs to know about a received request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestInfo {
    pub framing: Framing,
    pub persists: bool,
    pub http10: bool,
    pub upgrade: bool,
    pub connect: bool,
    pub head: bool,
    pub expect_continue: bool,
}

/// What the connection needs to know about a received response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResponseInfo {
    pub status: StatusCode,
    pub framing: Framing,
    pub persists: bool,
}

/// The fields that govern framing and persistence, gathered in one pass.
#[derive(Default)]
struct Governing<'a> {
    content_length: SmallVec<[&'a [u8]; 2]>,
    transfer_encoding: SmallVec<[&'a [u8]; 2]>,
    hosts: SmallVec<[&'a [u8]; 1]>,
    connection: ConnectionOptions,
    upgrade: bool,
    expect_continue: bool,
}

/// The field names of the last head read on a connection, by position.
///
/// A peer sends much the same fields in the same order on each request of a
/// connection (a browser, a load balancer, a client library). A name found
/// again at its position is a clone of the one built before: no second
/// lookup in the standard table and, for a name outside it, no second
/// allocation. Any other name is built as usual and takes the place.
///
/// The first head of a connection is not remembered: a connection that
/// carries one message (HTTP/1.0, `connection: close`) would pay for the
/// cache (its vector, and a shared copy of each name outside the table)
/// without using it.
#[derive(Debug, Default)]
pub(crate) struct NameCache {
    names: Vec<HeaderName>,
    /// Whether a head has been read before: only then are names kept.
    warm: bool,
}

impl NameCache {
    /// Positions remembered: names further down a head are built each time.
    const LEN: usize = 32;

    /// Starts a head of `fields` fields: room for them, made at once, from
    /// the second head on. Returns whether names are to be kept.
    fn start(&mut self, fields: usize) -> bool {
        if !self.warm {
            self.warm = true;
            return false;
        }
        let want = fields.min(Self::LEN);
        if want > self.names.capacity() {
            self.names.reserve_exact(want - self.names.len());
        }
        true
    }

    #[inline]
    fn name(&mut self, at: usize, raw: &[u8]) -> Result<HeaderName, ProtocolError> {
        if let Some(known) = self.names.get(at) {
            // `known` is lowercase; `raw` is a token (httparse checked it),
            // so matching it without regard to case means it names `known`.
            if eq_lowercase(known.as_str().as_bytes(), raw) {
                return Ok(known.clone());
            }
        }
        self.learn(at, raw)
    }

    /// Builds a name not found at its place, and remembers it there.
    #[inline(never)]
    fn learn(&mut self, at: usize, raw: &[u8]) -> Result<HeaderName, ProtocolError> {
        let name = HeaderName::from_bytes(raw).map_err(|_| ProtocolError::InvalidFieldName)?;
        if let Some(slot) = self.names.get_mut(at) {
            *slot = name.clone();
        } else if at == self.names.len() && at < Self::LEN {
            self.names.push(name.clone());
        }
        Ok(name)
    }
}

/// Whether `raw`, lowercased, equals `lower`: eight bytes at a time, the
/// last word overlapping the one before it.
fn eq_lowercase(lower: &[u8], raw: &[u8]) -> bool {
    let n = raw.len();
    if lower.len() != n {
        return false;
    }
    if n < 8 {
        return lower.iter().zip(raw).all(|(&l, &r)| l == r.to_ascii_lowercase());
    }
    let word = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default());
    let mut at = 0;
    while at + 8 < n {
        if word(lower, at) != to_lower_word(word(raw, at)) {
            return false;
        }
        at += 8;
    }
    word(lower, n - 8) == to_lower_word(word(raw, n - 8))
}

/// ASCII lowercase of eight bytes at once: `A`..=`Z` gain 0x20, every other
/// byte is left as it is.
fn to_lower_word(w: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let low7 = w & !HIGH;
    // Per byte, no carry between bytes (0x7f + 0x3f < 0x100): the high bit
    // says `>= b'A'`, and in the second `> b'Z'`.
    let from_a = low7 + ONES * u64::from(0x80 - b'A');
    let past_z = low7 + ONES * u64::from(0x80 - b'Z' - 1);
    let upper = from_a & !past_z & !w & HIGH;
    w | (upper >> 2)
}

/// Builds the header map from field lines given as ranges of `head` (name,
/// value), each value a slice of `head`, and gathers the governing fields.
/// Names come through `names` when given.
fn header_map<'h>(
    head: &'h Bytes,
    fields: impl ExactSizeIterator<Item = (Range<usize>, Range<usize>)>,
    mut names: Option<&mut NameCache>,
) -> Result<(HeaderMap, Governing<'h>), ProtocolError> {
    let mut map = HeaderMap::with_capacity(fields.len());
    let mut gov = Governing::default();
    if let Some(cache) = names.as_deref_mut() {
        if !cache.start(fields.len()) {
            names = None;
        }
    }
    for (at, (name, value)) in fields.enumerate() {
        let raw: &'h [u8] = &head[value.clone()];
        let name = match names.as_deref_mut() {
            Some(names) => names.name(at, &head[name])?,
            None => HeaderName::from_bytes(&head[name]).map_err(|_| ProtocolError::InvalidFieldName)?,
        };
        let value = HeaderValue::from_maybe_shared(head.slice(value))
            .map_err(|_| ProtocolError::InvalidFieldValue)?;
        if name == header::CONTENT_LENGTH {
            gov.content_length.push(raw);
        } else if name == header::TRANSFER_ENCODING {
            gov.transfer_encoding.push(raw);
        } else if name == header::HOST {
            gov.hosts.push(raw);
        } else if name == header::CONNECTION {
            gov.connection.add(raw);
        } else if name == header::UPGRADE {
            gov.upgrade |= !fields::trim_ows(raw).is_empty();
        } else if name == header::EXPECT {
            gov.expect_continue |= fields::list(raw).any(|e| e.eq_ignore_ascii_case(b"100-continue"));
        }
        map.append(name, value);
    }
    Ok((map, gov))
}

/// httparse's fields as ranges of `head`, which they borrow from.
fn field_ranges<'a>(
    head: &'a [u8],
    parsed: &'a [httparse::Header<'a>],
) -> impl ExactSizeIterator<Item = (Range<usize>, Range<usize>)> + 'a {
    let base = head.as_ptr() as usize;
    let at = move |s: &[u8]| {
        let from = s.as_ptr() as usize - base;
        from..from + s.len()
    };
    parsed.iter().map(move |h| (at(h.name.as_bytes()), at(h.value)))
}

/// Checks an `HTTP/x.y` version in place, rewriting a higher HTTP/1 minor
/// version to 1.1 (RFC 9110 section 2.5: process as the highest minor
/// version implemented).
fn normalize_version(v: &mut [u8]) -> Result<(), ProtocolError> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            if *major != b'1' {
                return Err(ProtocolError::UnsupportedVersion);
            }
            if *minor > b'1' {
                *minor = b'1';
            }
            Ok(())
        }
        _ => Err(ProtocolError::InvalidVersion),
    }
}

fn map_httparse(e: httparse::Error, request: bool) -> Error {
    match e {
        httparse::Error::HeaderName => ProtocolError::InvalidFieldName.into(),
        httparse::Error::HeaderValue => ProtocolError::InvalidFieldValue.into(),
        httparse::Error::NewLine => ProtocolError::BareCr.into(),
        httparse::Error::Version => ProtocolError::InvalidVersion.into(),
        httparse::Error::TooManyHeaders => LimitError::HeaderCount.into(),
        _ if request => ProtocolError::InvalidRequestLine.into(),
        _ => ProtocolError::InvalidStatusLine.into(),
    }
}

fn first_line(buf: &[u8]) -> &[u8] {
    let end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len());
    &buf[..end]
}

/// A request head as httparse read it, held as offsets into its buffer so
/// that the buffer can then be split off and frozen for the values to
/// slice. A connection keeps one and refills it for each head (it is too
/// large to move around cheaply).
#[derive(Debug, Default)]
pub(crate) struct RawRequest {
    /// Bytes of the head, from the start of the buffer (skipped empty lines
    /// included) through the empty line.
    pub len: usize,
    method: Range<usize>,
    target: Range<usize>,
    minor: u8,
    fields: SmallVec<[(Range<usize>, Range<usize>); 16]>,
}

/// Runs httparse on `buf[start..]` with room for `max_fields` fields and
/// fills `out`. `Ok(false)` if the head is not complete (`out` is then
/// left unspecified).
pub(crate) fn raw_request(
    buf: &[u8],
    start: usize,
    max_fields: usize,
    out: &mut RawRequest,
) -> Result<bool, Error> {
    // Uninitialized slots (httparse fills what it uses): no per-head cost
    // for room that goes unused.
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; 32];
    let mut heap = Vec::new();
    let slots = if max_fields <= stack.len() {
        &mut stack[..max_fields]
    } else {
        heap.resize_with(max_fields, MaybeUninit::uninit);
        &mut heap[..]
    };
    let mut parsed = httparse::Request::new(&mut []);
    out.len = match parsed.parse_with_uninit_headers(&buf[start..], slots) {
        Ok(httparse::Status::Complete(len)) => start + len,
        Ok(httparse::Status::Partial) => return Ok(false),
        Err(e) => return Err(map_httparse(e, true)),
    };
    let (Some(method), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version) else {
        return Err(ProtocolError::InvalidRequestLine.into());
    };
    let base = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let from = s.as_ptr() as usize - base;
        from..from + s.len()
    };
    out.method = at(method.as_bytes());
    out.target = at(target.as_bytes());
    out.minor = minor;
    out.fields.clear();
    out.fields.extend(
        parsed
            .headers
            .iter()
            .map(|h| (at(h.name.as_bytes()), at(h.value))),
    );
    Ok(true)
}

/// Whether a head httparse accepted also meets what httparse leaves to its
/// caller: the limits, and CRLF (never a bare LF) at every line end. A head
/// that does not is decided by the scanner instead.
pub(crate) fn is_strict(buf: &[u8], raw: &RawRequest, limits: &crate::config::Limits) -> bool {
    let crlf_at = |i: usize| buf.get(i..i + 2) == Some(b"\r\n");
    raw.len <= limits.head_size
        && raw.fields.len() <= limits.header_count
        && raw.target.len() <= limits.request_target
        // request line: target SP "HTTP/1.x" CRLF
        && crlf_at(raw.target.end + 9)
        && raw.fields.iter().all(|(_, value)| {
            let mut end = value.end;
            while matches!(buf.get(end), Some(b' ' | b'\t')) {
                end += 1;
            }
            crlf_at(end)
        })
        && crlf_at(raw.len - 2)
}

/// Checks the request line of the complete head `buf[start..]` before
/// httparse reads it: the version (rewriting HTTP/1.x above 1.1 to 1.1,
/// answering 505 for another major version) and the method.
pub(crate) fn check_request_line(buf: &mut [u8], start: usize) -> Result<(), Error> {
    let line_len = first_line(&buf[start..]).len();
    let line_end = start + line_len;
    let method_ok = buf[start..line_end]
        .split(|&b| b == b' ')
        .next()
        .is_some_and(fields::is_token);
    if line_len < 8 {
        return Err(ProtocolError::InvalidVersion.into());
    }
    normalize_version(&mut buf[line_end - 8..line_end])?;
    if !method_ok {
        return Err(ProtocolError::InvalidMethod.into());
    }
    Ok(())
}

/// Builds the request from a head httparse read: `head` holds exactly the
/// bytes `raw` describes.
pub(crate) fn request(
    head: Bytes,
    raw: &RawRequest,
    config: &Config,
    names: &mut NameCache,
) -> Result<(Request<()>, RequestInfo), Error> {
    let method = Method::from_bytes(&head[raw.method.clone()]).map_err(|_| ProtocolError::InvalidMethod)?;
    let http10 = raw.minor == 0;
    let uri = request_target(&method, &head, raw.target.clone())?;
    let (headers, gov) = header_map(&head, raw.fields.iter().cloned(), Some(names))?;

    match gov.hosts.as_slice() {
        [] if !http10 => return Err(ProtocolError::MissingHost.into()),
        [] => {}
        [host] if fields::is_valid_host(host) => {}
        [_] => return Err(ProtocolError::InvalidHost.into()),
        _ => return Err(ProtocolError::MultipleHost.into()),
    }

    let framing = if !gov.transfer_encoding.is_empty() {
        if http10 {
            return Err(ProtocolError::TransferEncodingInHttp10.into());
        }
        if !gov.content_length.is_empty() {
            return Err(ProtocolError::ContentLengthAndTransferEncoding.into());
        }
        match fields::transfer_codings(gov.transfer_encoding.iter().copied()) {
            Codings::Chunked => Framing::Chunked,
            Codings::ChunkedAfterOthers => return Err(ProtocolError::UnsupportedTransferCoding.into()),
            Codings::NotChunked | Codings::Invalid => {
                return Err(ProtocolError::InvalidTransferEncoding.into())
            }
        }
    } else if !gov.content_length.is_empty() {
        let n = fields::content_length(
            gov.content_length.iter().copied(),
            config.lenient.identical_content_lengths,
        )
        .ok_or(ProtocolError::InvalidContentLength)?;
        if config.limits.body_size.is_some_and(|max| n > max) {
            return Err(LimitError::BodySize.into());
        }
        Framing::Length(n)
    } else {
        Framing::Length(0)
    };

    let info = RequestInfo {
        framing,
        persists: gov.connection.persists(http10),
        http10,
        upgrade: !http10 && gov.upgrade && gov.connection.upgrade,
        connect: method == Method::CONNECT,
        head: method == Method::HEAD,
        expect_continue: !http10 && gov.expect_continue,
    };
    let mut req = Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = if http10 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    *req.headers_mut() = headers;
    Ok((req, info))
}

/// The request-target in the form its method allows (RFC 9112 section 3.2).
fn request_target(method: &Method, head: &Bytes, range: Range<usize>) -> Result<Uri, ProtocolError> {
    let bad = ProtocolError::InvalidTarget;
    let target = &head[range.clone()];
    let uri = Uri::from_maybe_shared(head.slice(range)).map_err(|_| bad)?;
    if target == b"*" {
        return if method == Method::OPTIONS {
            Ok(uri)
        } else {
            Err(bad)
        };
    }
    if method == Method::CONNECT {
        let authority_only = uri.scheme().is_none()
            && uri
                .path_and_query()
                .is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/");
        return if authority_only && fields::is_valid_authority_form(target) {
            Ok(uri)
        } else {
            Err(bad)
        };
    }
    if target.first() == Some(&b'/') {
        return Ok(uri);
    }
    // absolute-form
    match (uri.scheme(), uri.authority()) {
        (Some(_), Some(a)) if !a.as_str().contains('@') => Ok(uri),
        _ => Err(bad),
    }
}

/// What the client asked, which decides how a response is framed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Asked {
    pub head: bool,
    pub connect: bool,
}

/// Parses a complete response head. `buf` holds exactly the section.
pub(crate) fn response(
    mut buf: BytesMut,
    section: Section,
    asked: Asked,
    config: &Config,
    names: &mut NameCache,
) -> Result<(Response<()>, ResponseInfo), Error> {
    let line_len = first_line(&buf).len();
    if line_len < 8 {
        return Err(ProtocolError::InvalidStatusLine.into());
    }
    normalize_version(&mut buf[..8])?;
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if line_len < 13 || buf[8] != b' ' || buf[12] != b' ' {
        return Err(ProtocolError::InvalidStatusLine.into());
    }
    if config.lenient.obs_fold_in_responses {
        unfold(&mut buf[line_len..]);
    }
    let head = buf.freeze();
    let mut slots: SmallVec<[httparse::Header<'_>; 32]> =
        SmallVec::from_elem(httparse::EMPTY_HEADER, section.fields);
    let mut parsed = httparse::Response::new(&mut slots);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(ProtocolError::InvalidStatusLine.into()),
        Err(e) => return Err(map_httparse(e, false)),
    }
    let (Some(code), Some(minor)) = (parsed.code, parsed.version) else {
        return Err(ProtocolError::InvalidStatusLine.into());
    };
    let status = StatusCode::from_u16(code).map_err(|_| ProtocolError::InvalidStatusLine)?;
    let http10 = minor == 0;
    let (headers, gov) = header_map(&head, field_ranges(&head, parsed.headers), Some(names))?;

    let bodiless = status.is_informational()
        || asked.head
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (asked.connect && status.is_success());
    let framing = if bodiless {
        Framing::Length(0)
    } else if !gov.transfer_encoding.is_empty() {
        if http10 {
            return Err(ProtocolError::TransferEncodingInHttp10.into());
        }
        if !gov.content_length.is_empty() {
            return Err(ProtocolError::ContentLengthAndTransferEncoding.into());
        }
        match fields::transfer_codings(gov.transfer_encoding.iter().copied()) {
            Codings::Chunked | Codings::ChunkedAfterOthers => Framing::Chunked,
            Codings::NotChunked => Framing::CloseDelimited,
            Codings::Invalid => return Err(ProtocolError::InvalidTransferEncoding.into()),
        }
    } else if !gov.content_length.is_empty() {
        let n = fields::content_length(
            gov.content_length.iter().copied(),
            config.lenient.identical_content_lengths,
        )
        .ok_or(ProtocolError::InvalidContentLength)?;
        Framing::Length(n)
    } else {
        Framing::CloseDelimited
    };

    let reason = &head[13..line_len];
    let mut res = Response::new(());
    if status.canonical_reason().map(str::as_bytes) != Some(reason) {
        res.extensions_mut()
            .insert(ReasonPhrase(head.slice(13..line_len)));
    }
    *res.status_mut() = status;
    *res.version_mut() = if http10 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    *res.headers_mut() = headers;
    let info = ResponseInfo {
        status,
        framing,
        persists: gov.connection.persists(http10) && framing != Framing::CloseDelimited,
    };
    Ok((res, info))
}

/// Replaces each obs-fold (`OWS CRLF RWS`, RFC 9112 section 5.2) with
/// spaces: the CRLF and the whitespace around it all become SP.
fn unfold(fields: &mut [u8]) {
    let mut i = 0;
    while i + 2 < fields.len() {
        if fields[i] == b'\r' && fields[i + 1] == b'\n' && matches!(fields[i + 2], b' ' | b'\t') {
            let mut start = i;
            while start > 0 && fields[start - 1] == b'\t' {
                start -= 1;
            }
            let mut end = i + 2;
            while end < fields.len() && matches!(fields[end], b' ' | b'\t') {
                end += 1;
            }
            fields[start..end].fill(b' ');
            i = end;
        } else {
            i += 1;
        }
    }
}

/// Parses a complete trailer section (`buf` holds exactly the section,
/// final empty line included) into a header map.
pub(crate) fn trailers(buf: BytesMut, section: Section) -> Result<HeaderMap, Error> {
    let head = buf.freeze();
    let mut slots: SmallVec<[httparse::Header<'_>; 8]> =
        SmallVec::from_elem(httparse::EMPTY_HEADER, section.fields);
    match httparse::parse_headers(&head, &mut slots) {
        Ok(httparse::Status::Complete((_, parsed))) => {
            Ok(header_map(&head, field_ranges(&head, parsed), None)?.0)
        }
        Ok(httparse::Status::Partial) => Err(ProtocolError::InvalidFieldName.into()),
        Err(e) => Err(map_httparse(e, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_word_matches_the_bytewise_rule_for_every_byte() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"xY-Z09a_";
                bytes[at] = b;
                let want: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
                let got = to_lower_word(u64::from_le_bytes(bytes)).to_le_bytes();
                assert_eq!(got.as_slice(), want.as_slice(), "byte {b:#04x} at {at}");
            }
        }
    }

    #[test]
    fn lowercase_comparison() {
        assert!(eq_lowercase(b"sec-fetch-dest", b"Sec-Fetch-Dest"));
        assert!(eq_lowercase(b"host", b"HOST"));
        assert!(eq_lowercase(b"", b""));
        assert!(!eq_lowercase(b"sec-fetch-dest", b"Sec-Fetch-Desk"));
        assert!(!eq_lowercase(b"sec-fetch-dest", b"Sec-Fetch-Des"));
        // `^` and `~` differ only in bit 0x20: neither is a letter.
        assert!(!eq_lowercase(b"a~b", b"a^b"));
        assert!(!eq_lowercase(b"abcdefgh~", b"ABCDEFGH^"));
        assert!(!eq_lowercase(b"x-abcdef~1", b"X-ABCDEF^1"));
    }

    #[test]
    fn names_are_reused_by_position_and_replaced_when_they_differ() {
        let mut cache = NameCache::default();
        assert!(!cache.start(1), "the first head is not remembered");
        assert!(cache.start(1));
        let a = cache.name(0, b"X-Custom").expect("valid");
        let b = cache.name(0, b"x-CUSTOM").expect("valid");
        assert_eq!(a, b);
        assert_eq!(b.as_str(), "x-custom");
        let c = cache.name(0, b"Accept").expect("valid");
        assert_eq!(c, header::ACCEPT);
        assert_eq!(cache.name(0, b"accept").expect("valid"), header::ACCEPT);
        // A position past the end is built without being remembered.
        assert_eq!(cache.name(5, b"Host").expect("valid"), header::HOST);
        assert_eq!(cache.names.len(), 1);
        assert!(cache.name(1, b"bad name").is_err());
    }
}
