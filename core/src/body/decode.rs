//! Receiving bodies: by Content-Length, chunked (a byte-level state
//! machine with overflow checks and extension limits), or until close.
//! Data comes out as slices of the receive buffer, never copies.

use bytes::{Buf, Bytes, BytesMut};

use crate::config::Config;
use crate::error::{Error, Incomplete, LimitError, ProtocolError};
use crate::head::fields::{is_tchar, quoted_string_len};
use crate::head::lines::FieldLines;
use crate::head::parse;
use crate::head::scan::{Rules, Scanner};
use crate::semantics::Framing;

/// One step of a body.
#[derive(Debug)]
pub(crate) enum Decoded {
    Data(Bytes),
    Trailers(FieldLines),
    End,
    NeedData,
}

/// The receiving half of a body.
#[derive(Debug)]
pub(crate) enum Decoder {
    Length {
        remaining: u64,
    },
    Chunked(Chunked),
    /// Until the connection closes; `received` so far, for the body size limit.
    CloseDelimited {
        received: u64,
    },
}

#[derive(Debug, Default)]
pub(crate) struct Chunked {
    state: ChunkState,
    scanner: Scanner,
    /// Extension bytes not yet paid for by data (see
    /// [`Limits::chunk_extensions`](crate::Limits::chunk_extensions)).
    extension_debt: u64,
    body_bytes: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(u64),
    DataCrlf,
    Trailers,
    End,
}

impl Decoder {
    pub(crate) fn new(framing: Framing) -> Self {
        match framing {
            Framing::Length(n) => Decoder::Length { remaining: n },
            Framing::Chunked => Decoder::Chunked(Chunked::default()),
            Framing::CloseDelimited => Decoder::CloseDelimited { received: 0 },
        }
    }

    /// The fast path: body data at the start of `buf` when it is plainly
    /// there (see [`Chunked::plain_chunk`]), taken in one step. `None`:
    /// nothing was consumed; [`decode`](Self::decode) decides.
    #[inline]
    pub(crate) fn plain_data(&mut self, buf: &mut BytesMut, config: &Config) -> Option<Bytes> {
        match self {
            Decoder::Chunked(c) => c.plain_chunk(buf, config),
            _ => None,
        }
    }

    /// Takes the next step out of `buf`. `eof`: no more input will come.
    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
        eof: bool,
        config: &Config,
    ) -> Result<Decoded, Error> {
        match self {
            Decoder::Length { remaining: 0 } => Ok(Decoded::End),
            Decoder::Length { remaining } => {
                if buf.is_empty() {
                    return if eof {
                        Err(Incomplete::Body {
                            remaining: *remaining,
                        }
                        .into())
                    } else {
                        Ok(Decoded::NeedData)
                    };
                }
                let n = (*remaining).min(buf.len() as u64);
                *remaining -= n;
                Ok(Decoded::Data(buf.split_to(n as usize).freeze()))
            }
            Decoder::CloseDelimited { received } => {
                if !buf.is_empty() {
                    *received = received.saturating_add(buf.len() as u64);
                    if config.limits.body_size.is_some_and(|max| *received > max) {
                        return Err(LimitError::BodySize.into());
                    }
                    Ok(Decoded::Data(buf.split().freeze()))
                } else if eof {
                    Ok(Decoded::End)
                } else {
                    Ok(Decoded::NeedData)
                }
            }
            Decoder::Chunked(c) => c.decode(buf, eof, config),
        }
    }
}

