//! From the wire view to `http` types: [`RequestHead::into_request`],
//! [`ResponseHead::into_response`], [`FieldLines::to_header_map`], and on
//! a connection [`Connection::http_request`](crate::Connection::http_request)
//! and [`Connection::http_response`](crate::Connection::http_response),
//! which reuse what the connection learnt reading the head (where its
//! field lines begin and end) and its previous heads (their names).

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, Uri};

use super::heads::{RequestHead, ResponseHead};
use super::lines::{Field, FieldLines};
use crate::error::{Error, ProtocolError};
use crate::event::ReasonPhrase;

/// Where the field lines of the head a connection read last lie in its
/// bytes: the parser finds them anyway, so converting that head to `http`
/// types need not look for them again. Refilled for each head, without
/// allocating once warm.
#[derive(Debug, Default)]
pub(crate) struct FieldIndex {
    /// The head's field lines (their bytes' address and length), to know
    /// the index is theirs; `(0, 0)` for none.
    key: (usize, usize),
    /// Each field: name start and length, value start and length, from
    /// the start of the lines.
    fields: Vec<[u32; 4]>,
    /// Every offset fitted in 32 bits.
    fits: bool,
}

impl FieldIndex {
    /// Starts a new head of `fields` field lines, whose bytes are `len`
    /// long: nothing recorded yet.
    pub(crate) fn start(&mut self, fields: usize, len: usize) {
        self.key = (0, 0);
        self.fields.clear();
        self.fields.reserve(fields);
        self.fits = u32::try_from(len).is_ok();
    }

    /// Records one field, given as ranges from a point `base` bytes
    /// before the lines' start (all within the length given to
    /// [`start`](Self::start)).
    #[inline]
    pub(crate) fn push(&mut self, name: std::ops::Range<usize>, value: std::ops::Range<usize>, base: usize) {
        self.fields.push([
            (name.start - base) as u32,
            name.len() as u32,
            (value.start - base) as u32,
            value.len() as u32,
        ]);
    }

    /// Marks the index as that of `lines` (or of none, when an offset did
    /// not fit).
    pub(crate) fn seal(&mut self, lines: &FieldLines) {
        let bytes = lines.bytes();
        self.key = if self.fits && self.fields.len() == lines.len() {
            (bytes.as_ptr() as usize, bytes.len())
        } else {
            (0, 0)
        };
    }

    /// The fields of `lines`, from the index when it is theirs.
    fn fields<'a>(&'a self, lines: &'a FieldLines) -> Option<impl ExactSizeIterator<Item = Field<'a>> + 'a> {
        let bytes = lines.bytes();
        if self.key != (bytes.as_ptr() as usize, bytes.len()) || self.key == (0, 0) {
            return None;
        }
        Some(self.fields.iter().map(move |&[n, nl, v, vl]| {
            let (n, nl, v, vl) = (n as usize, nl as usize, v as usize, vl as usize);
            Field::new(&bytes[n..n + nl], &bytes[v..v + vl])
        }))
    }
}

/// What a connection keeps to convert its heads to `http` types.
#[derive(Debug, Default)]
pub(crate) struct Converter {
    pub(crate) index: FieldIndex,
    pub(crate) names: NameCache,
}

impl Converter {
    pub(crate) fn request(&mut self, head: RequestHead) -> Result<Request<()>, Error> {
        let headers = self.headers(head.fields())?;
        request(head, headers)
    }

    pub(crate) fn response(&mut self, head: ResponseHead) -> Result<Response<()>, Error> {
        let headers = self.headers(head.fields())?;
        response(head, headers)
    }

    /// The header map of a head's field lines: read from the index when
    /// it is theirs, the previous head's names reused.
    fn headers(&mut self, lines: &FieldLines) -> Result<HeaderMap, Error> {
        match self.index.fields(lines) {
            Some(fields) => header_map(lines, fields, Some(&mut self.names)),
            None => header_map(lines, lines.iter(), Some(&mut self.names)),
        }
    }
}

/// Field names kept from one head to the next, by position, for building
/// `http` types.
///
/// A peer sends much the same fields in the same order on each message of
/// a connection (a browser, a load balancer, a client library). A name
/// found again at its position is a clone of the one built before: no
/// second lookup in the standard table and, for a name outside it, no
/// second allocation.
///
/// The first head is not remembered: a connection that carries one
/// message would pay for the cache without using it.
#[derive(Debug, Default)]
pub(crate) struct NameCache {
    names: Vec<HeaderName>,
    /// Whether a head has been converted before: only then are names kept.
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
            // `known` is lowercase; `raw` is a token (the parser checked
            // it), so matching it without regard to case means it names
            // `known`.
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
    let word = |b: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    };
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

