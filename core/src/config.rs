//! Limits, leniency switches and timeouts: everything a connection is
//! configured with, strict by default.

use std::time::Duration;

/// How a [`Connection`](crate::Connection) is configured.
///
/// The default is strict RFC 9112 parsing with limits suited to a public
/// server. Every field is public so a configuration reads as a literal:
///
/// ```
/// let mut config = h1::Config::default();
/// config.limits.head_size = 16 * 1024;
/// config.lenient.bare_lf = true;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Byte and count limits on what the peer may send.
    pub limits: Limits,
    /// Places where RFC 9112 lets a recipient be lenient. All off by default.
    pub lenient: Leniency,
    /// How long each deadline lasts.
    pub timeouts: Timeouts,
    /// Client: what to do with obs-fold in a response (RFC 9112 section
    /// 5.2). A user agent MUST replace each fold with spaces, which is the
    /// default; a proxy may instead refuse the response (and answer 502).
    /// A request with obs-fold is always refused (400), which the section
    /// allows a server.
    pub response_obs_fold: ObsFold,
    /// Write field names that have no case of their own (those of `http`
    /// types, and the fields the connection adds) in title case:
    /// `Content-Length` rather than `content-length`, for peers that
    /// wrongly compare names with case (hyper's `title_case_headers`).
    /// Field lines of an h1 head keep the case they have.
    pub title_case_names: bool,
}

/// What a client does with obs-fold (a field value continued on the next
/// line, RFC 9112 section 5.2) in a response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObsFold {
    /// Replace each fold with spaces: the line reads as one (what a user
    /// agent MUST do).
    #[default]
    Unfold,
    /// Refuse the response as invalid (what a proxy may do, answering 502).
    Reject,
}

/// Limits on received messages, checked as bytes accumulate so that the
/// verdict never depends on how the input was split.
///
/// While a connection is reading, the bytes it holds are bounded by these
/// (see [`Connection::buffered_len`](crate::Connection::buffered_len)).
///
/// Each default is no tighter than what common servers accept, unless a
/// reason is given; the comparisons (defaults of nginx 1.27, Node.js 20,
/// Go `net/http`, hyper 1.x) are beside each field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest message head (start line, fields and the empty line, plus any
    /// empty lines before it), in bytes. Exceeding it is a 431.
    ///
    /// Default 64 KiB. nginx about 33 KiB (four 8 KiB buffers), Node 16 KiB,
    /// Go 1 MiB, hyper about 408 KiB. Tighter than Go and hyper on purpose:
    /// a peer that dribbles a head makes each connection hold this much
    /// until the head-read deadline passes.
    pub head_size: usize,
    /// Most field lines in a head, or in a trailer section. Exceeding it is
    /// a 431.
    ///
    /// Default 1000. nginx and Go: no count (bounded by the head size);
    /// Node keeps 1000 (of `maxHeadersCount` 2000, dropping the rest);
    /// hyper 100. A cap stays so that a head of tiny lines cannot make the
    /// per-line work many times the head's size.
    pub header_count: usize,
    /// Longest request-target, in bytes. Exceeding it is a 414.
    ///
    /// Measured as the request line after its first space, less the 9 bytes
    /// of `" HTTP/1.1"`, so it is exact for well-formed request lines and is
    /// decided as soon as enough bytes have arrived.
    ///
    /// Default 16 KiB (RFC 9112 section 3 asks for at least 8000). nginx
    /// 8 KiB (one buffer), Node 16 KiB (its whole head), Go 1 MiB, hyper
    /// 65,534 bytes.
    pub request_target: usize,
    /// Longest chunk-size line (size, extensions and CRLF), in bytes.
    ///
    /// Default 16 KiB. Node 16 KiB of extensions per chunk, Go 4 KiB lines,
    /// nginx no limit (it skips extensions unbuffered), hyper 16 KiB per
    /// body. The line is held until its end arrives, so it needs a bound.
    pub chunk_line: usize,
    /// Chunk-extension bytes a body may carry beyond what its data pays
    /// for (Go's rule): each chunk's extension bytes are added, 16 bytes
    /// plus twice its data size are taken off (never below zero), and the
    /// sum may not exceed this. A stream that tags every chunk runs for as
    /// long as it sends data; a peer that sends tiny chunks with large
    /// extensions (work without data, RFC 9112 section 7.1.1) is stopped.
    ///
    /// Default 16 KiB. Go the same rule and amount, Node 16 KiB per chunk,
    /// hyper 16 KiB per body, nginx no limit.
    pub chunk_extensions: usize,
    /// Largest trailer section, in bytes. Exceeding it is a 431.
    ///
    /// Default 16 KiB. Node counts trailers in its 16 KiB head, hyper
    /// 16 KiB, Go about 4 KiB (its read buffer), nginx discards them.
    pub trailer_size: usize,
    /// Largest body accepted, if any, in either role: a larger
    /// Content-Length is refused at once, a chunked or close-delimited
    /// body that grows past it as soon as it does. A server answers 413.
    ///
    /// Default none, as Node, Go and hyper (nginx's 1 MiB is a server's
    /// policy: the application sets it).
    pub body_size: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_size: 64 * 1024,
            header_count: 1000,
            request_target: 16 * 1024,
            chunk_line: 16 * 1024,
            chunk_extensions: 16 * 1024,
            trailer_size: 16 * 1024,
            body_size: None,
        }
    }
}

/// Leniency switches for the places where RFC 9112 allows a recipient to
/// accept what a sender must not produce. Every switch is off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leniency {
    /// Accept a bare LF as a line terminator in heads, chunk lines and
    /// trailers (RFC 9112 section 2.2: "MAY recognize a single LF").
    pub bare_lf: bool,
    /// Accept a Content-Length made of several identical values, such as
    /// `5, 5` or two `Content-Length: 5` lines (RFC 9110 section 8.6: "MAY
    /// either reject the message as invalid or replace ... with a single
    /// instance").
    pub identical_content_lengths: bool,
}

/// Durations of the deadlines. `None` disables a deadline. The first three
/// are the connection's own ([`Timer`](crate::Timer)): it says when each
/// applies, and its driver arms it. The last two concern only the IO,
/// which the core never sees: the drivers apply them. The core never
/// reads a clock.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Server: time allowed to receive a whole request head, counted from
    /// its first byte (or from the start of the connection for the first
    /// request), however slowly it is dribbled.
    pub head_read: Option<Duration>,
    /// Server: time a kept-alive connection may sit idle between requests.
    pub keep_alive: Option<Duration>,
    /// Client: how long a request with `Expect: 100-continue` holds its
    /// body back waiting for a `100 Continue` before sending it anyway.
    pub expect_continue: Option<Duration>,
    /// Drivers: how long a write may wait for a peer that does not read
    /// before the connection is closed.
    pub write: Option<Duration>,
    /// Client drivers: how long establishing a connection may take.
    pub connect: Option<Duration>,
}

impl Default for Timeouts {
    /// Head read 30 s, keep-alive 60 s, 100-continue 1 s, write 60 s,
    /// connect 30 s.
    fn default() -> Self {
        Timeouts {
            head_read: Some(Duration::from_secs(30)),
            keep_alive: Some(Duration::from_secs(60)),
            expect_continue: Some(Duration::from_secs(1)),
            write: Some(Duration::from_secs(60)),
            connect: Some(Duration::from_secs(30)),
        }
    }
}
