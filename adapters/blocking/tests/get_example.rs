//! The `get` example's logic: URL parsing, and a fetch from a local server.

mod common;

#[path = "../examples/get.rs"]
mod get;

use std::io::Read;

use common::server;
use get::{parse_url, Target};
use h1::http::Response;
use h1_blocking::serve;

fn target(host: &str, port: u16, path: &str) -> Target {
    Target {
        host: host.into(),
        port,
        path: path.into(),
    }
}

#[test]
fn urls_are_parsed_by_hand() {
    let cases = [
        ("http://example.com", Ok(target("example.com", 80, "/"))),
        ("http://example.com/", Ok(target("example.com", 80, "/"))),
        (
            "http://example.com:8080/a/b?c=d",
            Ok(target("example.com", 8080, "/a/b?c=d")),
        ),
        ("http://example.com?q", Ok(target("example.com", 80, "/?q"))),
        ("http://example.com/x#frag", Ok(target("example.com", 80, "/x"))),
        ("http://127.0.0.1:1/", Ok(target("127.0.0.1", 1, "/"))),
        ("http://[::1]:8080/v6", Ok(target("[::1]", 8080, "/v6"))),
        ("http://[::1]/v6", Ok(target("[::1]", 80, "/v6"))),
    ];
    for (url, expected) in cases {
        assert_eq!(parse_url(url), expected, "{url}");
    }
    for bad in [
        "https://example.com/",
        "example.com",
        "http://:80/",
        "http://a:port/",
        "http://u@a/",
    ] {
        assert!(parse_url(bad).is_err(), "{bad} accepted");
    }
    assert_eq!(target("a", 80, "/").authority(), "a");
    assert_eq!(target("a", 81, "/").authority(), "a:81");
}

#[test]
fn get_prints_status_headers_and_body() {
    let (addr, handle) = server(1, |socket| {
        serve(socket, h1::Config::default(), |req, conn| {
            let host = req.headers()["host"].to_str().expect("host").to_string();
            let body = format!("{} {} host={host}", req.method(), req.uri());
            let res = Response::builder()
                .header("content-length", body.len())
                .header("date", "Thu, 01 Jan 1970 00:00:00 GMT")
                .header("x-a", "1")
                .body(())
                .expect("response");
            let mut rest = Vec::new();
            conn.body_receiver().read_to_end(&mut rest)?;
            conn.send_response(res)?;
            conn.send_data(body.into())?;
            conn.send_end()
        })
    });
    let mut out = Vec::new();
    get::get(&format!("http://{addr}/hello?x=1"), &mut out).expect("get");
    let out = String::from_utf8(out).expect("utf-8");
    let expected_body = format!("GET /hello?x=1 host={addr}");
    assert_eq!(
        out,
        format!(
            "HTTP/1.1 200 OK\ncontent-length: {}\ndate: Thu, 01 Jan 1970 00:00:00 GMT\nx-a: 1\n\n{expected_body}",
            expected_body.len()
        )
    );
    assert!(handle.join().expect("server")[0].is_ok());
}