/// The fields of `lines`, given as `fields` (found by reading them, or
/// from the index), as a header map: names through `names` when given,
/// values as slices of the lines' bytes.
pub(crate) fn header_map<'a>(
    lines: &'a FieldLines,
    fields: impl Iterator<Item = Field<'a>>,
    mut names: Option<&mut NameCache>,
) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::with_capacity(lines.len());
    if let Some(cache) = names.as_deref_mut() {
        if !cache.start(lines.len()) {
            names = None;
        }
    }
    for (at, field) in fields.enumerate() {
        let name = match names.as_deref_mut() {
            Some(names) => names.name(at, field.name())?,
            None => HeaderName::from_bytes(field.name()).map_err(|_| ProtocolError::InvalidFieldName)?,
        };
        let value = HeaderValue::from_maybe_shared(lines.share(field.value()))
            .map_err(|_| ProtocolError::InvalidFieldValue)?;
        map.append(name, value);
    }
    Ok(map)
}

/// A request from its head and its fields as a header map.
pub(crate) fn request(head: RequestHead, headers: HeaderMap) -> Result<Request<()>, Error> {
    let method = Method::from_bytes(head.method()).map_err(|_| ProtocolError::InvalidMethod)?;
    let uri = Uri::from_maybe_shared(head.target_bytes()).map_err(|_| ProtocolError::InvalidTarget)?;
    let mut req = Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = head.version();
    *req.headers_mut() = headers;
    Ok(req)
}

/// A response from its head and its fields as a header map.
pub(crate) fn response(head: ResponseHead, headers: HeaderMap) -> Result<Response<()>, Error> {
    let mut res = Response::new(());
    let status = head.status();
    if status.canonical_reason().map(str::as_bytes) != Some(head.reason()) {
        res.extensions_mut().insert(ReasonPhrase(head.reason_bytes()));
    }
    *res.status_mut() = status;
    *res.version_mut() = head.version();
    *res.headers_mut() = headers;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header;

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

#[cfg(test)]
mod agreement {
    use crate::{Config, Connection, Event, Role};

    /// The index is a step inside the conversion: a head converted by the
    /// connection that read it (from the index) and on its own (reading its
    /// lines) gives the same `http` request or response.
    #[test]
    fn the_index_agrees_with_reading_the_lines() {
        let requests: [&[u8]; 4] = [
            b"GET /a?b HTTP/1.1\r\nHost: a\r\nX-One:  1 \r\nx-one: 2\r\nEmpty:\r\nAccept: */*\r\n\r\n",
            b"POST http://h.example/ HTTP/1.1\r\nHost: h.example\r\nContent-Length: 0\r\n\r\n",
            b"GET / HTTP/1.1\nHost: a\nX: y\r\n\n",
            b"GET / HTTP/1.0\r\n\r\n",
        ];
        let mut config = Config::default();
        config.lenient.bare_lf = true;
        for input in requests {
            let mut conn = Connection::new(Role::Server, config.clone());
            for _ in 0..2 {
                conn.receive(input).expect("input");
                let Ok(Event::Request(head)) = conn.poll_event() else {
                    panic!("{}", input.escape_ascii());
                };
                let alone = head.clone().into_request().expect("converts");
                let by_conn = conn.http_request(head).expect("converts");
                assert_eq!(
                    format!("{alone:?}"),
                    format!("{by_conn:?}"),
                    "{}",
                    input.escape_ascii()
                );
                while !matches!(conn.poll_event(), Ok(Event::Paused)) {}
                let answer = crate::ResponseHead::new(http::StatusCode::NO_CONTENT);
                conn.send_full_response(answer, bytes::Bytes::new())
                    .expect("answer");
                conn.clear_output();
                if conn.is_close_wanted() {
                    break;
                }
            }
        }
        let responses: [&[u8]; 2] = [
            b"HTTP/1.1 200 Fine\r\nX-A: 1\r\nx-a: 2\r\nFolded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ];
        for input in responses {
            let mut conn = Connection::client();
            conn.send_request(http::Request::get("http://a/").body(()).expect("valid"))
                .expect("send");
            conn.send_end().expect("end");
            conn.receive(input).expect("input");
            let Ok(Event::Response(head)) = conn.poll_event() else {
                panic!("{}", input.escape_ascii());
            };
            let alone = head.clone().into_response().expect("converts");
            let by_conn = conn.http_response(head).expect("converts");
            assert_eq!(
                format!("{alone:?}"),
                format!("{by_conn:?}"),
                "{}",
                input.escape_ascii()
            );
        }
    }

    /// A head the connection did not read last is converted by reading it.
    #[test]
    fn an_older_head_is_read_afresh() {
        let mut conn = Connection::server();
        conn.receive(b"GET /1 HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n")
            .expect("input");
        let Ok(Event::Request(first)) = conn.poll_event() else {
            panic!()
        };
        let mut other = first.clone();
        other.fields_mut().append("Y", "2").expect("valid");
        let req = conn.http_request(other).expect("converts");
        assert_eq!(req.headers().len(), 3);
        assert_eq!(req.headers()["y"], "2");
    }
}
