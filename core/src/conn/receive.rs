//! The receiving direction: bytes in, events out.

use bytes::{Buf, Bytes, BytesMut};
use http::StatusCode;

use super::state::{CloseReason, Input, Role, State};
use super::{Connection, Reader};
use crate::body::decode::{Decoded, Decoder};
use crate::error::{Error, Incomplete, LimitError, Misuse, ProtocolError};
use crate::event::Event;
use crate::head::parse;
use crate::head::scan::{Rules, Scanner};
use crate::semantics::{Framing, ResponseMeaning};

impl Connection {
    /// Hands in received bytes, copying them into the receive buffer.
    #[inline]
    pub fn receive(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.accepts_input(data.len())? {
            match data {
                // A peer that sends a byte at a time (a slow-head attack
                // does): stored without a call to copy it.
                [byte] => self.buf.extend_from_slice(&[*byte]),
                _ => self.buf.extend_from_slice(data),
            }
        }
        Ok(())
    }

    /// Hands in received bytes without copying when the receive buffer is
    /// empty and `data` is not shared (otherwise they are copied).
    pub fn receive_bytes(&mut self, data: Bytes) -> Result<(), Error> {
        if self.accepts_input(data.len())? {
            if self.buf.is_empty() {
                self.buf = BytesMut::from(data);
            } else {
                self.buf.extend_from_slice(&data);
            }
        }
        Ok(())
    }

    /// Hands in received bytes, taking the buffer without copying when the
    /// receive buffer is empty.
    pub fn receive_buf(&mut self, data: BytesMut) -> Result<(), Error> {
        if self.accepts_input(data.len())? {
            if self.buf.is_empty() {
                self.buf = data;
            } else {
                self.buf.extend_from_slice(&data);
            }
        }
        Ok(())
    }

    /// Signals that the peer closed its end: no more input will come.
    pub fn receive_eof(&mut self) -> Result<(), Error> {
        if self.upgrade_reported {
            return Err(Misuse::InputAfterSwitch.into());
        }
        self.eof = true;
        self.refresh_timer();
        Ok(())
    }

    /// Whether input of `len` bytes is to be kept, or refused.
    #[inline]
    fn accepts_input(&mut self, len: usize) -> Result<bool, Error> {
        if len == 0 {
            return Ok(false);
        }
        if self.eof {
            return Err(Misuse::InputAfterEof.into());
        }
        if self.upgrade_reported {
            return Err(Misuse::InputAfterSwitch.into());
        }
        // Nothing more will be parsed: keep memory bounded.
        Ok(!matches!(
            self.their_state(),
            State::MustClose | State::Closed | State::Error
        ))
    }

    /// The next event from the received bytes. Call it until it returns
    /// [`Event::NeedData`], [`Event::Paused`], [`Event::Finished`] or
    /// [`Event::Closed`]. Errors from the peer are sticky: once returned,
    /// they are returned again.
    #[inline]
    pub fn poll_event(&mut self) -> Result<Event, Error> {
        // A head arriving a few bytes at a time, inside its field lines:
        // nothing to decide but its length, and nothing the timer depends
        // on changes (the head had begun before these bytes came). The
        // scanner's own first step, taken here, inline.
        // (The reader is a head's only while their side is between
        // messages or awaited: see `after_send`.)
        if let Reader::Head(scanner) = &mut self.reader {
            if !self.eof && scanner.trickle(&self.buf, self.config.limits.head_size) {
                return Ok(Event::NeedData);
            }
        }
        self.poll_any_event()
    }

    #[inline(never)]
    fn poll_any_event(&mut self) -> Result<Event, Error> {
        // Body data plainly framed (most chunks of a chunked body): the
        // decoder's own first step, taken without the dispatch below.
        // (The reader is a body's only while their side sends one.)
        if let Reader::Body(decoder) = &mut self.reader {
            if let Some(data) = decoder.plain_data(&mut self.buf, &self.config) {
                return Ok(Event::Data(data));
            }
        }
        let result = self.next_event();
        self.refresh_timer();
        result
    }

