//! Sending bodies: the framing the connection chose, enforced. Body bytes
//! the caller hands in are queued as they are, never copied, unless they
//! are short enough to go next to their framing (see [`Output`]).

use bytes::Bytes;

use super::Output;
use crate::error::Misuse;
use crate::head::encode::{self, FieldsRef};

/// The sending half of a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoder {
    /// No body may follow the head.
    Bodiless,
    /// Exactly `declared` bytes, `remaining` still owed.
    Length { declared: u64, remaining: u64 },
    /// Chunked transfer coding.
    Chunked,
    /// Body runs until we close the connection.
    CloseDelimited,
}

impl Encoder {
    /// Queues body bytes.
    pub(crate) fn data(&mut self, data: Bytes, out: &mut Output) -> Result<(), Misuse> {
        if data.is_empty() {
            return Ok(()); // an empty chunk would end a chunked body
        }
        match self {
            Encoder::Bodiless => return Err(Misuse::BodyNotAllowed),
            Encoder::Length { declared, remaining } => {
                let n = data.len() as u64;
                if n > *remaining {
                    return Err(Misuse::BodyTooLong { declared: *declared });
                }
                *remaining -= n;
            }
            Encoder::Chunked => {
                let mut digits = [0u8; 16];
                let tail = out.tail();
                tail.extend_from_slice(encode::hex(data.len() as u64, &mut digits));
                tail.extend_from_slice(b"\r\n");
            }
            Encoder::CloseDelimited => {}
        }
        let chunked = *self == Encoder::Chunked;
        out.push(data);
        if chunked {
            out.tail().extend_from_slice(b"\r\n");
        }
        Ok(())
    }

    /// Ends the body, with trailers (already checked) if it is chunked.
    pub(crate) fn end(
        &mut self,
        trailers: Option<FieldsRef<'_>>,
        title_case: bool,
        out: &mut Output,
    ) -> Result<(), Misuse> {
        match self {
            Encoder::Length { remaining, .. } if *remaining > 0 => Err(Misuse::BodyTooShort {
                remaining: *remaining,
            }),
            Encoder::Chunked => {
                out.tail().extend_from_slice(b"0\r\n");
                match trailers {
                    Some(t) => encode::fields(out.tail(), 0, &[], t, &[], title_case),
                    None => out.tail().extend_from_slice(b"\r\n"),
                }
                Ok(())
            }
            _ if trailers.is_some() => Err(Misuse::TrailersNeedChunked),
            _ => Ok(()),
        }
    }
}