impl Chunked {
    fn decode(&mut self, buf: &mut BytesMut, eof: bool, config: &Config) -> Result<Decoded, Error> {
        let more = |eof: bool| {
            if eof {
                Err(Error::from(Incomplete::ChunkedBody))
            } else {
                Ok(Decoded::NeedData)
            }
        };
        if let Some(data) = self.plain_chunk(buf, config) {
            return Ok(Decoded::Data(data));
        }
        let limits = &config.limits;
        loop {
            match self.state {
                ChunkState::Size => {
                    // The common line, `HEX CRLF`, when it is all here: no
                    // scanner needed. Anything else takes the general path,
                    // which accepts these lines with the same result.
                    if self.scanner.is_fresh() {
                        if let Some((size, len)) = plain_chunk_line(buf, limits.chunk_line) {
                            buf.advance(len);
                            self.start_chunk(size, 0, config)?;
                            continue;
                        }
                    }
                    let rules = Rules {
                        max_len: limits.chunk_line,
                        max_fields: 1,
                        start_line: false,
                        skip_leading_empty: false,
                        single_line: true,
                        max_target: None,
                        bare_lf: config.lenient.bare_lf,
                        too_long: LimitError::ChunkLine,
                    };
                    let Some(section) = self.scanner.scan(buf, &rules)? else {
                        return more(eof);
                    };
                    self.scanner = Scanner::default();
                    let (size, ext) = chunk_line(strip_line_end(&buf[..section.end]))?;
                    buf.advance(section.end);
                    self.start_chunk(size, ext, config)?;
                }
                ChunkState::Data(remaining) => {
                    if buf.is_empty() {
                        return more(eof);
                    }
                    let n = remaining.min(buf.len() as u64);
                    self.state = if n == remaining {
                        ChunkState::DataCrlf
                    } else {
                        ChunkState::Data(remaining - n)
                    };
                    return Ok(Decoded::Data(buf.split_to(n as usize).freeze()));
                }
                ChunkState::DataCrlf => match (buf.first(), buf.get(1)) {
                    (None, _) | (Some(b'\r'), None) => return more(eof),
                    (Some(b'\r'), Some(b'\n')) => {
                        buf.advance(2);
                        self.state = ChunkState::Size;
                    }
                    (Some(b'\n'), _) if config.lenient.bare_lf => {
                        buf.advance(1);
                        self.state = ChunkState::Size;
                    }
                    _ => return Err(ProtocolError::MissingChunkCrlf.into()),
                },
                ChunkState::Trailers => {
                    let rules = Rules {
                        max_len: limits.trailer_size,
                        max_fields: limits.header_count,
                        start_line: false,
                        skip_leading_empty: false,
                        single_line: false,
                        max_target: None,
                        bare_lf: config.lenient.bare_lf,
                        too_long: LimitError::TrailerSize,
                    };
                    let Some(section) = self.scanner.scan(buf, &rules)? else {
                        return more(eof);
                    };
                    self.scanner = Scanner::default();
                    let raw = buf.split_to(section.end);
                    self.state = ChunkState::End;
                    if section.fields > 0 {
                        return Ok(Decoded::Trailers(parse::trailers(raw, section, config)?));
                    }
                }
                ChunkState::End => return Ok(Decoded::End),
            }
        }
    }
}

impl Chunked {
    /// The fast path for the common shapes of chunked data, when the data
    /// (or its start) is in `buf`: more of a chunk already begun; or the
    /// CRLF ending the previous chunk's data (unless this is the first
    /// chunk), a plain `HEX CRLF` size line, then data. Takes it in one
    /// step and returns the data (a slice of `buf`). `None` when anything
    /// else comes (the last chunk, extensions, a bare LF, an incomplete
    /// line, no data yet, a limit reached): then nothing was consumed and
    /// the general path decides, with the result it has for these bytes.
    #[inline]
    fn plain_chunk(&mut self, buf: &mut BytesMut, config: &Config) -> Option<Bytes> {
        let skip = match self.state {
            ChunkState::DataCrlf if buf.starts_with(b"\r\n") => 2,
            ChunkState::Size if self.scanner.is_fresh() => 0,
            ChunkState::Data(remaining) if !buf.is_empty() => {
                let n = remaining.min(buf.len() as u64);
                self.state = if n == remaining {
                    ChunkState::DataCrlf
                } else {
                    ChunkState::Data(remaining - n)
                };
                return Some(buf.split_to(n as usize).freeze());
            }
            _ => return None,
        };
        let (size, line) = plain_chunk_line(&buf[skip..], config.limits.chunk_line)?;
        let head = skip + line;
        let available = (buf.len() - head) as u64;
        let body_bytes = self.body_bytes.saturating_add(size);
        if size == 0 || available == 0 || config.limits.body_size.is_some_and(|max| body_bytes > max) {
            return None;
        }
        self.body_bytes = body_bytes;
        self.extension_debt = self.extension_debt.saturating_sub(chunk_credit(size));
        let n = size.min(available);
        self.state = if n == size {
            ChunkState::DataCrlf
        } else {
            ChunkState::Data(size - n)
        };
        // One split for framing and data; the framing is then dropped
        // from the front of the slice (which shares the buffer: no copy).
        let mut data = buf.split_to(head + n as usize).freeze();
        data.advance(head);
        Some(data)
    }