    fn next_event(&mut self) -> Result<Event, Error> {
        match self.their_state() {
            State::Error => Err(self.sticky_error()),
            State::Closed => Ok(Event::Closed),
            State::SwitchedProtocol if !self.upgrade_reported => {
                self.upgrade_reported = true;
                self.reader = Reader::Idle;
                Ok(Event::Upgrade {
                    leftover: self.buf.split().freeze(),
                })
            }
            State::SwitchedProtocol => Ok(Event::Finished),
            State::Idle | State::SendResponse => {
                // A new message: after our answer completed the exchange,
                // the reader starts afresh.
                if !matches!(self.reader, Reader::Head(_)) {
                    self.reader = Reader::Head(Scanner::default());
                }
                self.read_head()
            }
            State::SendBody => self.read_body(),
            State::Done | State::MightSwitchProtocol => Ok(Event::Paused),
            State::MustClose => {
                self.buf.clear();
                self.reader = Reader::Idle;
                if self.role == Role::Server
                    && matches!(self.our_state(), State::SendResponse | State::SendBody)
                {
                    Ok(Event::Paused)
                } else if self.eof {
                    self.machine.apply(self.peer(), Input::Close);
                    Ok(Event::Closed)
                } else {
                    Ok(Event::Finished)
                }
            }
        }
    }

    fn sticky_error(&self) -> Error {
        match &self.error {
            Some(e) => e.clone(),
            None => unreachable!("their side is in Error only with its error recorded"),
        }
    }

