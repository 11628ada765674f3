//! From the wire view to `http` types: [`RequestHead::into_request`],
//! [`ResponseHead::into_response`], [`FieldLines::to_header_map`], and
//! the [`NameCache`] that makes a keep-alive connection's repeated names
//! cost nothing.

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, Uri};

use super::heads::{RequestHead, ResponseHead};
use super::lines::FieldLines;
use crate::error::{Error, ProtocolError};
use crate::event::ReasonPhrase;

/// Field names kept from one head to the next, by position, for building
/// `http` types.
///
/// A peer sends much the same fields in the same order on each message of
/// a connection (a browser, a load balancer, a client library). A name
/// found again at its position is a clone of the one built before: no
/// second lookup in the standard table and, for a name outside it, no
/// second allocation. Keep one per connection and pass it to
/// [`RequestHead::into_request_with`] (the drivers do).
///
/// The first head is not remembered: a connection that carries one
/// message would pay for the cache without using it.
#[derive(Debug, Default)]
pub struct NameCache {
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

/// The fields as a header map: names through `names` when given, values
/// as slices of the lines' bytes.
pub(crate) fn header_map(lines: &FieldLines, mut names: Option<&mut NameCache>) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::with_capacity(lines.len());
    if let Some(cache) = names.as_deref_mut() {
        if !cache.start(lines.len()) {
            names = None;
        }
    }
    for (at, field) in lines.iter().enumerate() {
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

pub(crate) fn request(head: RequestHead, names: &mut NameCache) -> Result<Request<()>, Error> {
    let method = Method::from_bytes(head.method()).map_err(|_| ProtocolError::InvalidMethod)?;
    let uri = Uri::from_maybe_shared(head.target_bytes()).map_err(|_| ProtocolError::InvalidTarget)?;
    let headers = header_map(head.fields(), Some(names))?;
    let mut req = Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = head.version();
    *req.headers_mut() = headers;
    Ok(req)
}

pub(crate) fn response(head: ResponseHead, names: &mut NameCache) -> Result<Response<()>, Error> {
    let headers = header_map(head.fields(), Some(names))?;
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