    /// Accounts for a chunk-size line: its extension bytes and the body
    /// size against the limits; then the chunk's data (or the trailers).
    fn start_chunk(&mut self, size: u64, extension: usize, config: &Config) -> Result<(), Error> {
        let limits = &config.limits;
        self.extension_debt = (self.extension_debt + extension as u64).saturating_sub(chunk_credit(size));
        if self.extension_debt > limits.chunk_extensions as u64 {
            return Err(LimitError::ChunkExtensions.into());
        }
        self.body_bytes = self.body_bytes.saturating_add(size);
        if limits.body_size.is_some_and(|max| self.body_bytes > max) {
            return Err(LimitError::BodySize.into());
        }
        self.state = if size == 0 {
            ChunkState::Trailers
        } else {
            ChunkState::Data(size)
        };
        Ok(())
    }
}

/// What a chunk of `size` data bytes pays off of the extension debt: 16
/// bytes, plus twice its data.
fn chunk_credit(size: u64) -> u64 {
    size.saturating_mul(2).saturating_add(16)
}

/// A complete chunk-size line of the plain form `1*16HEXDIG CRLF` at the
/// start of `buf`, within `max_len`: its size and length. `None` for
/// anything else (extensions, longer sizes, an incomplete line), which the
/// general path then decides.
fn plain_chunk_line(buf: &[u8], max_len: usize) -> Option<(u64, usize)> {
    let mut size: u64 = 0;
    let mut i = 0;
    loop {
        let digit = HEX[usize::from(*buf.get(i)?)];
        if digit > 0xf {
            break;
        }
        if i == 16 {
            return None;
        }
        size = (size << 4) | u64::from(digit);
        i += 1;
    }
    let len = i + 2;
    (i > 0 && buf.get(i..len) == Some(b"\r\n") && len <= max_len).then_some((size, len))
}

/// The value of each hex digit; `0xff` for every other byte.
const HEX: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `chunk-size [ chunk-ext ]` (RFC 9112 section 7.1): returns the size and
/// the number of extension bytes.
///
/// ```text
/// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
/// chunk-ext-val = token / quoted-string
/// ```
fn chunk_line(line: &[u8]) -> Result<(u64, usize), ProtocolError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ProtocolError::InvalidChunkSize);
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let d = (b as char).to_digit(16).unwrap_or(0);
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(d)))
            .ok_or(ProtocolError::InvalidChunkSize)?;
    }
    let ext = &line[digits..];
    match ext.first() {
        None | Some(b';' | b' ' | b'\t') => {}
        Some(_) => return Err(ProtocolError::InvalidChunkSize),
    }
    chunk_ext(ext)?;
    Ok((size, ext.len()))
}

