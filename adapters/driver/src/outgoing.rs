//! What the driver reads of, or changes in, a response before the core
//! sends it: its status (a switch waits for the rest of the request body,
//! a 1xx is written at once) and, during a graceful shutdown, its
//! `connection: close`.
//!
//! The core's [`OutgoingResponse`] is sealed to `http::Response<()>` and
//! [`ResponseHead`] and shows nothing of a response, so the two types are
//! told apart here, the one place that does it.

use std::any::Any;

use h1::http::header::{HeaderValue, CONNECTION};
use h1::http::{Response, StatusCode};
use h1::{Misuse, OutgoingResponse, ResponseHead};

/// The status `res` carries.
pub(crate) fn status<R: OutgoingResponse + 'static>(res: &R) -> StatusCode {
    let res: &dyn Any = res;
    if let Some(res) = res.downcast_ref::<Response<()>>() {
        res.status()
    } else if let Some(head) = res.downcast_ref::<ResponseHead>() {
        head.status()
    } else {
        debug_assert!(false, "an OutgoingResponse of an unknown type");
        // A final response: no switch is waited for, nothing written early.
        StatusCode::OK
    }
}

/// Makes `res` say that the connection closes after it: its `connection`
/// field (or lines) replaced by `connection: close`.
pub(crate) fn add_close<R: OutgoingResponse + 'static>(res: &mut R) -> Result<(), Misuse> {
    let res: &mut dyn Any = res;
    if let Some(res) = res.downcast_mut::<Response<()>>() {
        res.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    } else if let Some(head) = res.downcast_mut::<ResponseHead>() {
        head.fields_mut().remove("connection");
        head.fields_mut().append("connection", "close")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_response_types_are_read_and_closed() {
        let mut res = Response::builder()
            .status(StatusCode::CREATED)
            .header("connection", "keep-alive")
            .body(())
            .expect("response");
        assert_eq!(status(&res), StatusCode::CREATED);
        add_close(&mut res).expect("close");
        assert_eq!(
            res.headers().get_all(CONNECTION).iter().collect::<Vec<_>>(),
            ["close"]
        );

        let mut head = ResponseHead::with_reason(StatusCode::ACCEPTED, "Taken").expect("reason");
        head.fields_mut()
            .append("Connection", "keep-alive")
            .expect("field");
        head.fields_mut().append("X-Kept", "1").expect("field");
        assert_eq!(status(&head), StatusCode::ACCEPTED);
        add_close(&mut head).expect("close");
        let lines: Vec<_> = head.fields().iter().map(|f| (f.name(), f.value())).collect();
        assert_eq!(lines, [(&b"X-Kept"[..], &b"1"[..]), (b"connection", b"close")]);
        assert_eq!(head.reason(), b"Taken");
    }
}