    fn read_head(&mut self) -> Result<Event, Error> {
        let server = self.role == Role::Server;
        let awaited = server || self.their_state() == State::SendResponse;
        if !awaited && !self.buf.is_empty() {
            return Err(self.fail(ProtocolError::UnsolicitedResponse.into()));
        }
        if self.buf.is_empty() {
            if !self.eof {
                return Ok(Event::NeedData);
            }
            if !server && awaited {
                return Err(self.fail(Incomplete::NoResponse.into()));
            }
            self.machine.close(CloseReason::PeerClosed);
            self.machine.apply(self.peer(), Input::Close);
            self.reader = Reader::Idle;
            return Ok(Event::Closed);
        }
        if server {
            if let Some(event) = self.whole_request_head()? {
                return Ok(event);
            }
        }
        let limits = &self.config.limits;
        let rules = Rules {
            max_len: limits.head_size,
            max_fields: limits.header_count,
            start_line: true,
            // RFC 9112 section 2.2 (a server), and robustness (a client):
            // empty lines before a start line are skipped.
            skip_leading_empty: true,
            single_line: false,
            max_target: server.then_some(limits.request_target),
            bare_lf: self.config.lenient.bare_lf,
            too_long: LimitError::HeadSize,
        };
        let Reader::Head(scanner) = &mut self.reader else {
            unreachable!("a head is read only with the head reader")
        };
        let section = match scanner.scan(&self.buf, &rules) {
            Ok(Some(section)) => section,
            // Only empty lines before the end: nothing began (RFC 9112
            // section 2.2 lets them be ignored).
            Ok(None) if self.eof && only_empty_lines(&self.buf, rules.bare_lf) => {
                self.buf.clear();
                return self.read_head();
            }
            Ok(None) if self.eof => return Err(self.fail(Incomplete::Head.into())),
            Ok(None) => return Ok(Event::NeedData),
            Err(e) => return Err(self.fail(e)),
        };
        if !server {
            self.buf.advance(section.start);
            let raw = self.buf.split_to(section.end - section.start);
            return self.response_head(raw, section).map_err(|e| self.fail(e));
        }
        let head = &mut self.buf[..section.end];
        let index = &mut self.converter.index;
        let parsed = parse::check_request_line(head, section.start)
            .and_then(|()| parse::request(head, section.start, section.fields, &self.config, false, index));
        match parsed {
            Ok(Some(parsed)) => Ok(self.request_head(parsed)),
            Ok(None) => unreachable!("the scanner found a whole head"),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The common case, one step inside the general route: a whole request
    /// head is already buffered and is strict as it stands, so httparse
    /// alone finds its end, without the scanner. Anything else (a partial
    /// head, leading empty lines, a limit, a bare LF, what httparse
    /// refuses) is left to the scanner, which decides it; a head both
    /// routes accept gets the same verdict from the same rules.
    fn whole_request_head(&mut self) -> Result<Option<Event>, Error> {
        let Reader::Head(scanner) = &self.reader else {
            return Ok(None);
        };
        if !scanner.is_fresh() || matches!(self.buf.first(), Some(b'\r' | b'\n')) {
            return Ok(None);
        }
        let limits = &self.config.limits;
        // A head longer than the limit is the scanner's to decide: look no further.
        let window = &self.buf[..self.buf.len().min(limits.head_size)];
        let max_fields = limits.header_count.min(parse::STACK_FIELDS);
        match parse::request(
            window,
            0,
            max_fields,
            &self.config,
            true,
            &mut self.converter.index,
        ) {
            Ok(Some(parsed)) => Ok(Some(self.request_head(parsed))),
            Ok(None) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Reports the request head `parsed` describes, at the buffer's start.
    fn request_head(&mut self, parsed: parse::ParsedRequest) -> Event {
        let head = self.buf.split_to(parsed.len).freeze();
        let (head, meaning) = parsed.into_head(head);
        self.converter.index.seal(head.fields());
        self.heads_received += 1;
        let close = (!meaning.persists).then_some(if meaning.asked.http10 {
            CloseReason::Http10
        } else {
            CloseReason::PeerAskedClose
        });
        let accepted = self.machine.request(meaning.asked, close);
        debug_assert!(
            accepted,
            "a request head is read only while the client side is Idle"
        );
        self.reader = Reader::Body(Decoder::new(meaning.framing));
        Event::Request(head)
    }

    fn response_head(&mut self, raw: BytesMut, section: crate::head::scan::Section) -> Result<Event, Error> {
        let Some(exchange) = self.machine.answered() else {
            unreachable!("a response head is read only while a request waits for it")
        };
        let (head, meaning) = parse::response(
            raw,
            section,
            &exchange.asked,
            &self.config,
            &mut self.converter.index,
        )?;
        self.converter.index.seal(head.fields());
        self.heads_received += 1;
        match meaning {
            ResponseMeaning::Informational => {
                if head.status() == StatusCode::CONTINUE {
                    self.release_held();
                }
                self.machine.apply(Role::Server, Input::Informational);
                // The final response's head comes next: scan it afresh.
                self.reader = Reader::Head(Scanner::default());
                Ok(Event::Informational(head))
            }
            ResponseMeaning::Switch => {
                self.held = None;
                self.machine.apply(Role::Server, Input::Switch);
                self.reader = Reader::Idle;
                Ok(Event::Response(head))
            }
            ResponseMeaning::Final { framing, persists } => {
                let close = (!persists).then_some(if framing == Framing::CloseDelimited {
                    CloseReason::CloseDelimitedBody
                } else if head.version() == http::Version::HTTP_10 {
                    CloseReason::Http10
                } else {
                    CloseReason::PeerAskedClose
                });
                // Answered before the held body was released: it is never
                // sent (RFC 9110 section 10.1.1), so the connection cannot
                // carry another request.
                let unsent = self.held.take().is_some();
                if unsent {
                    self.machine.close(CloseReason::UnsentBody);
                }
                self.machine.response(close);
                if unsent {
                    self.encoder = None;
                    self.machine.apply(Role::Client, Input::Abandon);
                }
                self.reader = Reader::Body(Decoder::new(framing));
                Ok(Event::Response(head))
            }
        }
    }

    fn read_body(&mut self) -> Result<Event, Error> {
        let Reader::Body(decoder) = &mut self.reader else {
            unreachable!("a body is read only with the body reader")
        };
        match decoder.decode(&mut self.buf, self.eof, &self.config) {
            Ok(Decoded::Data(b)) => Ok(Event::Data(b)),
            Ok(Decoded::Trailers(t)) => Ok(Event::Trailers(t)),
            Ok(Decoded::NeedData) => Ok(Event::NeedData),
            Ok(Decoded::End) => {
                self.machine.apply(self.peer(), Input::End);
                self.reader = Reader::Idle;
                Ok(Event::End)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Records a receive error, makes it sticky, and returns it.
    pub(super) fn fail(&mut self, e: Error) -> Error {
        self.error = Some(e.clone());
        self.reader = Reader::Idle;
        self.machine.apply(self.peer(), Input::Error);
        self.machine.close(CloseReason::Error);
        e
    }

    /// Client: the held body goes out (a `100 Continue`, or its deadline).
    pub(super) fn release_held(&mut self) {
        if let Some(mut held) = self.held.take() {
            self.output.append(&mut held);
        }
    }
}

/// Whether `buf` holds nothing but whole empty lines (CRLF, or LF when
/// bare LF is accepted).
fn only_empty_lines(buf: &[u8], bare_lf: bool) -> bool {
    let mut rest = buf;
    loop {
        rest = match rest {
            [] => return true,
            [b'\r', b'\n', more @ ..] => more,
            [b'\n', more @ ..] if bare_lf => more,
            _ => return false,
        };
    }
}