fn chunk_ext(mut s: &[u8]) -> Result<(), ProtocolError> {
    let bad = ProtocolError::InvalidChunkExtension;
    let bws = |s: &[u8]| -> usize { s.iter().take_while(|&&b| b == b' ' || b == b'\t').count() };
    let token = |s: &[u8]| -> usize { s.iter().take_while(|&&b| is_tchar(b)).count() };
    while !s.is_empty() {
        s = &s[bws(s)..];
        s = s.strip_prefix(b";").ok_or(bad)?;
        s = &s[bws(s)..];
        let name = token(s);
        if name == 0 {
            return Err(bad);
        }
        s = &s[name..];
        let after = bws(s);
        if s.get(after) == Some(&b'=') {
            s = &s[after + 1..];
            s = &s[bws(s)..];
            let value = match token(s) {
                0 => quoted_string_len(s).ok_or(bad)?,
                n => n,
            };
            s = &s[value..];
        } else if after > 0 && after == s.len() {
            return Err(bad); // trailing whitespace with no extension after it
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_line_table() {
        use ProtocolError::*;
        let cases: &[(&[u8], Result<(u64, usize), ProtocolError>)] = &[
            (b"5", Ok((5, 0))),
            (b"00005", Ok((5, 0))),
            (b"aF", Ok((0xaf, 0))),
            (b"ffffffffffffffff", Ok((u64::MAX, 0))),
            (b"10000000000000000", Err(InvalidChunkSize)),
            (b"fffffffffffffffff5", Err(InvalidChunkSize)),
            (b"", Err(InvalidChunkSize)),
            (b" 5", Err(InvalidChunkSize)),
            (b"0x5", Err(InvalidChunkSize)),
            (b"5g", Err(InvalidChunkSize)),
            (b"-5", Err(InvalidChunkSize)),
            (b"5;name=value", Ok((5, 11))),
            (b"5;name", Ok((5, 5))),
            (b"5 ; name = value", Ok((5, 15))),
            (b"5;a=\"b c;d\"", Ok((5, 10))),
            (b"5;a;b=c", Ok((5, 6))),
            (b"5;a\x00b", Err(InvalidChunkExtension)),
            (b"5;a@b", Err(InvalidChunkExtension)),
            (b"5;", Err(InvalidChunkExtension)),
            (b"5;a=", Err(InvalidChunkExtension)),
            (b"5;a=\"open", Err(InvalidChunkExtension)),
            (b"5 ", Err(InvalidChunkExtension)),
            (b"5;a ", Err(InvalidChunkExtension)),
        ];
        for (line, want) in cases {
            assert_eq!(chunk_line(line), *want, "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn plain_lines_agree_with_the_grammar() {
        let lines: &[&[u8]] = &[
            b"5\r\n",
            b"0\r\n",
            b"00a\r\n",
            b"FfFf\r\n",
            b"ffffffffffffffff\r\n",
            b"1ffffffffffffffff\r\n",
            b"\r\n",
            b"5;a=b\r\n",
            b"5 \r\n",
            b"5\n",
            b"5\r",
            b"5\rx",
            b"g\r\n",
        ];
        for line in lines {
            let general = line.strip_suffix(b"\r\n").map(chunk_line);
            match plain_chunk_line(line, 4096) {
                Some((size, len)) => {
                    assert_eq!(len, line.len(), "{line:?}");
                    assert_eq!(general, Some(Ok((size, 0))), "{line:?}");
                }
                // Declined lines go to the scanner, which decides them.
                None => assert!(
                    !matches!(general, Some(Ok((_, 0)))) || line.len() > 18,
                    "{line:?}"
                ),
            }
        }
        assert_eq!(
            plain_chunk_line(b"5\r\n", 2),
            None,
            "over the line limit: the scanner decides"
        );
    }

    fn decode_all(
        input: &[u8],
        step: usize,
        config: &Config,
    ) -> Result<(Vec<u8>, Option<FieldLines>), Error> {
        let mut d = Decoder::new(Framing::Chunked);
        let mut buf = BytesMut::new();
        let (mut body, mut trailers) = (Vec::new(), None);
        let mut fed = 0;
        loop {
            match d.decode(&mut buf, fed == input.len(), config)? {
                Decoded::Data(b) => body.extend_from_slice(&b),
                Decoded::Trailers(t) => trailers = Some(t),
                Decoded::End => return Ok((body, trailers)),
                Decoded::NeedData => {
                    let end = (fed + step).min(input.len());
                    buf.extend_from_slice(&input[fed..end]);
                    fed = end;
                }
            }
        }
    }

    #[test]
    fn chunked_bodies_split_anywhere() {
        let config = Config::default();
        let input = b"5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n";
        for step in 1..input.len() {
            let (body, trailers) = decode_all(input, step, &config).expect("valid");
            assert_eq!(body, b"hello world");
            assert_eq!(trailers.expect("trailers").get("x-sum"), Some(&b"1"[..]));
        }
        let (body, trailers) = decode_all(b"0\r\n\r\n", 1, &config).expect("valid");
        assert!(body.is_empty() && trailers.is_none());
    }

    #[test]
    fn chunked_errors() {
        let config = Config::default();
        let err = |input: &[u8]| decode_all(input, 1, &config).expect_err("invalid");
        assert_eq!(
            err(b"5\r\nhelloX\r\n0\r\n\r\n"),
            ProtocolError::MissingChunkCrlf.into()
        );
        assert_eq!(err(b"5\nhello\r\n0\r\n\r\n"), ProtocolError::BareLf.into());
        assert_eq!(err(b"5\r\nhel"), Incomplete::ChunkedBody.into());
        assert_eq!(
            err(b"0\r\nX-A : b\r\n\r\n"),
            ProtocolError::InvalidFieldName.into()
        );
        let mut small = Config::default();
        small.limits.chunk_extensions = 64;
        // Each 1-byte chunk with 41 extension bytes adds 41 - 18 = 23 to
        // the debt: the third goes past 64.
        let tagged_tiny = |n: usize| {
            let mut v = b"1;".to_vec();
            v.extend_from_slice(&[b'a'; 40]);
            v.extend_from_slice(b"\r\nx\r\n");
            let mut body = v.repeat(n);
            body.extend_from_slice(b"0\r\n\r\n");
            body
        };
        assert!(decode_all(&tagged_tiny(2), 3, &small).is_ok());
        assert_eq!(
            decode_all(&tagged_tiny(3), 3, &small).expect_err("limit"),
            LimitError::ChunkExtensions.into()
        );
        // Chunks that carry data pay for their tags: a long stream runs on.
        let mut stream = Vec::new();
        for _ in 0..200 {
            stream.extend_from_slice(b"20;id=0123456789012345678901234567890123\r\n");
            stream.extend_from_slice(&[b'd'; 32]);
            stream.extend_from_slice(b"\r\n");
        }
        stream.extend_from_slice(b"0\r\n\r\n");
        let (body, _) = decode_all(&stream, 7, &small).expect("a tagged stream");
        assert_eq!(body.len(), 200 * 32);
        small.limits.body_size = Some(1);
        assert_eq!(
            decode_all(b"2\r\nxy\r\n0\r\n\r\n", 3, &small).expect_err("limit"),
            LimitError::BodySize.into()
        );
    }

    #[test]
    fn plain_chunks_split_anywhere() {
        // Plain lines take the fast path when whole, the general one when
        // split: same body, same limits, same errors, for every split.
        let input = b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n1\r\nz\r\n0\r\n\r\n";
        let config = Config::default();
        let mut limited = Config::default();
        limited.limits.body_size = Some(19);
        let mut lenient = Config::default();
        lenient.lenient.bare_lf = true;
        let bare = b"3\r\nabc\n2\r\nde\r\n0\r\n\r\n";
        for step in 1..=input.len() {
            let (body, trailers) = decode_all(input, step, &config).expect("valid");
            assert_eq!(body, b"abc0123456789abcdefz");
            assert!(trailers.is_none());
            assert_eq!(
                decode_all(input, step, &limited).expect_err("limit"),
                LimitError::BodySize.into()
            );
            assert_eq!(
                decode_all(bare, step, &config).expect_err("bare LF after data"),
                ProtocolError::MissingChunkCrlf.into()
            );
            let (body, _) = decode_all(bare, step, &lenient).expect("lenient");
            assert_eq!(body, b"abcde");
        }
    }

    #[test]
    fn lenient_bare_lf_in_chunks() {
        let mut config = Config::default();
        config.lenient.bare_lf = true;
        let (body, _) = decode_all(b"5\nhello\n0\n\n", 1, &config).expect("lenient");
        assert_eq!(body, b"hello");
    }
}
